"""Fit the grid of throughput models and choose the model and MPC mode on validation traces."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

import pandas as pd

from reelops.abr.evaluation import (
    base_trace_id,
    evaluate_policies,
    per_trace,
)
from reelops.abr.policies import MPC, PolicyFactory, baseline_policies
from reelops.abr.traces import Trace
from reelops.bitrate.features import (
    UNKNOWN_CONTEXT,
    SessionContext,
)
from reelops.bitrate.protocol import Mode, TrainingSettings
from reelops.bitrate.sessions import randomized_traces, simulate_training_sessions
from reelops.bitrate.throughput import (
    ModelParams,
    ThroughputModel,
    XGBoostPredictor,
)

POLICY = "xgb_mpc"


@dataclass
class Selection:
    """What :func:`select_model` chose, and every trial it made."""

    model: ThroughputModel
    mode: Mode
    trials: list[dict]
    fit_s: float


ContextOf = Callable[[str], SessionContext]


def _unknown(_trace_id: str) -> SessionContext:
    return UNKNOWN_CONTEXT


def predictor_policy(
    model: ThroughputModel, mode: Mode, context_of: ContextOf = _unknown
) -> PolicyFactory:
    """Factory of predictor-driven MPC sessions; each gets its trace's session context."""
    return lambda trace: MPC(
        XGBoostPredictor(model, mode, context_of(base_trace_id(trace.trace_id)))
    )


def model_grid(
    params: Mapping[str, object], search: Mapping[str, Sequence], training: TrainingSettings
) -> list[ModelParams]:
    """The search grid as :class:`ModelParams`, each point merged over ``params``.

    Raises:
        ValueError: A key is not a :class:`ModelParams` field.
    """
    fields = set(ModelParams.__dataclass_fields__) - {"quantiles", "seed", "threads"}
    grid: list[dict] = [dict(params)]
    for key, values in search.items():
        grid = [{**point, key: value} for point in grid for value in values]
    out = []
    for point in grid:
        if unknown := sorted(set(point) - fields):
            raise ValueError(
                f"unknown model parameter(s) {unknown}; expected some of {sorted(fields)}"
            )
        out.append(
            ModelParams(
                **point,
                quantiles=tuple(training.quantiles),
                seed=training.seed,
                threads=training.threads,
            )
        )
    return out


def augmentation_rows(training: TrainingSettings) -> pd.DataFrame | None:
    """Sessions over randomized synthetic traces (no network context), or None if disabled."""
    if not training.randomized_traces:
        return None
    return simulate_training_sessions(
        randomized_traces(training.randomized_traces, training.seed),
        seed=training.seed,
        sessions_per_trace=training.randomized_sessions_per_trace,
    )


def select_model(
    train_rows: pd.DataFrame,
    grid: Sequence[ModelParams],
    modes: Sequence[Mode],
    validation: Sequence[Trace],
    context_of: ContextOf = _unknown,
    reference: str = "robust_mpc",
    log: Callable[[str], None] = lambda _m: None,
) -> Selection:
    """Fit every grid point, play the validation traces with every mode, keep the best QoE_lin.

    Args:
        train_rows: Per-chunk training rows in the ``fct_delivery_samples`` layout.
        grid: Model settings to try.
        modes: MPC modes to try with each model.
        validation: Validation traces (already expanded to several starts if wanted).
        context_of: Session context of a trace id.
        reference: Baseline whose validation QoE the trials are reported against.
        log: Receives progress lines.

    Returns:
        The chosen model and mode and every trial.

    Raises:
        ValueError: Empty grid, modes or validation traces.
    """
    if not grid or not modes or not validation:
        raise ValueError(
            f"need grid points, modes and validation traces, got {len(grid)}, {len(modes)}, "
            f"{len(validation)}"
        )
    base = per_trace(evaluate_policies(validation, {reference: baseline_policies()[reference]}))
    base_qoe = float(base["qoe_lin"].mean())
    trials: list[dict] = []
    best: tuple[float, ThroughputModel, Mode] | None = None
    fit_s = 0.0
    for i, params in enumerate(grid):
        started = time.perf_counter()
        model = ThroughputModel.fit(train_rows, params)
        fit_s += time.perf_counter() - started
        policies = {f"mode={m}": predictor_policy(model, m, context_of) for m in modes}
        scores = per_trace(evaluate_policies(validation, policies))
        for mode in modes:
            qoe = float(scores.loc[scores["policy"] == f"mode={mode}", "qoe_lin"].mean())
            trials.append(
                {
                    "candidate": i,
                    "params": {
                        k: v for k, v in asdict(params).items() if k not in ("quantiles", "threads")
                    },
                    "mode": mode,
                    "validation_qoe_lin": qoe,
                    f"minus_{reference}": qoe - base_qoe,
                }
            )
            log(
                f"  grid point {i} horizon={params.horizon} mode={mode}: "
                f"{qoe - base_qoe:+.2f} vs {reference}"
            )
            if best is None or qoe > best[0]:
                best = (qoe, model, mode)
    return Selection(best[1], best[2], trials, fit_s / len(grid))
