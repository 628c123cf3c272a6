"""Route a process's output (its own, its libraries', its subprocesses') to log files.

An in-process DAG run prints a great deal: Airflow's scheduling loop, every task's
logs, dbt's and Feast's output. :class:`OutputRouter` takes over file descriptors 1
and 2 for the run, so everything written there (by Python, C extensions or child
processes) lands in the run's log, and in the current task's log file while a task
runs; the console keeps only what :meth:`OutputRouter.echo` writes, plus a copy of
everything when ``verbose``.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import BinaryIO

SYNC = b"\x00reelops-output-sync\x00\n"


class OutputRouter:
    """While open, fds 1 and 2 go to a log file (and the console if ``verbose``).

    Args:
        log_path: The run's log; created, appended to.
        verbose: Also copy everything to the console as it comes.
    """

    def __init__(self, log_path: Path, verbose: bool = False):
        self.log_path = log_path
        self.verbose = verbose
        self._task_file: BinaryIO | None = None
        self._synced = threading.Event()
        self._lock = threading.Lock()

    def __enter__(self) -> OutputRouter:
        self._flush()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in __exit__
        self._console = os.dup(1)
        self._saved_err = os.dup(2)
        read, self._write = os.pipe()
        os.dup2(self._write, 1)
        os.dup2(self._write, 2)
        self._reader = threading.Thread(target=self._pump, args=(read,), daemon=True)
        self._reader.start()
        return self

    def __exit__(self, *exc) -> None:
        self._sync()
        os.dup2(self._console, 1)
        os.dup2(self._saved_err, 2)
        os.close(self._write)  # the last writer: the pump sees end of file
        self._reader.join(timeout=10)
        os.close(self._console)
        os.close(self._saved_err)
        self._log.close()

    def echo(self, line: str) -> None:
        """Write a line to the console (and the run's log), whatever else is routed."""
        self._sync()
        data = (line + "\n").encode()
        with self._lock:
            self._log.write(data)
            self._log.flush()
            os.write(self._console, data)

    def to_file(self, path: Path | None) -> None:
        """From now on also copy output to ``path`` (a task's log), or stop with None."""
        self._sync()
        with self._lock:
            if self._task_file is not None:
                self._task_file.close()
                self._task_file = None
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._task_file = open(path, "ab")  # noqa: SIM115 - closed on the next switch

    @staticmethod
    def _flush() -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass

    def _sync(self) -> None:
        """Wait until everything written so far has been routed."""
        self._flush()
        self._synced.clear()
        os.write(self._write, SYNC)
        self._synced.wait(timeout=10)

    def _pump(self, read: int) -> None:
        pending = b""
        with os.fdopen(read, "rb", buffering=0) as source:
            while chunk := source.read(65536):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.endswith(SYNC[:-1]):  # after any unfinished line's start
                        if head := line[: -len(SYNC) + 1]:
                            self._route(head)
                        self._synced.set()
                    else:
                        self._route(line + b"\n")
            if pending:
                self._route(pending)

    def _route(self, data: bytes) -> None:
        with self._lock:
            self._log.write(data)
            self._log.flush()
            if self._task_file is not None:
                self._task_file.write(data)
                self._task_file.flush()
            if self.verbose:
                os.write(self._console, data)
