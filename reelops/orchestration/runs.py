"""Running the project's DAGs through Airflow itself: metadata DB, in-process runs, the UI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from reelops.config import Settings, airflow_environ, apply_airflow_environ
from reelops.locks import home_lock
from reelops.orchestration.output import OutputRouter

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


def task_line(task: str, state: str, seconds: float | None) -> str:
    """One task's line on the console: id, final state, duration."""
    took = f"{seconds:7.1f} s" if seconds is not None else ""
    return f"  {task:<24} {state:<16}{took}"


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


def use_home_database(settings: Settings) -> None:
    """Point this process's Airflow at ``settings``' metadata database.

    Airflow binds its ORM to one database when first imported; a process that runs DAGs
    for a second home (a test session, a notebook) would otherwise read and write the
    first home's database, or an empty file where it was.
    """
    apply_airflow_environ(settings)
    if "airflow.settings" not in sys.modules:
        return  # the first import reads the environment just set
    from airflow import settings as airflow_settings

    wanted = airflow_environ(settings)["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    if airflow_settings.SQL_ALCHEMY_CONN != wanted:
        airflow_settings.dispose_orm(do_log=False)
        airflow_settings.configure_vars()
        airflow_settings.configure_orm()


def load_dag(settings: Settings, dag_id: str):
    """Parse the project's DAG folder and return one DAG (fails on any import error)."""
    use_home_database(settings)
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(settings.dags_dir))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    if dag_id not in bag.dags:
        raise KeyError(f"no DAG {dag_id!r} in {settings.dags_dir}; found {sorted(bag.dags)}")
    return bag.dags[dag_id]


def run_log_path(settings: Settings, dag_id: str) -> Path:
    """A new file for everything one in-process run prints (Airflow's and the tools')."""
    folder = settings.airflow_home / "logs" / "in-process" / dag_id
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{datetime.now():%Y%m%dT%H%M%S_%f}.log"


def run_dag(
    settings: Settings,
    dag_id: str,
    *,
    conf: dict | None = None,
    logical_date: datetime | None = None,
    verbose: bool = True,
    echo: Callable[[str], None] | None = None,
) -> DagRunResult:
    """Run one DAG run in this process with Airflow's ``dag.test()``, under the home's lock.

    Tasks run for real through Airflow (state in the metadata DB, XComs, retries
    off), without a scheduler. ``conf`` is the run's configuration; the interval the
    tasks cover travels in it (``start``/``end``), so any span can be one run.

    Each task's output goes to the file the Airflow UI reads for that task instance,
    and everything the run prints (Airflow, dbt, Feast ...) to a run log
    (:func:`run_log_path`); the console gets the log's path and one line per task
    with its duration, plus the full output as it comes when ``verbose``.

    Every run gets a logical date of its own (see :func:`unique_logical_date`):
    ``dag.test()`` deletes the run that has the same logical date (all runs without
    one, if given None) and clears its task instances, so sharing one would erase
    another run's history. Runs left ``running`` by a killed process are marked
    failed first. A successful run of an Asset-scheduled DAG consumes the Asset
    events queued for it (see :func:`consume_queued_asset_events`).
    """
    log_path = run_log_path(settings, dag_id)
    with home_lock(settings, f"DAG run {dag_id}"), OutputRouter(log_path, verbose) as out:
        say = echo or out.echo
        say(f"{dag_id}: in-process run; Airflow and tool output in {log_path}")
        ensure_airflow_db(settings)
        dag = load_dag(settings, dag_id)
        fail_orphaned_runs()
        end = (conf or {}).get("end")
        when = unique_logical_date(dag_id, logical_date or (end and datetime.fromisoformat(end)))
        started = datetime.now().astimezone()
        with _task_logs(settings, out, say):
            run = dag.test(logical_date=when, run_conf=conf)
        states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
        if not states:
            # Airflow "succeeds" a run it made no task for (e.g. a logical date before
            # the DAG's start_date): that is nothing done, not success.
            return DagRunResult(
                dag_id=dag_id,
                run_id=run.run_id,
                state="failed",
                task_states={"(none)": f"Airflow created no task for logical date {when}"},
            )
        if str(run.state) == "success":
            consume_queued_asset_events(dag_id, started)
        return DagRunResult(
            dag_id=dag_id, run_id=run.run_id, state=str(run.state), task_states=states
        )


def task_log_path(settings: Settings, ti) -> Path:
    """The file Airflow's UI reads for a task instance's current attempt."""
    from airflow.utils.log.file_task_handler import FileTaskHandler
    from airflow.utils.session import create_session

    base = settings.airflow_home / "logs"
    with create_session() as session:
        relative = FileTaskHandler(str(base))._render_filename(ti, ti.try_number, session=session)
    return base / relative


@contextmanager
def _task_logs(settings: Settings, out: OutputRouter, say: Callable[[str], None]):
    """While ``dag.test()`` runs, send each task's output to its UI log file.

    ``dag.test()`` runs every task through one module function; wrapping it is the
    one place that sees each task instance start and end in this process.
    """
    from airflow.sdk.definitions import dag as dag_module

    original = dag_module._run_task

    def run_task(*, ti, task, run_triggerer=False):
        label = ti.task_id + (f"[{ti.map_index}]" if ti.map_index >= 0 else "")
        out.to_file(task_log_path(settings, ti))
        started = time.monotonic()
        try:
            return original(ti=ti, task=task, run_triggerer=run_triggerer)
        finally:
            out.to_file(None)
            state = getattr(ti.state, "value", ti.state)  # an enum member, or a plain str
            say(task_line(label, str(state), time.monotonic() - started))

    dag_module._run_task = run_task
    try:
        yield
    finally:
        dag_module._run_task = original


def consume_queued_asset_events(dag_id: str, since: datetime) -> int:
    """Drop the Asset-event queue entries for ``dag_id`` from before ``since``.

    An in-process training run trains on the features those events announced; left
    queued, they would start the same training again the moment a scheduler starts.
    Returns how many entries were dropped.
    """
    from airflow.models.asset import AssetDagRunQueue
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        done = session.execute(
            delete(AssetDagRunQueue).where(
                AssetDagRunQueue.target_dag_id == dag_id, AssetDagRunQueue.created_at <= since
            )
        )
        return done.rowcount or 0


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
