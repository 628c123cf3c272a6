"""A real Airflow api-server on the local profile lists the project's DAGs, no import errors."""

from __future__ import annotations

import pytest
from airflow_stack import airflow_stack

# Every DAG of dags/, as the UI must list it.
PROJECT_DAGS = {
    "reelops_daily",
    "reelops_ranker",
    "reelops_bitrate",
    "reelops_artwork",
    "reelops_privacy",
    "reelops_content",
    "reelops_monitor",
    "reelops_serving_logs",
}


@pytest.mark.slow
def test_api_server_lists_project_dags_without_import_errors(settings):
    with airflow_stack(settings, components=("api-server", "dag-processor")) as (api, procs):
        for dag_id in sorted(PROJECT_DAGS):
            api.wait_for_dag(dag_id)
        dag_ids = [d["dag_id"] for d in api.client.get("/dags").json()["dags"]]
        errors = api.client.get("/importErrors").json()
        assert all(p.poll() is None for p in procs)
    assert PROJECT_DAGS <= set(dag_ids)
    assert errors["total_entries"] == 0, errors
    assert not any(d.startswith("example_") for d in dag_ids)
    for proc in procs:  # every component was stopped with its process group
        assert proc.poll() is not None
