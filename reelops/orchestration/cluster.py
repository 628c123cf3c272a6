"""Celery workers of `make cluster`: their names, their processes, and killing one as a fault.

Each worker is a Celery node named ``<queue>-<n>@<this host>``; the same name is the
hostname its task instances report (Airflow's ``hostname_callable`` is
:func:`worker_hostname` in the workers), so the UI and the REST API show which worker
ran each try, and ``celery inspect`` shows the same names.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil

from reelops.config import Settings
from reelops.orchestration.runs import airflow_bin
from reelops.processes import start_group

HOSTNAME_ENV = "REELOPS_WORKER_HOSTNAME"
CELERY_APP = "airflow.providers.celery.executors.celery_executor.app"


def worker_hostname() -> str:
    """The hostname task instances record: the Celery node's name in a worker, else the FQDN."""
    return os.environ.get(HOSTNAME_ENV) or socket.getfqdn()


def worker_names(settings: Settings, workers: int) -> list[str]:
    """The Celery node names of ``workers`` workers on this machine, 1-based."""
    host = socket.getfqdn()
    return [f"{settings.celery_queue}-{n}@{host}" for n in range(1, workers + 1)]


def check_workers(settings: Settings, workers: int) -> None:
    """Refuse a worker count the executor cannot use, saying what to set.

    Raises:
        ValueError: Workers asked for without the CeleryExecutor, or a negative count.
    """
    if workers < 0:
        raise ValueError(f"--workers must be 0 or more, got {workers}")
    if workers and settings.airflow_executor != "CeleryExecutor":
        raise ValueError(
            f"{workers} Celery worker(s) asked for, but the executor is "
            f"{settings.airflow_executor}: set REELOPS_PROFILE=production and "
            "REELOPS_AIRFLOW_EXECUTOR=CeleryExecutor (or use `make cluster`)"
        )


def start_worker(
    settings: Settings, name: str, env: dict[str, str], log_dir: Path
) -> subprocess.Popen:
    """Start one Celery worker serving the settings' queue, its output in ``log_dir``."""
    args = [str(airflow_bin()), "celery", "worker", "--celery-hostname", name]
    # Airflow's log server binds every interface on a fixed port (two workers on one
    # machine would clash); the api-server reads the task logs from the shared folder.
    args += ["--queues", settings.celery_queue, "--concurrency", "1", "--skip-serve-logs"]
    worker_env = {
        **env,
        HOSTNAME_ENV: name,
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.worker_hostname",
    }
    return start_group(args, worker_env, worker_log(log_dir, name))


def worker_log(log_dir: Path, name: str) -> Path:
    """Where a worker's output goes."""
    return log_dir / f"celery-worker-{name.split('@')[0]}.log"


def wait_ready(name: str, proc: subprocess.Popen, log: Path, timeout_s: float = 180.0) -> None:
    """Block until the worker says it is ready (connected to the broker, serving its queue).

    Raises:
        RuntimeError: The worker exited first (its log says why).
        TimeoutError: It did not get ready in time.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            code = proc.returncode
            raise RuntimeError(f"Celery worker {name} exited with code {code}; see {log}")
        if f"{name} ready." in log.read_text(errors="replace"):
            return
        time.sleep(0.5)
    raise TimeoutError(f"Celery worker {name} not ready within {timeout_s:.0f} s; see {log}")


def task_groups(processes: list[subprocess.Popen]) -> set[int]:
    """Process groups below ``processes`` other than their own (Airflow's task runners).

    Airflow starts each task in a process group of its own, so signalling a worker's
    group does not reach the task it is running.
    """
    own = {proc.pid for proc in processes}
    groups = set()
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(proc.pid).children(recursive=True):
                with contextlib.suppress(psutil.Error, ProcessLookupError):
                    groups.add(os.getpgid(child.pid))
    return groups - own


def kill_groups(groups: set[int]) -> None:
    """SIGKILL every process group in ``groups`` that is still there."""
    for group in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)


def kill_worker(proc: subprocess.Popen) -> None:
    """Kill a worker as a lost host would lose it: it and its running task, at once, SIGKILL."""
    groups = task_groups([proc]) | {proc.pid}
    kill_groups(groups)
    proc.wait()
