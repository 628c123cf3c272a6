"""Monitoring DAG: drift, prediction drift and outcomes of each served model for one day."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task

from reelops.orchestration.assets import RETRAIN_REQUESTED, SERVING_LOGS


@dag(
    schedule=[SERVING_LOGS],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    params={
        "day": Param(
            None,
            type=["null", "string"],
            title="Day",
            description="The day to check (YYYY-MM-DD). Empty: the serving logs' event's.",
        )
    },
    tags=["reelops", "monitoring"],
    default_args={"retries": 1, "retry_delay": timedelta(minutes=1)},
    doc_md="""
### ReelOps monitoring
Runs when a day of serving logs is published. For the ranker and the bitrate model:
Evidently feature drift of the day's inputs against the last days of the production
version's training interval (everyone and each country), prediction drift against
the previous days' answers, and outcomes by model version and country (NDCG@10, hit
rate and completion of the served recommendations; QoE and rebuffering of the played
sessions). The `check` task's log lists every check and the HTML reports' paths. A
failed check publishes `reelops_retrain_requested`, on which both training DAGs run.
`decide_canaries` judges a live canary on the last 7 days' outcomes against production
and promotes it, rolls it back or keeps it going (audited; `reelops models canary status`).
""",
)
def reelops_monitor():
    @task
    def check(**context):
        from reelops.orchestration.monitor import check

        return check(**context)

    @task(outlets=[RETRAIN_REQUESTED])
    def request_retrain(checked: dict, **context):
        from reelops.orchestration.monitor import request_retrain

        return request_retrain(checked, **context)

    @task
    def decide_canaries(checked: dict, **context):
        from reelops.orchestration.monitor import decide_canaries

        return decide_canaries(checked, **context)

    checked = check()
    request_retrain(checked)
    decide_canaries(checked)


reelops_monitor()
