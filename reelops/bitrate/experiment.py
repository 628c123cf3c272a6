"""Fit the bitrate predictor, choose it on validation traces and judge it on test traces.

The same functions serve the training DAG (rows from the delivery marts and Feast,
hold-out traces from the active source) and the acceptance experiment on trace
files (:func:`run_experiment`): :func:`select_model` fits every grid point and
plays the validation traces with every MPC mode, keeping the best QoE_lin;
:func:`evaluate_holdout` plays every policy on the test traces in one run.

Evaluation protocol: each test trace is played ``starts_per_trace`` times, from
row 1 and from random rows (the trace rotated so it starts there), and the mean
over its sessions is the trace's score; the paired bootstrap resamples traces.
Pensieve's figure (one session per trace from row 1) is reported beside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from reelops.abr.evaluation import (
    base_trace_id,
    compare_policies,
    evaluate_policies,
    fold_traces,
    multi_start,
    per_trace,
    split_traces,
    summarize,
    summary_table,
)
from reelops.abr.policies import MPC, PolicyFactory, baseline_policies
from reelops.abr.traces import Trace
from reelops.bitrate.features import (
    LOG_HM_INDEX,
    UNKNOWN_CONTEXT,
    SessionContext,
    features_from_rows,
)
from reelops.bitrate.sessions import randomized_traces, simulate_training_sessions
from reelops.bitrate.throughput import (
    QUANTILES,
    ModelParams,
    ThroughputModel,
    XGBoostPredictor,
    training_set,
)

POLICY = "xgb_mpc"
Mode = float | Literal["scenarios"]


class TrainingSettings(BaseModel):
    """The ``training`` section of ``models/bitrate.yaml``.

    Attributes:
        sessions_per_trace: Training sessions simulated per training trace file.
        randomized_traces: Synthetic traces of random kinds added to training
            (:func:`~reelops.bitrate.sessions.randomized_traces`); 0 for none.
        randomized_sessions_per_trace: Sessions per synthetic trace.
        quantiles: Quantile levels the model predicts.
        modes: Ways MPC may use the model, chosen on validation: a quantile level, or
            ``"scenarios"`` (every quantile as an equally likely future).
        split: Shares of train, validation and test trace files.
        split_seed: Seed of the by-file split.
        validation_starts: Sessions per validation trace (row 1 and random rows).
        holdout_traces_per_segment: On the synthetic world, fresh traces drawn per
            country x connection for validation and for test.
        holdout_segments: On the world, use only this many segments (a seeded pick;
            0 for all 32), to keep small runs small.
        reference_rows: Training-feature rows saved with the model for drift checks.
        seed: Seed of session starts, augmentation and the boosters.
        threads: XGBoost threads; 0 for all cores.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    sessions_per_trace: int = Field(16, ge=1)
    randomized_traces: int = Field(90, ge=0)
    randomized_sessions_per_trace: int = Field(8, ge=1)
    quantiles: tuple[float, ...] = QUANTILES
    modes: tuple[float | Literal["scenarios"], ...] = (0.1, "scenarios")
    split: tuple[float, float, float] = (0.6, 0.2, 0.2)
    split_seed: int = 0
    validation_starts: int = Field(8, ge=1)
    holdout_traces_per_segment: int = Field(2, ge=1)
    holdout_segments: int = Field(0, ge=0)
    reference_rows: int = Field(5000, ge=1)
    seed: int = 0
    threads: int = Field(0, ge=0)

    @field_validator("modes")
    @classmethod
    def _modes_in_quantiles(cls, modes, info):
        quantiles = info.data.get("quantiles", QUANTILES)
        bad = [m for m in modes if m != "scenarios" and m not in quantiles]
        if not modes or bad:
            raise ValueError(f"modes must be 'scenarios' or levels among {quantiles}, got {bad}")
        return modes


class EvaluationSettings(BaseModel):
    """The ``evaluation`` section of ``models/bitrate.yaml``.

    Attributes:
        starts_per_trace: Sessions per test trace (row 1 and random rows); the
            trace's mean QoE is the unit of the paired bootstrap.
        bootstrap: Bootstrap resamples.
        baselines: Baseline policies played beside the model.
        reference: The baseline the bootstrap interval is taken against.
        oracle: The upper reference (MPC that knows the future bandwidth).
        error_sessions_per_trace: Baseline sessions per test trace on which the
            prediction error is measured.
        seed: Seed of start rows and resampling.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    starts_per_trace: int = Field(4, ge=1)
    bootstrap: int = Field(2000, ge=100)
    baselines: tuple[str, ...] = ("bba", "rate_based", "bola", "robust_mpc")
    reference: str = "robust_mpc"
    oracle: str | None = "oracle_mpc"
    error_sessions_per_trace: int = Field(8, ge=1)
    seed: int = 0

    @field_validator("baselines")
    @classmethod
    def _known(cls, names):
        known = set(baseline_policies())
        if unknown := sorted(set(names) - known):
            raise ValueError(f"unknown baselines {unknown}; choose from {sorted(known)}")
        return names


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
) -> dict:
    """Play every policy on the test traces in one run and compare ``judged`` with the reference.

    Args:
        policies: The model-driven policies by label (baselines and oracle are added).
        test: Test trace files (each expanded to ``starts_per_trace`` sessions).
        evaluation: The protocol.
        judged: The label compared with ``evaluation.reference``.

    Returns:
        A dict with ``sessions`` (one row per session and policy), ``per_trace`` (one
        row per trace file and policy: the bootstrap unit), ``pensieve_sessions`` (the
        row-1 sessions only); under ``multi_start`` and ``pensieve`` their summaries,
        tables, bootstrap comparisons and the share of the reference-to-oracle gap
        the judged policy closes.
    """
    everything = holdout_policies(policies, evaluation)
    sessions = evaluate_policies(
        multi_start(test, evaluation.starts_per_trace, evaluation.seed + 2), everything
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
    return _run_split(splits, grid, training, evaluation, log)


def _run_split(
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


def cross_validate(
    traces: Sequence[Trace],
    grid: Sequence[ModelParams],
    folds: int,
    training: TrainingSettings = TrainingSettings(),
    evaluation: EvaluationSettings = EvaluationSettings(),
    log: Callable[[str], None] = lambda _m: None,
) -> dict:
    """The experiment once per fold (:func:`fold_traces`), pooled over every trace file.

    Each fold trains on its train files, chooses the model and mode on its validation
    files and plays its test files, exactly as :func:`run_experiment`; every file is a
    test file once, so the pooled paired bootstrap resamples all of them (a test set
    ``folds / test share`` times larger than one split's, hence a narrower interval).

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
        result = _run_split(splits, grid, training, evaluation, log)
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


def protocol(training: TrainingSettings, evaluation: EvaluationSettings) -> dict:
    """How the hold-out was made, in words and numbers, for reports and evidence."""
    return {
        "split": "by trace file (never within a trace), hashed with split_seed",
        "split_shares": list(training.split),
        "split_seed": training.split_seed,
        "selection": f"model and MPC mode chosen on validation QoE_lin "
        f"({training.validation_starts} starts per trace)",
        "test_sessions_per_trace": evaluation.starts_per_trace,
        "unit": "trace file: mean QoE over its sessions (row 1 and random start rows)",
        "bootstrap": f"paired percentile bootstrap over trace files, "
        f"{evaluation.bootstrap} resamples, 95 %",
        "pensieve": "one session per test trace from row 1, reported beside it",
    }


def format_report(figures: Mapping) -> str:
    """The experiment's or a candidate's evaluation as readable text."""
    test = figures["test"]
    reference = test["multi_start"]["versus_reference"]["baseline"]
    lines = [f"split by file (seed {figures.get('split_seed')}): {figures.get('split')}"]
    if "chosen" in figures:
        chosen = figures["chosen"]
        lines.append(
            f"chosen on validation: horizon={chosen['params']['horizon']}, mode={chosen['mode']}"
        )
    for name, title in (
        ("multi_start", "test traces, mean over several start rows per trace (primary)"),
        ("pensieve", "test traces, one session each from row 1 (Pensieve's test mode)"),
    ):
        part = test[name]
        v = part["versus_reference"]
        gap = part["gap_closed_to_oracle"]
        lines += [
            "",
            f"{title}:",
            part["table"],
            f"{v['policy']} - {reference} QoE_lin per trace: {v['mean_diff']:+.2f} "
            f"(95% bootstrap {v['ci_low']:+.2f} .. {v['ci_high']:+.2f}, {v['traces']} traces)"
            + (f"; share of the way to the oracle: {gap:.0%}" if gap is not None else ""),
        ]
    for e in figures.get("prediction_error", {}).values():
        lines.append(
            f"MAE of log throughput ({e['horizon']}-chunk target, {e['rows']:,} requests): model "
            f"median {e['mae_log_model']:.3f}, harmonic mean {e['mae_log_harmonic_mean']:.3f}; "
            f"{e['interval']} interval coverage {e['interval_coverage']:.0%}"
        )
    return "\n".join(lines)
