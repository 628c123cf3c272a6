"""`make airflow`: every Airflow component on the local profile, stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from reelops.config import LOOPBACK, Settings, airflow_environ
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


@contextmanager
def running_airflow(settings: Settings, port: int, components=COMPONENTS):
    """Start Airflow's components; stop all of them on exit, however it is left."""
    ensure_airflow_db(settings)
    env = {
        **os.environ,
        **airflow_environ(settings),
        # Task runners reach the execution API on the api-server's port, whichever it is.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
    }
    log_dir = settings.airflow_home / "logs" / "components"
    log_dir.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen] = []
    try:
        for component in components:
            processes.append(_start(component, env, port, log_dir))
        wait_healthy(port)
        yield processes
    finally:
        stop(processes)


def serve_forever(settings: Settings, port: int) -> None:
    """Run Airflow until Ctrl-C (or SIGTERM), then stop every process it started."""
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    print(f"starting Airflow ({', '.join(COMPONENTS)}) with home {settings.airflow_home} ...")
    try:
        with running_airflow(settings, port) as processes:
            print(f"Airflow is up: http://127.0.0.1:{port}  (no login on the local profile)")
            print(f"component logs: {settings.airflow_home / 'logs' / 'components'}")
            print("press Ctrl-C to stop")
            while all(p.poll() is None for p in processes):
                time.sleep(1)
            dead = [c for c, p in zip(COMPONENTS, processes, strict=True) if p.poll() is not None]
            print(f"stopping: {', '.join(dead)} exited")
    except KeyboardInterrupt:
        print("\nstopping Airflow ...")
    print("Airflow stopped")
