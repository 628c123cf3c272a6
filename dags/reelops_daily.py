"""Daily data DAG: land the interval from the active source, build the warehouse, materialize."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from reelops.orchestration.assets import ONLINE_FEATURES, WAREHOUSE_MARTS


@dag(
    # A data-interval timetable: each run covers [day, next day) and starts when the
    # day is over (a plain "@daily" in Airflow 3 gives runs a zero-length interval).
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    # Early enough for historical imports (MovieLens starts in 1997): a run whose
    # logical date is before start_date gets no tasks at all. catchup=False keeps the
    # scheduler from backfilling those years.
    start_date=datetime(1990, 1, 1),
    catchup=False,
    params={
        "start": Param(
            None,
            type=["null", "string"],
            title="Start",
            description="First day to land (YYYY-MM-DD). Empty: the run's data interval.",
        ),
        "end": Param(
            None,
            type=["null", "string"],
            title="End",
            description="Day after the last one (YYYY-MM-DD, exclusive). Empty: the data "
            "interval, or the day before the trigger when the run has none.",
        ),
    },
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
the Asset the training DAGs are scheduled on. Scheduled and backfill runs cover
their data interval (one UTC day); the Params `start`/`end` cover any other
interval (`reelops pipeline run` sets them); a trigger with neither covers the
day before it. An interval where the source has no events is skipped whole (no
build, no Asset event, so no training starts).
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
