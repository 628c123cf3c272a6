"""Daily data DAG: land the interval from the active source, build the warehouse, materialize."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from reelops.orchestration.assets import ONLINE_FEATURES, WAREHOUSE_MARTS


@dag(
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["reelops", "data"],
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    doc_md="""
### ReelOps daily data
Lands the run's data interval of the active source (the synthetic world or an
import) in the lake, pseudonymized, one partition per day, then runs `dbt build`
(every model and its tests) and publishes the warehouse marts as an Asset, then
materializes the Feast feature views into the online store up to the end of the
interval (applying changed definitions first) and publishes the online features as
the Asset the training DAGs are scheduled on. A run's `conf` may carry
`start`/`end` to cover a longer interval (`reelops pipeline run`).
""",
)
def reelops_daily():
    @task
    def land(**context):
        from reelops.orchestration.daily import land

        return land(**context)

    @task(outlets=[WAREHOUSE_MARTS])
    def build_warehouse(landed: dict, **context):
        from reelops.orchestration.daily import build_warehouse

        return build_warehouse(landed, **context)

    @task(outlets=[ONLINE_FEATURES])
    def materialize_features(built: dict, **context):
        from reelops.orchestration.daily import materialize_features

        return materialize_features(built, **context)

    materialize_features(build_warehouse(land()))


reelops_daily()
