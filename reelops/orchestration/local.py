"""`make airflow`, `make cluster`: every Airflow component and Celery worker, stopped together."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from reelops.config import (
    LOOPBACK,
    Settings,
    airflow_environ,
    airflow_passwords_file,
    airflow_user,
)
from reelops.orchestration import cluster
from reelops.orchestration.api import record_running
from reelops.orchestration.runs import airflow_bin, ensure_airflow_db
from reelops.processes import start_group, stop, wait_for_http

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def _start(component: str, env: dict[str, str], port: int, log_dir: Path) -> subprocess.Popen:
    args = [str(airflow_bin()), component]
    if component == "api-server":
        args += ["--host", LOOPBACK, "--port", str(port)]
    if component in ("scheduler", "triggerer"):
        # Airflow's log server binds every interface and has no host setting; with the
        # LocalExecutor the api-server reads the task logs from the shared log folder.
        args.append("--skip-serve-logs")
    return start_group(args, env, log_dir / f"{component}.log")


def wait_healthy(port: int, timeout_s: float = 180.0) -> None:
    """Block until the api-server answers its health check."""
    url = f"http://127.0.0.1:{port}/api/v2/monitor/health"
    wait_for_http(url, timeout_s, "Airflow's api-server")


def ensure_airflow_password(settings: Settings) -> Path | None:
    """Production profile: generate the OS user's Airflow password once, owner-only.

    Airflow's simple auth manager would generate it too, but print it to the
    api-server's log and leave the file readable by everyone; written here first
    (mode 0600 in a 0700 folder), Airflow only reads it. Returns the file, or None on
    the local profile (no login there).
    """
    if settings.profile != "production":
        return None
    path = airflow_passwords_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    passwords = json.loads(path.read_text() or "{}") if path.exists() else {}
    if airflow_user() not in passwords:
        passwords[airflow_user()] = secrets.token_urlsafe(18)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(json.dumps(passwords) + "\n")
    path.chmod(0o600)
    return path


@contextmanager
def running_airflow(settings: Settings, port: int, components=COMPONENTS, workers: int = 0):
    """Start Airflow's components and ``workers`` Celery workers; stop all of them on exit.

    The processes come in the order of ``components`` (the api-server first), then the
    workers in the order of :func:`cluster.worker_names`. While they run, the port is
    recorded in the Airflow home, so the CLI triggers its runs on this Airflow
    (:mod:`reelops.orchestration.dispatch`).

    Raises:
        ValueError: Workers asked for without the CeleryExecutor (see the settings).
    """
    cluster.check_workers(settings, workers)
    ensure_airflow_db(settings)
    ensure_airflow_password(settings)
    env = {
        **os.environ,
        **airflow_environ(settings),
        # Task runners reach the execution API on the api-server's port, whichever it is.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
    }
    log_dir = settings.airflow_home / "logs" / "components"
    log_dir.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen] = []
    record: Path | None = None
    try:
        # The api-server first: the scheduler may queue a task at once (a run due, or
        # one left queued), and a task started before the execution API answers fails.
        ordered = sorted(components, key=lambda c: c != "api-server")
        processes.append(_start(ordered[0], env, port, log_dir))
        if ordered[0] == "api-server":
            wait_healthy(port)
        for component in ordered[1:]:
            processes.append(_start(component, env, port, log_dir))
        names = cluster.worker_names(settings, workers)
        for name in names:
            processes.append(cluster.start_worker(settings, name, env, log_dir))
        wait_healthy(port)
        for name, proc in zip(names, processes[len(components) :], strict=True):
            cluster.wait_ready(name, proc, cluster.worker_log(log_dir, name))
        record = record_running(settings, port)
        yield processes
    finally:
        if record is not None:
            record.unlink(missing_ok=True)
        # A task still running has a process group of its own: stopped after its worker.
        tasks = cluster.task_groups(processes[len(components) :])
        stop(processes)
        cluster.kill_groups(tasks)


def serve_forever(settings: Settings, port: int, workers: int = 0) -> None:
    """Run Airflow until Ctrl-C (or SIGTERM), then stop every process it started."""
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    names = [*COMPONENTS, *(f"celery worker {n}" for n in cluster.worker_names(settings, workers))]
    print(f"starting Airflow ({', '.join(names)}) with home {settings.airflow_home} ...")
    try:
        with running_airflow(settings, port, workers=workers) as processes:
            if settings.profile == "production":
                password = airflow_passwords_file(settings)
                login = f"log in as {airflow_user()!r}, password in {password}"
            else:
                login = "no login on the local profile"
            print(f"Airflow is up: http://127.0.0.1:{port}  ({login})")
            print(f"component logs: {settings.airflow_home / 'logs' / 'components'}")
            if workers:
                print(f"workers: {', '.join(cluster.worker_names(settings, workers))}; see them:")
                print('  eval "$(.venv/bin/reelops env)"')
                print(f"  celery --app {cluster.CELERY_APP} inspect active")
            print("press Ctrl-C to stop")
            while all(p.poll() is None for p in processes):
                time.sleep(1)
            dead = [c for c, p in zip(names, processes, strict=True) if p.poll() is not None]
            print(f"stopping: {', '.join(dead)} exited")
    except KeyboardInterrupt:
        print("\nstopping Airflow ...")
    print("Airflow stopped")
