"""Airflow's task context turned into the plain values domain functions take."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reelops.config import Settings, get_settings
from reelops.specs import ModelSpec, load_spec


def naive_utc(value: Any) -> datetime:
    """A datetime or ISO string as naive UTC (the lake's and the warehouse's clock)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


@dataclass(frozen=True)
class RunValues:
    """What one DAG run gives its tasks.

    Attributes:
        settings: Platform settings.
        run_id: The DAG run's id (names work folders).
        conf: The run's ``conf`` (``start``/``end``, ``spec``, ``approval``, ``source``).
        data_interval: The run's data interval as Airflow gives it (None for runs
            without one, e.g. manual or asset-triggered runs).
    """

    settings: Settings
    run_id: str
    conf: Mapping[str, Any] = field(default_factory=dict)
    data_interval: tuple[Any, Any] = (None, None)

    def interval(self) -> tuple[datetime, datetime]:
        """The interval the run covers: ``conf`` start/end if given, else its data interval.

        ``reelops pipeline run`` passes an explicit interval so that one run can cover a
        day or many months of imported history.

        Raises:
            ValueError: No interval at all, or its end is not after its start.
        """
        if self.conf.get("start") and self.conf.get("end"):
            start, end = self.conf["start"], self.conf["end"]
        else:
            start, end = self.data_interval
        if start is None or end is None:
            raise ValueError(
                f"run {self.run_id} has no data interval: trigger it with conf "
                '{"start": ..., "end": ...} (ISO dates) or let the schedule run it'
            )
        start, end = naive_utc(start), naive_utc(end)
        if end <= start:
            raise ValueError(f"run interval end {end} is not after its start {start}")
        return start, end

    @property
    def approval(self) -> str | None:
        """``conf["approval"]`` (``auto``/``human``), or None for the spec's own."""
        return self.conf.get("approval")

    @property
    def source(self) -> str | None:
        """``conf["source"]``, or None for the active source."""
        return self.conf.get("source")

    def spec(self, model: str) -> ModelSpec:
        """``conf["spec"]`` (another spec file, e.g. a small one for tests), else the model's."""
        return load_spec(self.conf.get("spec") or model)


def run_values(context: Mapping[str, Any]) -> RunValues:
    """The plain values of the DAG run a task's ``context`` belongs to."""
    dag_run = context.get("dag_run")
    conf = (getattr(dag_run, "conf", None) or {}) if dag_run is not None else {}
    run_id = getattr(dag_run, "run_id", None) or context.get("run_id") or "manual"
    return RunValues(
        settings=get_settings(),
        run_id=run_id,
        conf=dict(conf),
        data_interval=(context.get("data_interval_start"), context.get("data_interval_end")),
    )
