"""Ranker training DAG: training set, grid search, train, evaluate, candidate, release."""

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
    tags=["reelops", "ranker", "training"],
    default_args={"retries": 1, "retry_delay": timedelta(minutes=1)},
    doc_md="""
### ReelOps ranker training
Runs when the daily DAG has refreshed the online features, or when the monitoring
DAG asks for retraining (`reelops_retrain_requested`). Builds the point-in-time
training set (candidates, graded labels, `ranker_v1` features), fits one XGBoost
ranker per grid point of `models/ranker.yaml` on a validation split (mapped tasks),
trains the best on the test split's training views, evaluates it beside the
baselines on the temporal hold-out and saves it as a registry *candidate*. Then the
release tail: quality, drift and bias gates against the production model, approval
(`auto`, or a person answers the `approval` task when `human`), and promotion or
rejection. `conf` may carry `approval` (overrides the spec's) and `spec`.
""",
)
def reelops_ranker():
    @task
    def training_set(**context):
        from reelops.orchestration.ranker import training_set

        return training_set(**context)

    @task
    def search(workdir: str, point: dict, index: int, **context):
        from reelops.orchestration.ranker import search

        return search(workdir, point, index, **context)

    @task
    def train(results: list, **context):
        from reelops.orchestration.ranker import train

        return train(results, **context)

    @task
    def evaluate(trained: dict, **context):
        from reelops.orchestration.ranker import evaluate

        return evaluate(trained, **context)

    @task
    def save_candidate(evaluated: dict, **context):
        from reelops.orchestration.ranker import save_candidate

        return save_candidate(evaluated, **context)

    results = search.expand_kwargs(training_set())
    release_tasks("ranker", save_candidate(evaluate(train(results))))


reelops_ranker()
