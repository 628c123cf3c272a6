"""The bitrate predictor's experiment on real traces, and its timings for `make bench`.

Trace files are split by file into train / validation / test. Training sessions are
simulated over the train traces only; the XGBoost quantile model and the way MPC
uses it (one quantile, or all as scenarios) are chosen by QoE_lin on the validation
traces; then every baseline and the chosen predictor-driven MPC play the test traces
in one :func:`~reelops.delivery.evaluation.evaluate_policies` run (Pensieve's test
mode: one session per trace from its first row). Run ``python -m benchmarks.bitrate``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from reelops.delivery.evaluation import (
    compare_policies,
    evaluate_policies,
    split_traces,
    summarize,
    summary_table,
)
from reelops.delivery.features import LOG_HM_INDEX, features_from_rows, features_from_state
from reelops.delivery.policies import MPC, PolicyFactory, baseline_policies
from reelops.delivery.predictor import (
    ModelParams,
    ThroughputModel,
    XGBoostPredictor,
    training_set,
)
from reelops.delivery.sessions import randomized_traces, simulate_training_sessions
from reelops.delivery.simulator import PlayerState, simulate_session
from reelops.delivery.traces import Trace, load_trace_dir
from reelops.delivery.video import reference_video

TRACES_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "abr" / "traces_train"
RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
POLICY = "xgb_mpc"
BASELINE = "robust_mpc"
ORACLE = "oracle_mpc"
Mode = float | str


@dataclass(frozen=True)
class ExperimentConfig:
    """What the experiment does; the defaults are the reported run.

    Attributes:
        split_seed: Seed of the by-file split.
        split: Shares of train, validation and test files.
        sessions_per_trace: Training sessions simulated per train trace.
        randomized: Synthetic traces of random kinds added to the training traces
            (see :func:`~reelops.delivery.sessions.randomized_traces`); 0 for none.
        randomized_sessions_per_trace: Training sessions per synthetic trace.
        candidates: Model settings to choose from on validation.
        modes: Ways MPC uses the model: a quantile level, or ``"scenarios"``.
        validation_starts: Sessions per validation trace (the first from row 1, the
            rest from random rows), to choose on more than one stretch of each trace.
        test_starts: Sessions per test trace in the secondary, multi-start test
            (the primary test is Pensieve's one session from row 1).
        error_sessions_per_trace: Baseline sessions per test trace on which the
            prediction error is measured.
        bootstrap: Bootstrap resamples.
        seed: Seed of session starts and policies.
    """

    split_seed: int = 0
    split: tuple[float, float, float] = (0.6, 0.2, 0.2)
    sessions_per_trace: int = 16
    randomized: int = 90
    randomized_sessions_per_trace: int = 8
    candidates: tuple[ModelParams, ...] = field(
        default=(ModelParams(horizon=1), ModelParams(horizon=5))
    )
    modes: tuple[Mode, ...] = (0.1, "scenarios")
    validation_starts: int = 8
    test_starts: int = 4
    error_sessions_per_trace: int = 8
    bootstrap: int = 2000
    seed: int = 0


def rotated(trace: Trace, start_index: int) -> Trace:
    """The trace replayed from row ``start_index``: playing it from row 1 is the same session.

    The simulator loops back to row 1 after the last row, so rows ``start_index..`` then
    ``1..start_index - 1`` is the bandwidth a session from ``start_index`` sees, and an
    oracle built on the rotated trace replays it exactly.
    """
    if start_index == 1:
        return trace
    durations = np.diff(trace.time_s)
    order = np.r_[np.arange(start_index - 1, len(durations)), np.arange(start_index - 1)]
    times = np.r_[0.0, np.cumsum(durations[order])]
    mbps = np.r_[trace.mbps[0], trace.mbps[1:][order]]
    return Trace(f"{trace.trace_id}@{start_index}", times, mbps)


def multi_start(traces: Sequence[Trace], starts: int, seed: int) -> list[Trace]:
    """Each trace from row 1 and from ``starts - 1`` random rows, as rotated traces."""
    rng = np.random.default_rng(seed)
    out = []
    for trace in traces:
        rows = len(trace.time_s)
        picks = [1, *(int(rng.integers(2, rows)) for _ in range(starts - 1) if rows > 2)]
        out += [rotated(trace, s) for s in dict.fromkeys(picks)]
    return out


def per_trace(frame: pd.DataFrame) -> pd.DataFrame:
    """Average each policy's sessions of a trace (ids ``name@start``) into one row per trace."""
    base = frame.assign(trace_id=frame["trace_id"].str.replace(r"@\d+$", "", regex=True))
    numeric = base.select_dtypes("number").columns
    return base.groupby(["trace_id", "policy"], sort=False)[list(numeric)].mean().reset_index()


def predictor_policy(model: ThroughputModel, mode: Mode) -> PolicyFactory:
    """Factory of predictor-driven MPC sessions."""
    return lambda _trace: MPC(XGBoostPredictor(model, mode))


def prediction_error(model: ThroughputModel, rows: pd.DataFrame) -> dict[str, dict]:
    """MAE of log throughput, model median against the harmonic mean of the last five.

    Measured on the model's own target (the harmonic-mean throughput of the next
    ``horizon`` chunks) and on the next chunk alone, with the coverage of the model's
    outer quantile interval on its target.
    """
    out = {}
    for name, horizon in (("model_target", model.params.horizon), ("next_chunk", 1)):
        usable, target = training_set(rows, horizon)
        features = features_from_rows(usable)
        quantiles = model.predict_quantiles(features)
        actual = np.log(target)
        median = np.log(quantiles[:, model.quantiles.index(0.5)])
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


def decision_timings(
    model: ThroughputModel, mode: Mode, traces: Sequence[Trace]
) -> dict[str, dict[str, float]]:
    """p50/p99 of each part of one decision, over every decision of sessions on ``traces``."""
    video = reference_video()
    predictor = XGBoostPredictor(model, mode)
    mpc = MPC(predictor)
    spans: dict[str, list[float]] = {"features": [], "model": [], "end_to_end": []}

    class Timed:
        def reset(self) -> None:
            mpc.reset()

        def choose(self, state: PlayerState) -> int:
            clock = time.perf_counter
            t0 = clock()
            x = features_from_state(state, predictor.context)
            t1 = clock()
            model.predict_one(x)
            t2 = clock()
            level = mpc.choose(state)
            t3 = clock()
            spans["features"].append(t1 - t0)
            spans["model"].append(t2 - t1)
            spans["end_to_end"].append(t3 - t2)
            return level

    for trace in traces:
        simulate_session(trace, video, Timed())
    return {
        name: {
            "n": len(values),
            "p50_us": float(np.percentile(values, 50) * 1e6),
            "p99_us": float(np.percentile(values, 99) * 1e6),
        }
        for name, values in spans.items()
    }


def choose_on_validation(
    candidates: Sequence[ModelParams],
    modes: Sequence[Mode],
    train_rows: pd.DataFrame,
    validation: Sequence[Trace],
    log: Callable[[str], None],
) -> tuple[ThroughputModel, Mode, list[dict], float]:
    """Fit every candidate, play validation with every mode, keep the best by QoE_lin."""
    if not candidates or not modes:
        raise ValueError(
            f"need at least one candidate and one mode, got {len(candidates)} and {len(modes)}"
        )
    baseline = baseline_policies()[BASELINE]
    base = per_trace(evaluate_policies(validation, {BASELINE: baseline}))
    base_qoe = float(base["qoe_lin"].mean())
    trials = []
    best: tuple[float, ThroughputModel, Mode] | None = None
    fit_s = 0.0
    for i, params in enumerate(candidates):
        started = time.perf_counter()
        model = ThroughputModel.fit(train_rows, params)
        fit_s += time.perf_counter() - started
        policies = {f"mode={m}": predictor_policy(model, m) for m in modes}
        scores = per_trace(evaluate_policies(validation, policies))
        for mode in modes:
            qoe = float(scores.loc[scores["policy"] == f"mode={mode}", "qoe_lin"].mean())
            trials.append(
                {
                    "candidate": i,
                    "params": asdict(params),
                    "mode": mode,
                    "validation_qoe_lin": qoe,
                    "minus_robust_mpc": qoe - base_qoe,
                }
            )
            log(f"  candidate {i} horizon={params.horizon} mode={mode}: {qoe - base_qoe:+.2f}")
            if best is None or qoe > best[0]:
                best = (qoe, model, mode)
    return best[1], best[2], trials, fit_s / len(candidates)


def experiment(
    traces: Sequence[Trace],
    config: ExperimentConfig = ExperimentConfig(),
    log: Callable[[str], None] = lambda _message: None,
) -> dict:
    """Run the whole experiment; see the module docstring.

    Args:
        traces: Every trace file (the experiment splits them).
        config: What to run.
        log: Receives progress lines.

    Returns:
        A JSON-able dict: split sizes, validation trials, the chosen model and mode,
        the test summary per policy, the bootstrap against robustMPC, the share of
        the robustMPC-to-oracle gap closed, prediction error and timings.
    """
    splits = split_traces(traces, seed=config.split_seed, fractions=config.split)
    empty = [name for name, part in splits.items() if not part]
    if empty:
        raise ValueError(f"the by-file split left {empty} empty; give more trace files")
    sizes = {name: len(part) for name, part in splits.items()}
    log(f"split: {sizes}")

    started = time.perf_counter()
    parts = [
        simulate_training_sessions(
            splits["train"], seed=config.seed, sessions_per_trace=config.sessions_per_trace
        )
    ]
    if config.randomized:
        parts.append(
            simulate_training_sessions(
                randomized_traces(config.randomized, config.seed),
                seed=config.seed,
                sessions_per_trace=config.randomized_sessions_per_trace,
            )
        )
    train_rows = pd.concat(parts, ignore_index=True)
    simulate_s = time.perf_counter() - started
    log(
        f"training rows: {len(train_rows)} from {len(splits['train'])} train traces and "
        f"{config.randomized} randomized ones ({simulate_s:.1f} s)"
    )

    validation = multi_start(splits["validation"], config.validation_starts, config.seed + 1)
    model, mode, trials, fit_s = choose_on_validation(
        config.candidates, config.modes, train_rows, validation, log
    )
    log(f"chosen: horizon={model.params.horizon}, mode={mode}")

    test = splits["test"]
    policies = {
        name: factory for name, factory in baseline_policies().items() if name != ORACLE
    } | {POLICY: predictor_policy(model, mode), ORACLE: baseline_policies()[ORACLE]}
    frame = evaluate_policies(test, policies)
    summary = summarize(frame)
    versus = compare_policies(frame, POLICY, BASELINE, n=config.bootstrap, seed=config.seed)
    multi = per_trace(
        evaluate_policies(
            multi_start(test, config.test_starts, config.seed + 2),
            {k: policies[k] for k in (BASELINE, POLICY, ORACLE)},
        )
    )
    versus_multi = compare_policies(multi, POLICY, BASELINE, n=config.bootstrap, seed=config.seed)
    gap = {}
    for name, scores in (("primary", frame), ("multi_start", multi)):
        means = scores.groupby("policy")["qoe_lin"].mean()
        headroom = means[ORACLE] - means[BASELINE]
        gap[name] = float((means[POLICY] - means[BASELINE]) / headroom) if headroom else None

    error_rows = simulate_training_sessions(
        test, seed=config.seed + 3, sessions_per_trace=config.error_sessions_per_trace
    )
    return {
        "split": sizes,
        "training": {
            "rows": int(len(train_rows)),
            "sessions": int(train_rows["session_id"].nunique()),
            "simulate_s": simulate_s,
            "fit_s_per_candidate": fit_s,
        },
        "validation_trials": trials,
        "chosen": {"params": asdict(model.params), "mode": mode},
        "test": {
            "summary": summary,
            "versus_robust_mpc": versus,
            "multi_start_versus_robust_mpc": versus_multi,
            "multi_start_summary": summarize(multi),
            "gap_closed_to_oracle": gap,
            "prediction_error": prediction_error(model, error_rows),
        },
        "timings": decision_timings(model, mode, test),
        "table": summary_table(frame),
    }


def report(result: dict) -> str:
    """The experiment as readable text."""
    test = result["test"]
    v, vm = test["versus_robust_mpc"], test["multi_start_versus_robust_mpc"]
    err, gap = test["prediction_error"], test["gap_closed_to_oracle"]
    t = result["timings"]
    lines = [
        f"split by file: {result['split']}",
        f"training: {result['training']['rows']} rows from {result['training']['sessions']} "
        f"sessions; fit {result['training']['fit_s_per_candidate']:.1f} s per candidate",
        f"chosen on validation: horizon={result['chosen']['params']['horizon']}, "
        f"mode={result['chosen']['mode']}",
        "",
        "test traces, one session each from row 1:",
        result["table"],
        "",
        f"{POLICY} - {BASELINE} QoE_lin per session: {v['mean_diff']:+.2f} "
        f"(95% bootstrap {v['ci_low']:+.2f} .. {v['ci_high']:+.2f}, {v['traces']} traces); "
        f"gap to oracle closed: {gap['primary']:.0%}",
        f"same, {result['test']['multi_start_summary'][POLICY]['traces']} traces x several "
        f"starts: {vm['mean_diff']:+.2f} ({vm['ci_low']:+.2f} .. {vm['ci_high']:+.2f}); "
        f"gap closed: {gap['multi_start']:.0%}",
        *(
            f"MAE of log throughput ({e['horizon']}-chunk target, {e['rows']} test requests): "
            f"model median {e['mae_log_model']:.4f}, harmonic mean "
            f"{e['mae_log_harmonic_mean']:.4f}; {e['interval']} interval coverage "
            f"{e['interval_coverage']:.1%}"
            for e in err.values()
        ),
        "one decision (p50 / p99, microseconds): "
        + ", ".join(f"{k} {s['p50_us']:.0f} / {s['p99_us']:.0f}" for k, s in t.items()),
    ]
    return "\n".join(lines)


def run(work: Path, traces_dir: Path = TRACES_DIR) -> list[dict]:
    """Run the experiment for `make bench`; write ``work/bitrate.json``; return timing rows.

    Args:
        work: Scratch directory for the results file.
        traces_dir: The trace files.

    Returns:
        Rows of ``step``, ``wall_s`` and ``peak_rss_mib`` (latency rows add
        ``p50_us`` and ``p99_us``).

    Raises:
        FileNotFoundError: ``traces_dir`` does not exist.
    """
    if not traces_dir.is_dir():
        raise FileNotFoundError(
            f"{traces_dir}: trace directory not found; the bitrate benchmark needs the "
            "shared ABR traces (../shared/data/abr/traces_train)"
        )
    started = time.perf_counter()
    result = experiment(load_trace_dir(traces_dir), log=lambda m: print(m, file=sys.stderr))
    total = time.perf_counter() - started
    Path(work).mkdir(parents=True, exist_ok=True)
    (Path(work) / "bitrate.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    training = result["training"]
    rows = [
        {
            "step": f"bitrate: whole experiment ({len(result['validation_trials'])} trials)",
            "wall_s": round(total, 1),
        },
        {
            "step": f"bitrate: simulate {training['sessions']} training sessions",
            "wall_s": round(training["simulate_s"], 1),
        },
        {
            "step": f"bitrate: fit quantile model on {training['rows']:,} rows",
            "wall_s": round(training["fit_s_per_candidate"], 1),
        },
    ]
    for name, label in (
        ("features", "features from player state"),
        ("model", "model: features -> quantiles"),
        ("end_to_end", "one decision: features -> quantiles -> level"),
    ):
        s = result["timings"][name]
        rows.append(
            {
                "step": f"bitrate: {label} (p50 {s['p50_us']:.0f} us, p99 {s['p99_us']:.0f} us)",
                "wall_s": round(s["p50_us"] * s["n"] / 1e6, 3),
                "p50_us": round(s["p50_us"], 1),
                "p99_us": round(s["p99_us"], 1),
            }
        )
    return [{**row, "peak_rss_mib": round(peak, 1)} for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--traces", type=Path, default=TRACES_DIR, help="trace directory")
    parser.add_argument("--out", type=Path, default=RESULTS / "bitrate.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reelops-bitrate-") as tmp:
        rows = run(Path(tmp), args.traces)
        result = json.loads((Path(tmp) / "bitrate.json").read_text())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "result": result}, indent=2) + "\n")
    print(report(result))
    print()
    for row in rows:
        print(f"  {row['step']:<72} {row['wall_s']:>8} {row['peak_rss_mib']:>9}")
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
