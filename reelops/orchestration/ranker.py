"""The ranker DAG's task adapters: training set, grid search, train, evaluate, candidate.

Every step works in the run's folder (:func:`reelops.ranking.train.run_dir`) and hands
the next one its path; the steps after the training set use the spec the run was
prepared with (recorded in ``prepared.json``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reelops.orchestration.context import holds_home_lock, run_values
from reelops.ranking import train as steps
from reelops.ranking.protocol import MODEL_NAME
from reelops.specs import ModelSpec, load_spec


def run_spec(workdir: str | Path) -> ModelSpec:
    """The spec a run was prepared with (recorded in ``prepared.json``)."""
    return load_spec(steps.read_prepared(Path(workdir)).get("spec") or MODEL_NAME)


@holds_home_lock
def training_set(**context: Any) -> list[dict[str, Any]]:
    """:func:`~reelops.ranking.train.prepare` in the run's work folder.

    Returns:
        One ``{"workdir", "point", "index"}`` per grid point: the search's mapped kwargs.
    """
    run = run_values(context)
    workdir = steps.run_dir(run.settings, run.run_id)
    summary = steps.prepare(run.settings, run.spec(MODEL_NAME), workdir, run.source)
    print(
        f"training set: {summary['rows']} in {summary['seconds']} s; candidate recall "
        f"{summary['candidate_recall']}"
    )
    return [
        {"workdir": summary["workdir"], "point": point, "index": i}
        for i, point in enumerate(summary["grid"])
    ]


def search(workdir: str, point: dict[str, Any], index: int, **context: Any) -> dict[str, Any]:
    """:func:`~reelops.ranking.train.search_point` for one grid point.

    Without the home's lock: the mapped points run side by side under the scheduler and
    each writes only its own file in the run's folder.
    """
    run = run_values(context)
    result = steps.search_point(run.settings, run_spec(workdir), Path(workdir), point, index)
    print(f"grid point {index} {point}: validation {result['validation']}")
    return {**result, "workdir": str(workdir)}


@holds_home_lock
def train(results: list[dict[str, Any]], **context: Any) -> dict[str, Any]:
    """:func:`~reelops.ranking.train.train` with the best validation point."""
    run = run_values(context)
    results = list(results)
    workdir = Path(results[0]["workdir"])
    trained = steps.train(run.settings, run_spec(workdir), workdir, results)
    return {**trained, "workdir": str(workdir)}


@holds_home_lock
def evaluate(trained: dict[str, Any], **context: Any) -> dict[str, Any]:
    """:func:`~reelops.ranking.train.evaluate`; prints the report."""
    run = run_values(context)
    workdir = Path(trained["workdir"])
    summary = steps.evaluate(run.settings, run_spec(workdir), workdir)
    print((workdir / "report.txt").read_text())
    return {**summary, "workdir": str(workdir)}


@holds_home_lock
def save_candidate(evaluated: dict[str, Any], **context: Any) -> dict[str, Any]:
    """:func:`~reelops.ranking.train.save_candidate` with the run conf's approval policy."""
    run = run_values(context)
    workdir = Path(evaluated["workdir"])
    saved = steps.save_candidate(run.settings, run.spec(MODEL_NAME), workdir, run.approval)
    (workdir / "candidate.json").write_text(json.dumps(saved, indent=2))
    print(f"saved ranker {saved['version']} as a candidate")
    return saved
