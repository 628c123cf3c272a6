"""The acceptance experiment once per fold of the trace files, pooled over every file."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from reelops.abr.evaluation import (
    compare_policies,
    fold_traces,
    summary_table,
)
from reelops.abr.traces import Trace
from reelops.bitrate.experiment import run_split
from reelops.bitrate.holdout_eval import gap_closed
from reelops.bitrate.protocol import EvaluationSettings, TrainingSettings
from reelops.bitrate.selection import POLICY
from reelops.bitrate.throughput import (
    ModelParams,
)


def cross_validate(
    traces: Sequence[Trace],
    grid: Sequence[ModelParams],
    folds: int,
    training: TrainingSettings = TrainingSettings(),
    evaluation: EvaluationSettings = EvaluationSettings(),
    log: Callable[[str], None] = lambda _m: None,
) -> dict:
    """The experiment once per fold (:func:`~reelops.abr.evaluation.fold_traces`), pooled.

    Each fold trains on its train files, chooses the model and mode on its validation
    files and plays its test files, exactly as
    :func:`~reelops.bitrate.experiment.run_experiment`; every file is a test file once,
    so the pooled paired bootstrap resamples all of them (a test set ``folds / test
    share`` times larger than one split's, hence a narrower interval).

    Returns:
        ``folds``: each fold's sizes, choice, difference with its interval, gap share
        and prediction error; ``pooled``: the difference over every trace with its
        interval, the gap share, the per-policy table and the folds' mean MAEs.
    """
    validation_share = training.split[1] / (training.split[0] + training.split[1])
    parts = fold_traces(traces, folds, training.split_seed, validation_share)
    per_fold, frames = [], []
    for i, splits in enumerate(parts):
        log(f"fold {i + 1}/{folds}: { {k: len(v) for k, v in splits.items()} }")
        result = run_split(splits, grid, training, evaluation, log)
        figures = result.figures
        frames.append(result.per_trace)
        versus = figures["test"]["multi_start"]["versus_reference"]
        per_fold.append(
            {
                "fold": i,
                "split": figures["split"],
                "chosen": figures["chosen"],
                "versus_reference": versus,
                "gap_closed_to_oracle": figures["test"]["multi_start"]["gap_closed_to_oracle"],
                "prediction_error": figures["prediction_error"]["next_chunk"],
            }
        )
        log(f"  fold {i + 1}: {versus['mean_diff']:+.2f} vs {evaluation.reference}")
    pooled = pd.concat(frames, ignore_index=True)
    errors = [f["prediction_error"] for f in per_fold]
    return {
        "folds": per_fold,
        "split_seed": training.split_seed,
        "seed": training.seed,
        "pooled": {
            "traces": int(pooled["trace_id"].nunique()),
            "versus_reference": compare_policies(
                pooled, POLICY, evaluation.reference, n=evaluation.bootstrap, seed=evaluation.seed
            ),
            "gap_closed_to_oracle": gap_closed(pooled, evaluation, POLICY),
            "table": summary_table(pooled),
            "mae_log_model": float(np.mean([e["mae_log_model"] for e in errors])),
            "mae_log_harmonic_mean": float(np.mean([e["mae_log_harmonic_mean"] for e in errors])),
        },
    }
