"""Long-running child processes (Airflow components, BentoML services), stopped as groups."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx


def start_group(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start ``args`` as the leader of a new process group, output appended to ``log``."""
    out = open(log, "ab")  # noqa: SIM115 - owned by the process
    # Its own group, so that stopping it reaches the workers it forks too.
    return subprocess.Popen(
        args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(processes: list[subprocess.Popen], grace_s: float = 20.0) -> None:
    """Signal every process's whole group (SIGTERM), then kill what is left."""
    for proc in processes:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for proc in processes:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for proc in processes:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def wait_for_http(url: str, timeout_s: float = 180.0, what: str = "the server") -> None:
    """Block until ``url`` answers 200, or raise TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{what} did not answer {url} within {timeout_s:.0f} s")
