"""The daily DAG's task adapters: land the run's interval, build the warehouse, materialize."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from airflow.sdk.exceptions import AirflowSkipException

from reelops.ingest import land_interval
from reelops.orchestration.context import holds_home_lock, run_values
from reelops.sources import active_source, source_info
from reelops.warehouse import build, describe_build


@holds_home_lock
def land(**context: Any) -> dict[str, Any]:
    """Land the run's interval of the active source in the lake.

    Raises:
        AirflowSkipException: The source has no events in the interval (e.g. the
            scheduler's run for yesterday over a synthetic world of last January):
            nothing is landed, and the skip reaches the build and the features, so no
            Asset event starts a training on unchanged data.
    """
    run = run_values(context)
    start, end = run.interval()
    source = active_source(run.settings)
    info = source_info(run.settings, source)
    if info.first_ts is None or info.last_ts < start or info.first_ts >= end:
        raise AirflowSkipException(
            f"source {source!r} has events from {info.first_ts} to {info.last_ts}, none in "
            f"[{start}, {end}): nothing to land; trigger the DAG with Params start/end "
            "inside the source's span, or `reelops pipeline run --start ... --end ...`"
        )
    result = land_interval(run.settings, source, start, end)
    summary = asdict(result)
    summary.update(start=start.isoformat(), end=end.isoformat(), lake_dir=str(result.lake_dir))
    print(f"landed {result.source} [{start}, {end}): {result.rows}")
    return summary


@holds_home_lock
def build_warehouse(landed: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Run ``dbt build`` (models and tests) over everything the active source's lake holds."""
    run = run_values(context)
    result = build(run.settings, active_source(run.settings))
    print(describe_build(result))
    summary = asdict(result)
    summary["run_results"] = str(result.run_results)
    return summary


@holds_home_lock
def materialize_features(built: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Apply changed feature definitions, then bring the online store up to the run's end.

    Every view continues from its own watermark; a re-run or backfill of an earlier
    interval refreshes ``[start, watermark]`` without moving any watermark backwards
    (see :func:`reelops.features.materialize.plan_window`).
    """
    # Feast is heavy and only this task needs it.
    from reelops.features.materialize import describe_materialization, materialize

    run = run_values(context)
    start, end = run.interval()
    result = materialize(run.settings, start=start, end=end, source=active_source(run.settings))
    print(describe_materialization(result))
    return result.summary()
