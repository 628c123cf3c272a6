"""Judge a chosen model on test traces: every policy in one run, and its prediction error."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from reelops.abr.evaluation import (
    compare_policies,
    evaluate_policies,
    multi_start,
    per_trace,
    summarize,
    summary_table,
)
from reelops.abr.policies import PolicyFactory, baseline_policies
from reelops.abr.traces import Trace
from reelops.bitrate.features import (
    LOG_HM_INDEX,
    features_from_rows,
)
from reelops.bitrate.protocol import EvaluationSettings
from reelops.bitrate.selection import POLICY
from reelops.bitrate.targets import training_set
from reelops.bitrate.throughput import (
    ThroughputModel,
)


def prediction_error(model: ThroughputModel, rows: pd.DataFrame) -> dict[str, dict]:
    """MAE of log throughput: the model's median against the harmonic mean of the last five.

    Measured on the next chunk alone and on the model's own target (the harmonic
    mean of the next ``horizon`` chunks), with the coverage of the outer quantiles.

    Args:
        model: The model.
        rows: Per-chunk rows of sessions the model never trained on.

    Returns:
        ``{"next_chunk": {...}, "model_target": {...}}``.
    """
    out = {}
    for name, horizon in (("next_chunk", 1), ("model_target", model.params.horizon)):
        usable, target = training_set(rows, horizon)
        features = features_from_rows(usable)
        quantiles = model.predict_quantiles(features)
        actual = np.log(target)
        median = (
            np.log(quantiles[:, model.quantiles.index(0.5)])
            if 0.5 in model.quantiles
            else np.log(quantiles[:, len(model.quantiles) // 2])
        )
        harmonic = features.to_numpy()[:, LOG_HM_INDEX]
        low, high = np.log(quantiles[:, 0]), np.log(quantiles[:, -1])
        out[name] = {
            "horizon": horizon,
            "rows": int(len(usable)),
            "mae_log_model": float(np.abs(median - actual).mean()),
            "mae_log_harmonic_mean": float(np.abs(harmonic - actual).mean()),
            "interval": f"{model.quantiles[0]}-{model.quantiles[-1]}",
            "interval_coverage": float(((actual >= low) & (actual <= high)).mean()),
        }
    return out


def holdout_policies(
    policies: Mapping[str, PolicyFactory], evaluation: EvaluationSettings
) -> dict[str, PolicyFactory]:
    """The baselines, the given policies, then the oracle: everything played on one hold-out."""
    every = baseline_policies()
    out = {name: every[name] for name in evaluation.baselines}
    out |= dict(policies)
    if evaluation.oracle:
        out[evaluation.oracle] = every[evaluation.oracle]
    return out


def evaluate_holdout(
    policies: Mapping[str, PolicyFactory],
    test: Sequence[Trace],
    evaluation: EvaluationSettings,
    judged: str = POLICY,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict:
    """Play every policy on the test traces in one run and compare ``judged`` with the reference.

    Args:
        policies: The model-driven policies by label (baselines and oracle are added).
        test: Test trace files (each expanded to ``starts_per_trace`` sessions).
        evaluation: The protocol.
        judged: The label compared with ``evaluation.reference``.
        progress: Called after each simulated session (see ``evaluate_policies``).

    Returns:
        A dict with ``sessions`` (one row per session and policy), ``per_trace`` (one
        row per trace file and policy: the bootstrap unit), ``pensieve_sessions`` (the
        row-1 sessions only); under ``multi_start`` and ``pensieve`` their summaries,
        tables, bootstrap comparisons and the share of the reference-to-oracle gap
        the judged policy closes.
    """
    everything = holdout_policies(policies, evaluation)
    sessions = evaluate_policies(
        multi_start(test, evaluation.starts_per_trace, evaluation.seed + 2),
        everything,
        progress=progress,
    )
    traces = per_trace(sessions)
    pensieve = sessions[~sessions["trace_id"].str.contains("@", regex=False)].reset_index(drop=True)
    out: dict = {"sessions": sessions, "per_trace": traces, "pensieve_sessions": pensieve}
    for name, frame in (("multi_start", traces), ("pensieve", pensieve)):
        out[name] = {
            "summary": summarize(frame),
            "table": summary_table(frame),
            "versus_reference": compare_policies(
                frame, judged, evaluation.reference, n=evaluation.bootstrap, seed=evaluation.seed
            ),
            "gap_closed_to_oracle": gap_closed(frame, evaluation, judged),
        }
    return out


def gap_closed(frame: pd.DataFrame, evaluation: EvaluationSettings, judged: str) -> float | None:
    """Share of the reference-to-oracle gap in mean QoE_lin that ``judged`` closes
    (None without an oracle, or when the oracle is no better than the reference)."""
    if not evaluation.oracle:
        return None
    means = frame.groupby("policy")["qoe_lin"].mean()
    headroom = means[evaluation.oracle] - means[evaluation.reference]
    return float((means[judged] - means[evaluation.reference]) / headroom) if headroom else None


def holdout_json(result: Mapping) -> dict:
    """The JSON-able part of :func:`evaluate_holdout`'s result."""
    return {k: v for k, v in result.items() if not isinstance(v, pd.DataFrame)}
