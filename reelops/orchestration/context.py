"""Airflow's task context turned into the plain values domain functions take."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from reelops.config import Settings, get_settings
from reelops.locks import home_lock
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
        run_after: When the run was due (Airflow's ``run_after``); names the day a run
            without conf or data interval covers.
    """

    settings: Settings
    run_id: str
    conf: Mapping[str, Any] = field(default_factory=dict)
    data_interval: tuple[Any, Any] = (None, None)
    run_after: Any = None

    def interval(self) -> tuple[datetime, datetime]:
        """The interval the run covers.

        In order: ``conf`` start/end when both are given (``reelops pipeline run`` and
        the UI's trigger form, so one run can cover a day or years of imported
        history); else the run's data interval (scheduled and backfill runs, manual
        runs with a logical date); else, for a run with none or an empty one (a UI
        trigger without a logical date), the last whole UTC day before it was due.

        Raises:
            ValueError: ``conf`` gives an interval whose end is not after its start, or
                the run has no interval and no time it was due.
        """
        if self.conf.get("start") and self.conf.get("end"):
            start, end = naive_utc(self.conf["start"]), naive_utc(self.conf["end"])
        else:
            start, end = self.data_interval
            if start is None or end is None or naive_utc(end) <= naive_utc(start):
                start, end = self._day_before(end or self.run_after)
            start, end = naive_utc(start), naive_utc(end)
        if end <= start:
            raise ValueError(f"run interval end {end} is not after its start {start}")
        return start, end

    def _day_before(self, due: Any) -> tuple[datetime, datetime]:
        if due is None:
            raise ValueError(
                f"run {self.run_id} has no data interval: trigger it with conf "
                '{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"} or let the schedule run it'
            )
        day = naive_utc(due).replace(hour=0, minute=0, second=0, microsecond=0)
        return day - timedelta(days=1), day

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
        run_after=getattr(dag_run, "run_after", None),
    )


def task_holder(context: Mapping[str, Any], name: str) -> str:
    """How a task holding the home's lock is named to whoever waits for it."""
    ti = context.get("ti")
    if ti is not None:
        name = f"{ti.dag_id}.{ti.task_id}"
    dag_run = context.get("dag_run")
    run_id = getattr(dag_run, "run_id", None) or context.get("run_id") or "manual"
    return f"Airflow task {name} of run {run_id}"


@contextlib.contextmanager
def task_home_lock(context: Mapping[str, Any], name: str) -> Iterator[None]:
    """Hold the home's lock while a task writes (the lake, the warehouse, the online
    store, the registry).

    A run under the scheduler and a ``reelops pipeline run``, ``warehouse build`` or
    training in a shell share the home: each waits for the other, and says whom it waits
    for. An in-process run already holds the lock in this process (it is reentrant).
    """
    with home_lock(get_settings(), task_holder(context, name)):
        yield


def holds_home_lock(task: Callable[..., Any]) -> Callable[..., Any]:
    """A task adapter that runs holding the home's lock (see :func:`task_home_lock`)."""

    @functools.wraps(task)
    def locked(*args: Any, **context: Any) -> Any:
        with task_home_lock(context, task.__name__):
            return task(*args, **context)

    return locked
