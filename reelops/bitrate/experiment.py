"""The acceptance experiment on trace files: split by file, train, choose, judge on test.

The same steps serve the training DAG (rows from the delivery marts and Feast,
hold-out traces from the source; see :mod:`reelops.bitrate.train`) and this
experiment: :func:`~reelops.bitrate.selection.select_model` fits every grid point
and plays the validation traces with every MPC mode, keeping the best QoE_lin;
:func:`~reelops.bitrate.holdout_eval.evaluate_holdout` plays every policy on the test
traces in one run.

Evaluation protocol: each test trace is played ``starts_per_trace`` times, from
row 1 and from random rows (the trace rotated so it starts there), and the mean
over its sessions is the trace's score; the paired bootstrap resamples traces.
Pensieve's figure (one session per trace from row 1) is reported beside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

import pandas as pd

from reelops.abr.evaluation import (
    multi_start,
    split_traces,
)
from reelops.abr.traces import Trace
from reelops.bitrate.holdout_eval import evaluate_holdout, holdout_json, prediction_error
from reelops.bitrate.protocol import EvaluationSettings, Mode, TrainingSettings, protocol
from reelops.bitrate.selection import POLICY, augmentation_rows, predictor_policy, select_model
from reelops.bitrate.sessions import simulate_training_sessions
from reelops.bitrate.throughput import (
    ModelParams,
    ThroughputModel,
)


@dataclass
class ExperimentResult:
    """The acceptance experiment on trace files: JSON-able ``figures`` and the fitted model."""

    figures: dict
    model: ThroughputModel
    mode: Mode
    test: list[Trace]
    per_trace: pd.DataFrame  # one row per test trace file and policy (the bootstrap unit)


def run_experiment(
    traces: Sequence[Trace],
    grid: Sequence[ModelParams],
    training: TrainingSettings = TrainingSettings(),
    evaluation: EvaluationSettings = EvaluationSettings(),
    log: Callable[[str], None] = lambda _m: None,
) -> ExperimentResult:
    """Split trace files, train on the train files, choose on validation, judge on test.

    Args:
        traces: Every trace file (split here, by file).
        grid: Model settings to choose from.
        training: Training settings (split, sessions, modes...).
        evaluation: The test protocol.
        log: Receives progress lines.

    Returns:
        The figures: split sizes, training size and time, validation trials, the
        choice, the hold-out comparison (multi-start and Pensieve's), prediction error.

    Raises:
        ValueError: The split left a part empty.
    """
    splits = split_traces(traces, seed=training.split_seed, fractions=training.split)
    log(f"split by file (seed {training.split_seed}): { {k: len(v) for k, v in splits.items()} }")
    return run_split(splits, grid, training, evaluation, log)


def run_split(
    splits: Mapping[str, Sequence[Trace]],
    grid: Sequence[ModelParams],
    training: TrainingSettings,
    evaluation: EvaluationSettings,
    log: Callable[[str], None],
) -> ExperimentResult:
    """:func:`run_experiment` on given train, validation and test traces."""
    if empty := [name for name, part in splits.items() if not part]:
        raise ValueError(f"the by-file split left {empty} empty; give more trace files")
    sizes = {name: len(part) for name, part in splits.items()}
    started = time.perf_counter()
    rows = simulate_training_sessions(
        splits["train"], seed=training.seed, sessions_per_trace=training.sessions_per_trace
    )
    extra = augmentation_rows(training)
    train_rows = pd.concat([rows, extra], ignore_index=True) if extra is not None else rows
    simulate_s = time.perf_counter() - started
    log(f"training rows: {len(train_rows):,} ({simulate_s:.1f} s)")
    validation = multi_start(splits["validation"], training.validation_starts, training.seed + 1)
    chosen = select_model(
        train_rows, grid, training.modes, validation, reference=evaluation.reference, log=log
    )
    log(f"chosen: horizon={chosen.model.params.horizon}, mode={chosen.mode}")
    holdout = evaluate_holdout(
        {POLICY: predictor_policy(chosen.model, chosen.mode)}, splits["test"], evaluation
    )
    error_rows = simulate_training_sessions(
        splits["test"],
        seed=training.seed + 3,
        sessions_per_trace=evaluation.error_sessions_per_trace,
    )
    figures = {
        "split": sizes,
        "split_seed": training.split_seed,
        "training": {
            "rows": int(len(train_rows)),
            "sessions": int(train_rows["session_id"].nunique()),
            "simulate_s": simulate_s,
            "fit_s_per_candidate": chosen.fit_s,
        },
        "validation_trials": chosen.trials,
        "chosen": {"params": asdict(chosen.model.params), "mode": chosen.mode},
        "test": holdout_json(holdout),
        "prediction_error": prediction_error(chosen.model, error_rows),
        "protocol": protocol(training, evaluation),
    }
    return ExperimentResult(
        figures, chosen.model, chosen.mode, list(splits["test"]), holdout["per_trace"]
    )
