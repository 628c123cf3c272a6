"""Locks: one lock file per folder, and the home's lock that runs which write take."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from reelops.config import Settings

HOME_LOCK_FILE = ".run.lock"

# Locks this process holds (path -> depth): a run inside a command that already holds the
# home's lock (``pipeline run --daily`` runs several DAG runs) must not wait for itself.
_held: dict[Path, int] = {}
_held_guard = threading.Lock()


class HomeBusyError(RuntimeError):
    """Another process holds the home's lock; the message names it."""


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (its ``.lock`` file) for the block."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def describe_holder(path: Path) -> str:
    """Who holds (or last held) the lock at ``path``, from what it recorded."""
    try:
        holder = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        holder = {}
    if not holder:
        return "another process (it recorded nothing yet)"
    return f"pid {holder.get('pid')} ({holder.get('command')}, since {holder.get('started')})"


def _wait_for_record(path: Path, patience_s: float = 2.0) -> str:
    """The holder's description, once it has recorded itself.

    A holder writes its record just after taking the lock, so a process that arrives in
    that instant finds the file still empty; waiting a moment lets the message name it.
    """
    deadline = time.monotonic() + patience_s
    while True:
        holder = describe_holder(path)
        if holder.startswith("pid ") or time.monotonic() >= deadline:
            return holder
        time.sleep(0.05)


@contextlib.contextmanager
def home_lock(settings: Settings, what: str, *, wait: bool = True) -> Iterator[None]:
    """Hold the home's lock while a run that writes (pipeline, warehouse, training) runs.

    One such run at a time per ``REELOPS_HOME``: two at once would land, build and
    materialize over each other. The holder records its pid, command and start time in
    ``<home>/.run.lock``; the operating system releases the lock when the holder dies,
    so a killed run never blocks the next one.

    Args:
        settings: Whose home.
        what: The command, as the waiting process shows it (e.g. ``pipeline run``).
        wait: Wait for the holder to finish (the default, after saying who it is), or
            raise :class:`HomeBusyError` at once.

    Raises:
        HomeBusyError: ``wait`` is False and another process holds the lock.
    """
    settings.home.mkdir(parents=True, exist_ok=True)
    path = (settings.home / HOME_LOCK_FILE).resolve()
    with _held_guard:
        if path in _held:
            _held[path] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _held_guard:
                _held[path] -= 1
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _wait_for_record(path)
            if not wait:
                raise HomeBusyError(
                    f"{settings.home} is busy: {holder} holds its lock; wait for it to "
                    "finish (a killed run frees the lock by itself)"
                ) from None
            print(f"{what}: waiting for {holder} to finish with {settings.home}", file=sys.stderr)
            fcntl.flock(fd, fcntl.LOCK_EX)
        record = {
            "pid": os.getpid(),
            "command": what,
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        with _held_guard:
            _held[path] = 1
        try:
            yield
        finally:
            with _held_guard:
                del _held[path]
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
