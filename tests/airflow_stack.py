"""Real Airflow components for tests: a free port, the running stack and its logged-in API."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from reelops.config import Settings
from reelops.orchestration import local
from reelops.orchestration.api import AirflowApi

SCHEDULING = ("api-server", "scheduler", "dag-processor")


def free_port() -> int:
    """A TCP port nothing listens on right now (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait(what: str, probe: Callable[[], Any], timeout_s: float = 300.0, every_s: float = 2.0):
    """``probe()`` until it returns something other than None; that value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (found := probe()) is not None:
            return found
        time.sleep(every_s)
    raise TimeoutError(f"waited {timeout_s:.0f} s for {what}")


@contextmanager
def airflow_stack(
    settings: Settings, components: tuple[str, ...] = SCHEDULING, workers: int = 0
) -> Iterator[tuple[AirflowApi, list]]:
    """Airflow's ``components`` for ``settings``' home on a free port, and the API logged in.

    ``workers`` Celery workers come after the components in the process list (the
    CeleryExecutor's settings only). Every process is stopped (with its process group)
    when the block ends.
    """
    port = free_port()
    with local.running_airflow(settings, port, components, workers) as processes:
        yield AirflowApi.login(settings, port), processes


def pause_all_but(api: AirflowApi, dag_ids: Iterable[str], keep: str) -> None:
    """Pause every DAG of ``dag_ids`` but ``keep`` once the dag-processor lists it.

    A test about one DAG must not have the scheduler start the others (the training
    DAGs start on the Asset events the daily DAG publishes).
    """
    for dag_id in dag_ids:
        if dag_id != keep:
            api.wait_for_dag(dag_id)
            api.client.patch(f"/dags/{dag_id}", json={"is_paused": True}).raise_for_status()


def lake_digests(settings: Settings, source: str = "world") -> dict[str, str]:
    """SHA-256 of every parquet file in the source's lake, by path inside it."""
    lake = settings.lake_dir(source)
    return {
        str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(lake.rglob("*.parquet"))
    }


def finished_run(api: AirflowApi, dag_id: str, run_id: str) -> str | None:
    """A probe for :func:`wait`: the run's final state, or None while it runs."""
    state = api.dag_run(dag_id, run_id)["state"]
    return state if state in ("success", "failed") else None
