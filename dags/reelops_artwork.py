"""Artwork policy DAG: training set, train, off-policy evaluation, candidate, release."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from reelops.orchestration.assets import ONLINE_FEATURES
from reelops.orchestration.release_tail import release_tasks, training_params


@dag(
    schedule=[ONLINE_FEATURES],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    params=training_params(),
    tags=["reelops", "training", "artwork"],
    default_args={"retries": 1, "retry_delay": timedelta(minutes=1)},
    doc_md="""
### ReelOps artwork policy
Runs when the daily DAG has refreshed the features. Reads the artwork log from the
marts (`fct_artwork_impressions`, views, members, titles, variants), fits the XGBoost
reward model of a good play with the exploration rule of `models/artwork.yaml` on the
log's middle third, judges it off-policy (replay, IPS, SNIPS, DR, intervals over
members) on the last third beside uniform random, the best single variant and the
logging policy, and saves it as a registry *candidate*. Then the release tail: the
off-policy gate (value vs the production policy and uniform random, DR/SNIPS
agreement, no country or age band worse off than logging), drift, approval (`auto`,
or a person answers the `approval` task when `human`) and promotion or rejection.
`conf` may carry `approval` (overrides the spec's) and `spec`.
""",
)
def reelops_artwork():
    @task
    def training_set(**context):
        from reelops.orchestration.artwork import training_set

        return training_set(**context)

    @task
    def train(prepared: dict, **context):
        from reelops.orchestration.artwork import train

        return train(prepared, **context)

    @task
    def evaluate(trained: dict, **context):
        from reelops.orchestration.artwork import evaluate

        return evaluate(trained, **context)

    @task
    def save_candidate(evaluated: dict, **context):
        from reelops.orchestration.artwork import save_candidate

        return save_candidate(evaluated, **context)

    release_tasks("artwork", save_candidate(evaluate(train(training_set()))))


reelops_artwork()
