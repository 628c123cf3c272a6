"""Serving logs DAG: compact a day's prediction logs into one file, then publish them."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from reelops.orchestration.assets import SERVING_LOGS


@dag(
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    params={
        "start": Param(None, type=["null", "string"], title="Start", description="YYYY-MM-DD."),
        "end": Param(None, type=["null", "string"], title="End", description="Exclusive."),
    },
    tags=["reelops", "serving", "monitoring"],
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    doc_md="""
### ReelOps serving logs
After each day, rewrites the day's many small prediction-log files (one per flush of
each service process) as one file, checking that every row is kept, and publishes the
serving logs' Asset for the day, which starts `reelops_monitor`. Params `start`/`end`
cover other days (e.g. simulated ones).
""",
)
def reelops_serving_logs():
    @task(outlets=[SERVING_LOGS])
    def compact(**context):
        from reelops.orchestration.monitor import compact_logs

        return compact_logs(**context)

    compact()


reelops_serving_logs()
