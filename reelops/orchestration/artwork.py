"""The artwork DAG's task adapters: training set, train, evaluate, candidate.

The steps after the training set use the spec the run was prepared with, which
travels in each step's result (``spec``: the spec file; None for the model's own).
"""

from __future__ import annotations

from typing import Any

from reelops.artwork import train as steps
from reelops.orchestration.context import holds_home_lock, run_values


@holds_home_lock
def training_set(**context: Any) -> dict[str, Any]:
    """:func:`~reelops.artwork.train.prepare_training_set` under the run's id."""
    run = run_values(context)
    spec = run.conf.get("spec")
    prepared = steps.prepare_training_set(run.settings, run.run_id, spec, run.source)
    print(
        f"artwork log: {prepared['impressions']:,} impressions of {prepared['members']:,} "
        f"members, {prepared['data_interval'][0]} .. {prepared['data_interval'][1]}"
    )
    return prepared


@holds_home_lock
def train(prepared: dict[str, Any], **context: Any) -> dict[str, Any]:
    """:func:`~reelops.artwork.train.train_model` on the log's middle third."""
    return steps.train_model(prepared, prepared["spec"])


@holds_home_lock
def evaluate(trained: dict[str, Any], **context: Any) -> dict[str, Any]:
    """:func:`~reelops.artwork.train.evaluate_model`: every policy off-policy on the last third."""
    return steps.evaluate_model(trained, trained["spec"])


@holds_home_lock
def save_candidate(evaluated: dict[str, Any], **context: Any) -> dict[str, Any]:
    """:func:`~reelops.artwork.train.save_candidate` with the run conf's approval policy."""
    run = run_values(context)
    saved = steps.save_candidate(run.settings, evaluated, evaluated["spec"], run.approval)
    print(f"saved artwork {saved['version']} as a candidate")
    return saved
