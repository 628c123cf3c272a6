"""The bitrate DAG's task adapters: training set, train, evaluate, candidate.

The steps after the training set use the spec the run was prepared with, which
travels in each step's result (``spec``: the spec file).
"""

from __future__ import annotations

from typing import Any

from reelops.bitrate import train as steps
from reelops.orchestration.context import holds_home_lock, run_values


@holds_home_lock
def training_set(**context: Any) -> dict[str, Any]:
    """:func:`~reelops.bitrate.train.prepare_training_set` under the run's id."""
    run = run_values(context)
    return steps.prepare_training_set(run.settings, run.run_id, run.spec(steps.MODEL))


@holds_home_lock
def train(prepared: dict[str, Any], **context: Any) -> dict[str, Any]:
    """:func:`~reelops.bitrate.train.train_model` on the prepared rows."""
    return steps.train_model(prepared, prepared["spec"])


@holds_home_lock
def evaluate(trained: dict[str, Any], **context: Any) -> dict[str, Any]:
    """:func:`~reelops.bitrate.train.evaluate_model` on the test traces."""
    return steps.evaluate_model(trained, trained["spec"])


@holds_home_lock
def save_candidate(evaluated: dict[str, Any], **context: Any) -> dict[str, Any]:
    """:func:`~reelops.bitrate.train.save_candidate` with the run conf's approval policy."""
    run = run_values(context)
    return steps.save_candidate(run.settings, evaluated, evaluated["spec"], approval=run.approval)
