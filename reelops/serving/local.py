"""`make serve`: both BentoML services on the local profile, stopped together.

Each service gets its own Prometheus multiprocess folder (``REELOPS_HOME/prometheus/<name>``).
BentoML derives that folder from its home alone, and both services share one home (the
model store), so each would show the other's series on ``/metrics`` and the second to start
would wipe the first's files. ``python -m reelops.serving.local <folder> <bentoml args>``
sets the folder in BentoML's container, then runs the ``bentoml`` command line; the
workers it starts inherit the folder as ``PROMETHEUS_MULTIPROC_DIR``.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from reelops.config import PROJECT_ROOT, Settings
from reelops.processes import start_group, stop, wait_for_http
from reelops.serving.keys import HEADER, configured_keys
from reelops.serving.production import DEGRADED

SERVICES = {"recommender": "serving.service:Recommender", "bitrate": "serving.service:Bitrate"}
DEFAULT_PORTS = {"recommender": 3000, "bitrate": 3001}


@contextmanager
def running_services(settings: Settings, ports: dict[str, int] | None = None):
    """Start both services (`bentoml serve`), wait until ready, stop both on exit."""
    ports = ports or DEFAULT_PORTS
    env = {
        **os.environ,
        "REELOPS_HOME": str(settings.home),
        "REELOPS_PROFILE": settings.profile,
        "REELOPS_SERVING_WORKERS": str(settings.serving_workers),
        "BENTOML_HOME": str(settings.bentoml_home),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    log_dir = settings.home / "serving-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    processes = []
    try:
        for name, target in SERVICES.items():
            args = serve_command(settings, name, target, ports[name])
            processes.append(start_group(args, env, log_dir / f"{name}.log"))
        for name in SERVICES:
            wait_for_http(f"http://127.0.0.1:{ports[name]}/readyz", what=f"the {name} service")
        yield ports
    finally:
        stop(processes)


def metrics_dir(settings: Settings, name: str) -> Path:
    """The Prometheus multiprocess folder of one service."""
    return settings.home / "prometheus" / name


def serve_command(settings: Settings, name: str, target: str, port: int) -> list[str]:
    """``bentoml serve`` for one service, with a metrics folder of its own."""
    return [
        sys.executable,
        "-m",
        "reelops.serving.local",
        str(metrics_dir(settings, name)),
        "serve",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def _bentoml_with_metrics_dir(argv: list[str]) -> None:
    from bentoml._internal.configuration.containers import BentoMLContainer
    from bentoml_cli.cli import cli

    folder, *args = argv
    Path(folder).mkdir(parents=True, exist_ok=True)
    BentoMLContainer.prometheus_multiproc_dir.set(folder)
    cli(args)


def service_readiness(settings: Settings, ports: dict[str, int]) -> dict[str, str]:
    """Each running service's readiness as ``/model-info`` reports it."""

    headers = {HEADER: configured_keys(settings)[0]}
    out = {}
    for name in SERVICES:
        url = f"http://127.0.0.1:{ports[name]}/model-info"
        try:
            out[name] = str(
                httpx.post(url, json={}, headers=headers, timeout=10).json()["readiness"]
            )
        except (httpx.HTTPError, ValueError, KeyError) as error:
            out[name] = f"unknown ({type(error).__name__})"
    return out


def serve_forever(settings: Settings, ports: dict[str, int] | None = None) -> None:
    """Serve until Ctrl-C (or SIGTERM), then stop both services gracefully."""

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        with running_services(settings, ports) as ports:
            print(f"recommender: http://127.0.0.1:{ports['recommender']}/recommend")
            print(f"bitrate:     http://127.0.0.1:{ports['bitrate']}/bitrate")
            if settings.api_keys is None:
                print(f"API key (header X-API-Key): {configured_keys(settings)[0]}")
            for name, readiness in service_readiness(settings, ports).items():
                if readiness.startswith(DEGRADED):
                    print(f"{name}: FALLBACK MODE, {readiness.removeprefix(DEGRADED).strip()}")
            print(f"logs: {settings.home / 'serving-logs'}; press Ctrl-C to stop")
            while True:
                time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping the services ...")


if __name__ == "__main__":
    _bentoml_with_metrics_dir(sys.argv[1:])
