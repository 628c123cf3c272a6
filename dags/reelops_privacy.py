"""Privacy DAG: carry out members' queued erasure requests, once a day."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task


@dag(
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["reelops", "privacy"],
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    doc_md="""
### ReelOps privacy
Carries out the erasure requests queued with `reelops privacy erase --member ID --queue`
(and resumes interrupted or failed ones): each member is removed from every store the
scanner knows, a tombstone keeps them out of later landings, and each request's state
is recorded in its file under `REELOPS_HOME/privacy/requests/` and, once done, in the
audit log `REELOPS_HOME/privacy/audit.jsonl`.
""",
)
def reelops_privacy():
    @task
    def process_erasures(**context):
        from reelops.orchestration.privacy import process_erasures

        return process_erasures(**context)

    process_erasures()


reelops_privacy()
