"""The daily DAG's task adapters: land the run's interval, build the warehouse, materialize."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from reelops.ingest import land_interval
from reelops.orchestration.context import run_values
from reelops.sources import active_source
from reelops.warehouse import build, describe_build


def land(**context: Any) -> dict[str, Any]:
    """Land the run's interval of the active source in the lake."""
    run = run_values(context)
    start, end = run.interval()
    result = land_interval(run.settings, active_source(run.settings), start, end)
    summary = asdict(result)
    summary.update(start=start.isoformat(), end=end.isoformat(), lake_dir=str(result.lake_dir))
    print(f"landed {result.source} [{start}, {end}): {result.rows}")
    return summary


def build_warehouse(landed: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Run ``dbt build`` (models and tests) over everything the active source's lake holds."""
    run = run_values(context)
    result = build(run.settings, active_source(run.settings))
    print(describe_build(result))
    summary = asdict(result)
    summary["run_results"] = str(result.run_results)
    return summary


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
