"""Running the project's DAGs through Airflow itself: metadata DB, in-process runs, the UI."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reelops.config import Settings, airflow_environ, apply_airflow_environ

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
    """Run one DAG run in this process with Airflow's ``dag.test()``.

    Tasks run for real through Airflow (state in the metadata DB, XComs, retries
    off), without a scheduler. ``conf`` is the run's configuration.
    """
    ensure_airflow_db(settings)
    dag = load_dag(settings, dag_id)
    from airflow.sdk import timezone

    # No logical date: the interval travels in ``conf``, so any span (even years before
    # the DAG's start_date) can be one run, and re-running it makes a new run.
    when = timezone.coerce_datetime(logical_date) if logical_date else None
    run = dag.test(logical_date=when, run_conf=conf)
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    return DagRunResult(dag_id=dag_id, run_id=run.run_id, state=str(run.state), task_states=states)
