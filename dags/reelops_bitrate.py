"""Bitrate training DAG: training set (marts + Feast), train, evaluate, candidate, release."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from reelops.orchestration.assets import ONLINE_FEATURES, RETRAIN_REQUESTED
from reelops.orchestration.release_tail import release_tasks, training_params


@dag(
    schedule=ONLINE_FEATURES | RETRAIN_REQUESTED,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    params=training_params(),
    tags=["reelops", "training", "bitrate"],
    default_args={"retries": 1, "retry_delay": timedelta(minutes=2)},
    doc_md="""
### ReelOps bitrate predictor
Runs when the daily DAG has refreshed the online features, or when the monitoring
DAG asks for retraining (`reelops_retrain_requested`). Builds the training set
from `fct_delivery_samples` joined point-in-time with the `bitrate_v1` feature
service, fits the XGBoost quantile grid of `models/bitrate.yaml` and chooses the
model and MPC mode on validation traces, plays every ABR policy on the test traces
in one run, and saves the model as a registry *candidate* with its metrics and
lineage. Then the release tail: quality, drift and bias gates against the production
model, approval (`auto`, or a person answers the `approval` task when `human`),
and promotion or rejection. A run's `conf` may carry `approval` (overrides the
spec's) and `spec` (another spec file, for tests).
""",
)
def reelops_bitrate():
    @task
    def training_set(**context):
        from reelops.orchestration.bitrate import training_set

        return training_set(**context)

    @task
    def train(prepared: dict, **context):
        from reelops.orchestration.bitrate import train

        return train(prepared, **context)

    @task
    def evaluate(trained: dict, **context):
        from reelops.orchestration.bitrate import evaluate

        return evaluate(trained, **context)

    @task
    def save_candidate(evaluated: dict, **context):
        from reelops.orchestration.bitrate import save_candidate

        return save_candidate(evaluated, **context)

    release_tasks("bitrate", save_candidate(evaluate(train(training_set()))))


reelops_bitrate()
