"""Airflow listener: when a training run ends, its gate Markdown becomes the gates task's note.

People approving a model look at the run's grid first; the note puts the verdict, the
gate table and the report links on the ``gates`` task itself (Airflow renders notes
as Markdown). The listener runs inside the component that ends the run (the
scheduler, or the process of an in-process run) and writes through that run's own
database session where it has one (the scheduler's), so it never waits on a second
connection; ``dag.test()`` hands over a detached run, which gets a session of its own.
"""

from __future__ import annotations

from airflow.listeners import hookimpl
from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session
from sqlalchemy import select
from sqlalchemy.orm import object_session

from reelops.orchestration.release_tail import GATES


def note_gates(dag_run, session) -> str | None:
    """Set the ``gates`` task's note of ``dag_run`` to its gate Markdown; return the note.

    Leaves a note someone already wrote alone; does nothing for runs without gates.
    """
    ti = session.scalar(
        select(TaskInstance).where(
            TaskInstance.dag_id == dag_run.dag_id,
            TaskInstance.run_id == dag_run.run_id,
            TaskInstance.task_id == GATES,
        )
    )
    if ti is None or ti.note:
        return None
    row = session.scalars(
        XComModel.get_many(
            run_id=dag_run.run_id, dag_ids=dag_run.dag_id, task_ids=GATES, key="return_value"
        )
    ).first()
    result = XComModel.deserialize_value(row) if row is not None else None
    if not isinstance(result, dict) or not result.get("markdown"):
        return None
    ti.note = (result["markdown"], None)
    return result["markdown"]


def _on_end(dag_run) -> None:
    session = object_session(dag_run)
    if session is not None:
        note_gates(dag_run, session)
        return
    with create_session() as own:
        note_gates(dag_run, own)


@hookimpl
def on_dag_run_success(dag_run, msg: str) -> None:
    """Hook: a run succeeded."""
    _on_end(dag_run)


@hookimpl
def on_dag_run_failed(dag_run, msg: str) -> None:
    """Hook: a run failed (e.g. its gates failed); the note says why."""
    _on_end(dag_run)
