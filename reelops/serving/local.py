"""`make serve`: both BentoML services on the local profile, stopped together."""

from __future__ import annotations

import os
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from reelops.config import PROJECT_ROOT, Settings
from reelops.processes import start_group, stop, wait_for_http
from reelops.serving.keys import configured_keys

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
        "BENTOML_HOME": str(settings.bentoml_home),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    log_dir = settings.home / "serving-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    bentoml = str(Path(sys.executable).with_name("bentoml"))
    processes = []
    try:
        for name, target in SERVICES.items():
            args = [bentoml, "serve", target, "--host", "127.0.0.1", "--port", str(ports[name])]
            processes.append(start_group(args, env, log_dir / f"{name}.log"))
        for name in SERVICES:
            wait_for_http(f"http://127.0.0.1:{ports[name]}/readyz", what=f"the {name} service")
        yield ports
    finally:
        stop(processes)


def serve_forever(settings: Settings, ports: dict[str, int] | None = None) -> None:
    """Serve until Ctrl-C (or SIGTERM), then stop both services gracefully."""

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        with running_services(settings, ports) as ports:
            print(f"recommender: http://127.0.0.1:{ports['recommender']}/recommend")
            print(f"bitrate:     http://127.0.0.1:{ports['bitrate']}/bitrate")
            if settings.api_keys is None:
                print(f"API key (header X-API-Key): {configured_keys(settings)[0]}")
            print(f"logs: {settings.home / 'serving-logs'}; press Ctrl-C to stop")
            while True:
                time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping the services ...")
