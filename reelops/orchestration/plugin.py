"""The ReelOps Airflow plugin: evidence pages in the UI, and each run's gate table as a note.

Registered through the ``airflow.plugins`` entry point (pyproject.toml), so every
Airflow component of this environment loads it:

* the API server mounts :mod:`reelops.reports.app` under ``/reelops`` behind Airflow's
  own login (the JWT cookie the UI sets), adds "ReelOps evidence" to the navigation,
  and an "Evidence" tab to every DAG run, which opens that run's gate report;
* the scheduler (and in-process runs) call :mod:`reelops.orchestration.evidence_notes`
  when a run ends, which copies the ``gates`` task's Markdown into that task's note.
"""

from __future__ import annotations

from airflow.api_fastapi.core_api.security import get_user
from airflow.models.xcom import XComModel
from airflow.plugins_manager import AirflowPlugin
from airflow.utils.session import create_session
from fastapi import Depends

from reelops.orchestration import evidence_notes
from reelops.orchestration.release_tail import GATES
from reelops.quality.gates import REPORTS_URL
from reelops.reports.app import create_app


def versions_of_run(dag_id: str, run_id: str) -> list[tuple[str, str]]:
    """The ``(model, version)`` a DAG run's ``gates`` task judged, if it has one."""
    with create_session() as session:
        rows = session.scalars(
            XComModel.get_many(run_id=run_id, dag_ids=dag_id, task_ids=GATES, key="return_value")
        ).all()
        results = [XComModel.deserialize_value(row) for row in rows]
    return [(r["model"], r["version"]) for r in results if isinstance(r, dict) and "version" in r]


class ReelOpsPlugin(AirflowPlugin):
    """Evidence pages, their navigation entry and run tab, and the gate-note listener."""

    name = "reelops"
    fastapi_apps = [
        {
            "app": create_app(dependencies=[Depends(get_user)], run_lookup=versions_of_run),
            "url_prefix": REPORTS_URL,
            "name": "ReelOps evidence",
        }
    ]
    external_views = [
        {
            "name": "ReelOps evidence",
            "href": f"{REPORTS_URL.lstrip('/')}/",
            "destination": "nav",
            "url_route": "reelops-evidence",
        },
        {
            "name": "Evidence",
            "href": f"{REPORTS_URL.lstrip('/')}/runs/{{DAG_ID}}/{{RUN_ID}}",
            "destination": "dag_run",
            "url_route": "reelops-run-evidence",
        },
    ]
    listeners = [evidence_notes]
