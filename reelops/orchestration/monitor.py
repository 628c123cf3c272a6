"""Task adapters of the serving-logs and monitoring DAGs: compact, check, ask for retraining."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from airflow.sdk.exceptions import AirflowSkipException

from reelops.monitoring.compaction import compact_day
from reelops.orchestration.assets import RETRAIN_REQUESTED, SERVING_LOGS
from reelops.orchestration.context import naive_utc, run_values
from reelops.sources import active_source


def compact_logs(**context: Any) -> dict[str, Any]:
    """Compact every day of the run's interval, then publish the serving logs' Asset."""
    run = run_values(context)
    start, end = run.interval()
    lake = run.settings.lake_dir(active_source(run.settings))
    days = [start.date() + timedelta(days=n) for n in range((end - start).days)]
    for day in days:
        print(compact_day(lake, day).describe())
    context["outlet_events"][SERVING_LOGS].extra = {"day": days[-1].isoformat()}
    return {"days": [d.isoformat() for d in days]}


def monitored_day(context: Any) -> date:
    """The day to check: ``conf["day"]``, else the triggering serving-logs event's, else
    the day before the run was due."""
    run = run_values(context)
    if run.conf.get("day"):
        return date.fromisoformat(str(run.conf["day"]))
    events = (context.get("triggering_asset_events") or {}).get(SERVING_LOGS) or []
    for event in reversed(list(events)):
        day = (getattr(event, "extra", None) or {}).get("day")
        if day:
            return date.fromisoformat(day)
    if run.run_after is None:
        raise ValueError('trigger the monitoring DAG with conf {"day": "YYYY-MM-DD"}')
    return naive_utc(run.run_after).date() - timedelta(days=1)


def check(**context: Any) -> dict[str, Any]:
    """Every monitoring check of the day; prints them and the reports' paths."""
    from reelops.monitoring.run import monitor_day

    run = run_values(context)
    found = monitor_day(run.settings, monitored_day(context))
    print(found.describe())
    failed = [f"{c.model} {c.name}: {c.detail}" for c in found.checks if c.status == "fail"]
    return {"day": found.day.isoformat(), "retrain": found.retrain, "failed": failed}


def request_retrain(checked: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Publish ``reelops_retrain_requested`` when a check failed; skip (no event) when none."""
    if not checked["retrain"]:
        raise AirflowSkipException(f"every check passed on {checked['day']}: no retraining")
    context["outlet_events"][RETRAIN_REQUESTED].extra = checked
    print(f"retraining requested for {', '.join(checked['retrain'])}:")
    for line in checked["failed"]:
        print(f"  {line}")
    return checked


CANARY_WINDOW_DAYS = 7  # the outcomes a canary is judged on: the monitored day and those before


def decide_canaries(checked: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Judge each live canary on the outcomes up to the monitored day: promote it, roll it
    back (its members go back to production) or keep it going; audited in the registry.

    The window is in the days the outcomes happened on (a simulated world's days too),
    not the wall clock. Skips (no event) when no model has a live canary.
    """
    from reelops.registry import Registry
    from reelops.releases.canary import decide

    run = run_values(context)
    day = date.fromisoformat(checked["day"])
    window = (
        datetime.combine(day - timedelta(days=CANARY_WINDOW_DAYS - 1), time()),
        datetime.combine(day + timedelta(days=1), time()),
    )
    live = [r for r in Registry(run.settings).releases() if r.live and r.mode == "canary"]
    decided: dict[str, Any] = {}
    for model in sorted({release.name for release in live}):
        actor = f"airflow reelops_monitor {run.run_id}"
        decision = decide(run.settings, model, window=window, actor=actor)
        print(f"{model}:{decision.version} vs {decision.baseline}: {decision.action}")
        print(f"  {decision.reason}")
        decided[model] = {"version": decision.version, "action": decision.action}
    if not decided:
        raise AirflowSkipException("no live canary to decide")
    return decided
