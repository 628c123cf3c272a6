"""Running the project's DAGs through Airflow itself: metadata DB, in-process runs, the UI."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from reelops.config import Settings, airflow_environ, apply_airflow_environ
from reelops.locks import home_lock

MIGRATED_STAMP = ".db-migrated"


@dataclass(frozen=True)
class DagRunResult:
    """How one in-process DAG run ended."""

    dag_id: str
    run_id: str
    state: str
    task_states: dict[str, str]

    @property
    def ok(self) -> bool:
        return self.state == "success"

    @property
    def unsuccessful(self) -> dict[str, str]:
        """Tasks that neither succeeded nor were skipped, with their state."""
        return {t: s for t, s in self.task_states.items() if s not in ("success", "skipped")}


def airflow_bin() -> Path:
    return Path(sys.executable).with_name("airflow")


def ensure_airflow_db(settings: Settings) -> None:
    """Create or upgrade Airflow's metadata database (once per ``REELOPS_HOME``)."""
    stamp = settings.airflow_home / MIGRATED_STAMP
    if settings.profile == "local" and stamp.exists():
        return
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **airflow_environ(settings)}
    done = subprocess.run(
        [str(airflow_bin()), "db", "migrate"], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"`airflow db migrate` failed:\n{done.stderr[-3000:]}")
    stamp.touch()


def load_dag(settings: Settings, dag_id: str):
    """Parse the project's DAG folder and return one DAG (fails on any import error)."""
    apply_airflow_environ(settings)
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(settings.dags_dir))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    if dag_id not in bag.dags:
        raise KeyError(f"no DAG {dag_id!r} in {settings.dags_dir}; found {sorted(bag.dags)}")
    return bag.dags[dag_id]


def run_dag(
    settings: Settings,
    dag_id: str,
    *,
    conf: dict | None = None,
    logical_date: datetime | None = None,
) -> DagRunResult:
    """Run one DAG run in this process with Airflow's ``dag.test()``, under the home's lock.

    Tasks run for real through Airflow (state in the metadata DB, XComs, retries
    off), without a scheduler. ``conf`` is the run's configuration; the interval the
    tasks cover travels in it (``start``/``end``), so any span can be one run.

    Every run gets a logical date of its own (see :func:`unique_logical_date`):
    ``dag.test()`` deletes the run that has the same logical date (all runs without
    one, if given None) and clears its task instances, so sharing one would erase
    another run's history. Runs left ``running`` by a killed process are marked
    failed first.
    """
    with home_lock(settings, f"DAG run {dag_id}"):
        ensure_airflow_db(settings)
        dag = load_dag(settings, dag_id)
        fail_orphaned_runs()
        end = (conf or {}).get("end")
        when = unique_logical_date(dag_id, logical_date or (end and datetime.fromisoformat(end)))
        run = dag.test(logical_date=when, run_conf=conf)
        states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
        return DagRunResult(
            dag_id=dag_id, run_id=run.run_id, state=str(run.state), task_states=states
        )


def unique_logical_date(dag_id: str, wanted: datetime | None) -> datetime:
    """``wanted`` (default now, never in the future) plus the first free microsecond.

    Airflow refuses a logical date in the future, and one logical date is one run; the
    caller holds the home's lock, so nobody takes the date between choosing and using it.
    """
    from airflow.models.dagrun import DagRun
    from airflow.sdk import timezone
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    now = timezone.utcnow()
    base = min(timezone.coerce_datetime(wanted), now) if wanted else now
    with create_session() as session:
        latest = session.scalar(
            select(func.max(DagRun.logical_date)).where(
                DagRun.dag_id == dag_id,
                DagRun.logical_date >= base,
                DagRun.logical_date < base + timedelta(seconds=1),
            )
        )
    return timezone.coerce_datetime(latest) + timedelta(microseconds=1) if latest else base


def fail_orphaned_runs() -> list[str]:
    """Mark failed the in-process runs still ``running`` whose process is gone.

    In-process runs (``dag.test``) run only under the home's lock, which the caller
    holds: any other such run still marked running belongs to a process that died
    (killed, Ctrl-C). Runs by the scheduler are left alone. Returns their run ids.
    """
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.sdk import timezone
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState, State, TaskInstanceState
    from airflow.utils.types import DagRunTriggeredByType
    from sqlalchemy import select

    with create_session() as session:
        runs = session.scalars(
            select(DagRun).where(
                DagRun.state == DagRunState.RUNNING,
                DagRun.triggered_by == DagRunTriggeredByType.TEST,
            )
        ).all()
        for run in runs:
            for ti in session.scalars(
                select(TaskInstance).where(
                    TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id
                )
            ):
                if ti.state not in State.finished:
                    ti.state = TaskInstanceState.FAILED
                    ti.end_date = timezone.utcnow()
            run.state = DagRunState.FAILED
            run.end_date = timezone.utcnow()
            print(f"marked failed: {run.dag_id} {run.run_id} (its process is gone)")
        return [run.run_id for run in runs]
