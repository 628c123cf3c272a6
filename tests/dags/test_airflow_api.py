"""A real Airflow api-server on the local profile lists the project's DAGs, no import errors."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from reelops.orchestration.local import running_airflow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_api_server_lists_project_dags_without_import_errors(settings):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with running_airflow(settings, port, components=("api-server", "dag-processor")) as procs:
        token = httpx.get(f"{base}/auth/token", timeout=10).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        dag_ids: list[str] = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and "reelops_daily" not in dag_ids:
            time.sleep(2)
            body = httpx.get(f"{base}/api/v2/dags", headers=headers, timeout=10).json()
            dag_ids = [d["dag_id"] for d in body["dags"]]
        errors = httpx.get(f"{base}/api/v2/importErrors", headers=headers, timeout=10).json()
        assert all(p.poll() is None for p in procs)
    assert "reelops_daily" in dag_ids
    assert errors["total_entries"] == 0, errors
    assert not any(d.startswith("example_") for d in dag_ids)
    for proc in procs:  # every component was stopped with its process group
        assert proc.poll() is not None
