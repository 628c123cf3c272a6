"""Bitrate benchmark: the acceptance experiment on real traces and one decision's latency.

The experiment is :func:`reelops.bitrate.experiment.run_experiment` with the settings
of ``models/bitrate.yaml`` (trace files split by file; model and MPC mode chosen on
validation; every policy on the test files in one run). The latency is
:meth:`reelops.bitrate.decision.BitrateModel.decide`, the serving path, on every
request of sessions played over the test traces. Run ``python -m benchmarks.bitrate``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from reelops.abr.simulator import simulate_session
from reelops.bitrate.cross_validation import cross_validate
from reelops.bitrate.decision import BitrateModel, DecisionRequest
from reelops.bitrate.experiment import run_experiment
from reelops.bitrate.features import features_from_state
from reelops.bitrate.report import format_report
from reelops.bitrate.selection import POLICY, model_grid, predictor_policy
from reelops.bitrate.train import MODEL, settings_of
from reelops.specs import load_spec

TRACES_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "abr" / "traces_train"
RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def decision_timings(model: BitrateModel, traces) -> dict[str, dict[str, float]]:
    """p50/p99 of one decision and of its parts, over every request of sessions on ``traces``.

    Sessions are played by the predictor-driven MPC; at each request the same state is
    also answered through :meth:`BitrateModel.decide` (what serving calls) and timed.
    """
    spans: dict[str, list[float]] = {"features": [], "model": [], "decide": []}
    clock = time.perf_counter
    for trace in traces:
        policy = predictor_policy(model.model, model.mode)(trace)

        class Timed:
            def reset(self, policy=policy) -> None:
                policy.reset()

            def choose(self, state) -> int:
                request = DecisionRequest(
                    state.chunk_index,
                    state.buffer_s,
                    list(state.levels),
                    list(state.throughputs_mbps),
                    list(state.download_s),
                )
                t0 = clock()
                x = features_from_state(state)
                t1 = clock()
                model.model.predict_one(x)
                t2 = clock()
                decision = model.decide(request)
                t3 = clock()
                spans["features"].append(t1 - t0)
                spans["model"].append(t2 - t1)
                spans["decide"].append(t3 - t2)
                return decision.level

        simulate_session(trace, model.video, Timed())
    return {
        name: {
            "n": len(values),
            "p50_us": float(np.percentile(values, 50) * 1e6),
            "p99_us": float(np.percentile(values, 99) * 1e6),
        }
        for name, values in spans.items()
    }


def _settings(spec_path: Path | None, split_seed: int | None, seed: int | None):
    """The spec (``models/bitrate.yaml`` unless another is given) and its training and
    evaluation settings, with the split seed and training draw overridden when given."""
    spec = load_spec(spec_path or MODEL)
    training, evaluation = settings_of(spec)
    updates = {"split_seed": split_seed, "seed": seed}
    training = training.model_copy(update={k: v for k, v in updates.items() if v is not None})
    return spec, training, evaluation


def experiment(
    traces_dir: Path,
    split_seed: int | None = None,
    log=print,
    seed: int | None = None,
    spec_path: Path | None = None,
) -> dict:
    """The experiment with the spec's settings, timed.

    ``split_seed`` and ``seed`` (the training draw: sessions, augmentation, bootstraps)
    override the spec's; ``spec_path`` replaces ``models/bitrate.yaml`` (to try settings).
    """
    from reelops.abr.traces import load_trace_dir

    spec, training, evaluation = _settings(spec_path, split_seed, seed)
    grid = model_grid(spec.params, spec.search, training)
    started = time.perf_counter()
    result = run_experiment(load_trace_dir(traces_dir), grid, training, evaluation, log=log)
    figures = result.figures | {"wall_s": time.perf_counter() - started}
    figures["timings"] = decision_timings(BitrateModel(result.model, result.mode), result.test)
    return figures


def cross_validation(
    traces_dir: Path,
    folds: int,
    split_seed: int | None = None,
    seed: int | None = None,
    spec_path: Path | None = None,
) -> dict:
    """The experiment once per fold by file, pooled (see ``cross_validate``)."""
    from reelops.abr.traces import load_trace_dir

    spec, training, evaluation = _settings(spec_path, split_seed, seed)
    started = time.perf_counter()
    figures = cross_validate(
        load_trace_dir(traces_dir),
        model_grid(spec.params, spec.search, training),
        folds,
        training,
        evaluation,
        log=lambda m: print(m, file=sys.stderr),
    )
    return figures | {"wall_s": time.perf_counter() - started}


def _share(value: float | None) -> str:
    return "    -" if value is None else f"{value:>5.0%}"


def format_cross_validation(figures: dict) -> str:
    """Per-fold and pooled differences with robustMPC, as a table."""
    lines = [
        f"cross-validation by file, {len(figures['folds'])} folds "
        f"(split seed {figures['split_seed']}, training draw {figures['seed']})",
        f"{'fold':>4} {'test':>5} {'horizon':>7} {'diff':>7} {'95% CI':>16} {'gap':>5}",
    ]
    for fold in figures["folds"]:
        v = fold["versus_reference"]
        lines.append(
            f"{fold['fold'] + 1:>4} {fold['split']['test']:>5} "
            f"{fold['chosen']['params']['horizon']:>7} {v['mean_diff']:>+7.2f} "
            f"{v['ci_low']:>+7.2f}..{v['ci_high']:<+7.2f} {_share(fold['gap_closed_to_oracle'])}"
        )
    pooled = figures["pooled"]
    v = pooled["versus_reference"]
    lines += [
        f"pooled over {pooled['traces']} test trace files: {POLICY} - {v['baseline']} "
        f"{v['mean_diff']:+.2f} (95% CI {v['ci_low']:+.2f}..{v['ci_high']:+.2f}), "
        f"{_share(pooled['gap_closed_to_oracle'])} of the gap to the oracle",
        f"next-chunk MAE of log throughput (mean over folds): model "
        f"{pooled['mae_log_model']:.3f}, harmonic mean {pooled['mae_log_harmonic_mean']:.3f}",
        "",
        pooled["table"],
    ]
    return "\n".join(lines)


def run(
    work: Path,
    traces_dir: Path = TRACES_DIR,
    split_seed: int | None = None,
    seed: int | None = None,
    spec_path: Path | None = None,
) -> list[dict]:
    """Run the experiment for `make bench`; write ``work/bitrate.json``; return timing rows.

    Args:
        work: Scratch directory for the results file.
        traces_dir: The trace files.
        split_seed: Overrides the spec's split seed.
        seed: Overrides the spec's training-draw seed.
        spec_path: A spec file to use instead of ``models/bitrate.yaml``.

    Returns:
        Rows of ``step``, ``wall_s`` and ``peak_rss_mib`` (latency rows add
        ``p50_us`` and ``p99_us``).

    Raises:
        FileNotFoundError: ``traces_dir`` does not exist.
    """
    if not Path(traces_dir).is_dir():
        raise FileNotFoundError(
            f"{traces_dir}: trace directory not found; the bitrate benchmark needs the "
            "shared ABR traces (../shared/data/abr/traces_train)"
        )
    figures = experiment(
        Path(traces_dir),
        split_seed,
        log=lambda m: print(m, file=sys.stderr),
        seed=seed,
        spec_path=spec_path,
    )
    Path(work).mkdir(parents=True, exist_ok=True)
    (Path(work) / "bitrate.json").write_text(json.dumps(figures, indent=2, default=str) + "\n")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    training = figures["training"]
    versus = figures["test"]["multi_start"]["versus_reference"]
    rows = [
        {
            "step": f"bitrate: whole experiment (seed {figures['split_seed']}, "
            f"{POLICY} - robust_mpc {versus['mean_diff']:+.2f}, "
            f"CI {versus['ci_low']:+.2f}..{versus['ci_high']:+.2f})",
            "wall_s": round(figures["wall_s"], 1),
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
        ("decide", "one decision: request -> quantiles -> level"),
    ):
        s = figures["timings"][name]
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
    parser.add_argument("--split-seed", type=int, default=None, help="override the spec's")
    parser.add_argument(
        "--seed", type=int, default=None, help="training draw; overrides the spec's"
    )
    parser.add_argument("--spec", type=Path, default=None, help="spec file to try instead")
    parser.add_argument(
        "--folds", type=int, default=None, help="cross-validate by file with this many folds"
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    draw = f"-draw{args.seed}" if args.seed is not None else ""
    if args.folds:
        figures = cross_validation(args.traces, args.folds, args.split_seed, args.seed, args.spec)
        name = f"bitrate-cv{args.folds}-seed{figures['split_seed']}{draw}.json"
        out = args.out or RESULTS / name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(figures, indent=2, default=str) + "\n")
        print(format_cross_validation(figures))
        print(f"\nwritten to {out}")
        return
    with tempfile.TemporaryDirectory(prefix="reelops-bitrate-") as tmp:
        rows = run(Path(tmp), args.traces, args.split_seed, args.seed, args.spec)
        figures = json.loads((Path(tmp) / "bitrate.json").read_text())
    out = args.out or RESULTS / f"bitrate-seed{figures['split_seed']}{draw}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"rows": rows, "result": figures}, indent=2) + "\n")
    print(format_report(figures))
    print()
    for row in rows:
        print(f"  {row['step']:<84} {row['wall_s']:>8} {row['peak_rss_mib']:>9}")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
