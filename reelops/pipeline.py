"""The daily data pipeline's steps, as the daily DAG calls them: land, build, materialize."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from reelops.config import get_settings
from reelops.ingest import land_interval
from reelops.sources import active_source


def _naive_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def run_interval(context: Mapping[str, Any]) -> tuple[datetime, datetime]:
    """The interval a DAG run covers: ``conf`` start/end if given, else its data interval.

    ``reelops pipeline run`` passes an explicit interval so that one run can cover a
    day or many months of imported history.
    """
    dag_run = context.get("dag_run")
    conf = (getattr(dag_run, "conf", None) or {}) if dag_run is not None else {}
    if conf.get("start") and conf.get("end"):
        start, end = _naive_utc(conf["start"]), _naive_utc(conf["end"])
    else:
        start = _naive_utc(context["data_interval_start"])
        end = _naive_utc(context["data_interval_end"])
    if end <= start:
        raise ValueError(f"run interval end {end} is not after its start {start}")
    return start, end


def land(context: Mapping[str, Any]) -> dict[str, Any]:
    """Land the run's interval of the active source in the lake."""
    settings = get_settings()
    start, end = run_interval(context)
    result = land_interval(settings, active_source(settings), start, end)
    summary = asdict(result)
    summary.update(start=start.isoformat(), end=end.isoformat(), lake_dir=str(result.lake_dir))
    print(f"landed {result.source} [{start}, {end}): {result.rows}")
    return summary


def describe_build(result) -> str:
    """A few readable lines about one warehouse build."""
    lines = [
        f"dbt build on {result.target} for source {result.source!r}: "
        f"{len(result.models_built)} models, {result.tests_passed} data tests passed, "
        f"{result.tests_failed} failed, {result.tests_warned} warned, "
        f"{result.unit_tests_passed} unit tests passed in {result.elapsed_s:.1f} s",
    ]
    lines += [f"  {mart:<26} {rows:>10,} rows" for mart, rows in result.mart_rows.items()]
    return "\n".join(lines)


def build_warehouse(context: Mapping[str, Any]) -> dict[str, Any]:
    """Run ``dbt build`` (models and tests) over everything the active source's lake holds."""
    from reelops.warehouse import build

    settings = get_settings()
    result = build(settings, active_source(settings))
    print(describe_build(result))
    summary = asdict(result)
    summary["run_results"] = str(result.run_results)
    return summary


def materialize_features(context: Mapping[str, Any]) -> dict[str, Any]:
    """Apply changed feature definitions, then bring the online store up to the run's end.

    Every view continues from its own watermark; a re-run or backfill of an earlier
    interval refreshes ``[start, watermark]`` without moving any watermark backwards
    (see :func:`reelops.features.materialize.plan_window`).
    """
    from reelops.features.materialize import describe_materialization, materialize

    settings = get_settings()
    start, end = run_interval(context)
    result = materialize(settings, start=start, end=end, source=active_source(settings))
    print(describe_materialization(result))
    return result.summary()
