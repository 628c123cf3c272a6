"""The artwork policy on the world: true good-play uplift, completion, and OPE against the truth.

For each world seed: members' taste from days 0-6, the policy (and a click-optimised
twin: same model, reward = any play) trained on the impressions of days 7-13, and
every policy judged on the impressions of days 14-20 (over 100k): the learned policy,
the logging policy (the world shows artwork uniformly at random, so it *is* uniform
random), the best single variant per title (highest good-play rate in the training
log, not personalised), the click-optimised policy and the oracle (the truly best
variant). Each gets replay/IPS/SNIPS/DR with bootstrap CIs from the logged days 14-20,
and its true value from the hidden truth. A logged play of a title the member already
watched is dropped by the world, which the per-impression truth does not model, so for
the estimator checks each world's evaluation impressions are also logged afresh from
the truth (uniform artwork, good plays drawn), ``RUNS_PER_WORLD`` times: SNIPS and DR
error and 95 % CI coverage of the learned policy's true value over all those runs.

Run ``python -m benchmarks.run --only artwork-world``.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np

SEEDS = (1, 2, 3, 4, 5)
RUNS_PER_WORLD = 10  # simulated logs per world: 50 seeded runs in all
CONFIG = {"n_members": 1500, "n_titles": 400, "days": 21, "sessions_per_day": 1}


def _truth(world, cands, threshold):
    from reelops.artwork.evaluation import Truth
    from reelops.world.generator import artwork_truth

    hidden = artwork_truth(world.config)
    ix = hidden.indices(cands.impressions)
    cols = np.where(cands.mask, np.arange(cands.mask.shape[1]), 0)
    variant = hidden.catalog.variant_start[ix["title"]][:, None] + cols

    def per_column(fn, *args):
        got = np.column_stack([fn(ix, variant[:, k], *args) for k in range(variant.shape[1])])
        return np.where(cands.mask, got, 0.0)

    return Truth(
        good=per_column(hidden.good_play_probability, threshold),
        play=per_column(hidden.play_probability),
        completion=per_column(hidden.completion_expected),
    )


def one_world(seed: int) -> dict:
    from reelops.artwork.evaluation import evaluate, simulated_log
    from reelops.artwork.experiment import BEST_SINGLE, UNIFORM, run_experiment
    from reelops.artwork.policy import load_artwork_spec
    from reelops.world import WorldConfig, generate_world

    started = time.perf_counter()
    world = generate_world(WorldConfig(seed=seed, **CONFIG))
    spec = load_artwork_spec()
    exp = run_experiment(world.tables, spec)
    truth = _truth(world, exp.test, spec.good_play_completion)
    exp.policies["oracle"] = truth.oracle(exp.test.mask)
    reports = exp.reports(truth, seed=seed)
    diffs = {other: exp.uplift(other, seed=seed) for other in (UNIFORM, BEST_SINGLE)}
    rng = np.random.default_rng(seed)
    runs = []
    for _ in range(RUNS_PER_WORLD):
        logged, sim_reward = simulated_log(exp.test, truth, rng)
        sim = replace(exp.test, logged=logged)
        got = evaluate({"learned": exp.policies["learned"]}, sim, sim_reward, exp.q_hat, truth)
        runs.append(got["learned"].estimates)
    return {
        "seed": seed,
        "train_impressions": len(exp.train.impressions),
        "eval_impressions": len(exp.test.impressions),
        "reports": reports,
        "dr_difference": diffs,
        "simulated": runs,
        "seconds": time.perf_counter() - started,
    }


def run(work: Path) -> list[dict]:
    """Every world seed's policies as rows, then the summary row."""

    rows, summary = [], {"uplift_uniform": [], "uplift_best": [], "completion": []}
    sim_err = {"snips": [], "dr": []}
    covered = {"snips": [], "dr": []}
    for seed in SEEDS:
        world = one_world(seed)
        reports = world["reports"]
        print(  # a long part: each world's headline as it finishes
            f"  world seed {seed}: "
            + ", ".join(f"{n} {r.true_value:.4f}" for n, r in reports.items())
            + f" ({world['seconds']:.0f} s)",
            flush=True,
        )
        truth = {name: r.true_value for name, r in reports.items()}
        for name, r in reports.items():
            row = {"seed": seed, "policy": name, "true_value": r.true_value}
            row["true_completion"] = r.true_completion
            for est, e in r.estimates.items():
                row[est] = e.value
                row[f"{est}_ci"] = (e.low, e.high)
            rows.append(row)
        learned = truth["learned"]
        summary["uplift_uniform"].append(learned / truth["logging = uniform random"] - 1)
        summary["uplift_best"].append(learned / truth["best single variant"] - 1)
        summary["completion"].append(
            reports["learned"].true_completion - reports["logging = uniform random"].true_completion
        )
        for estimates in world["simulated"]:
            for est in ("snips", "dr"):
                sim_err[est].append(estimates[est].value / learned - 1)
                covered[est].append(estimates[est].covers(learned))
        rows.append(
            {
                "seed": seed,
                "policy": "(learned - other, DR, paired bootstrap)",
                **{k: v for k, v in world["dr_difference"].items()},
                "train_impressions": world["train_impressions"],
                "eval_impressions": world["eval_impressions"],
                "seconds": round(world["seconds"], 1),
            }
        )
    rows.append(
        {
            "policy": "SUMMARY",
            "uplift_vs_uniform_mean": float(np.mean(summary["uplift_uniform"])),
            "uplift_vs_uniform_min": float(np.min(summary["uplift_uniform"])),
            "uplift_vs_best_single_mean": float(np.mean(summary["uplift_best"])),
            "uplift_vs_best_single_min": float(np.min(summary["uplift_best"])),
            "completion_minus_logging_min": float(np.min(summary["completion"])),
            "snips_abs_rel_error_mean": float(np.mean(np.abs(sim_err["snips"]))),
            "snips_abs_rel_error_max": float(np.max(np.abs(sim_err["snips"]))),
            "dr_abs_rel_error_mean": float(np.mean(np.abs(sim_err["dr"]))),
            "dr_abs_rel_error_max": float(np.max(np.abs(sim_err["dr"]))),
            "snips_coverage": float(np.mean(covered["snips"])),
            "dr_coverage": float(np.mean(covered["dr"])),
            "runs": len(covered["dr"]),
        }
    )
    return rows


def print_table(rows: list[dict]) -> None:
    for r in rows:
        if r["policy"] == "SUMMARY":
            print("\n  summary over seeds", SEEDS)
            for key, value in r.items():
                if key != "policy":
                    print(
                        f"    {key:<32} {value:.4f}"
                        if isinstance(value, float)
                        else f"    {key:<32} {value}"
                    )
        elif r["policy"].startswith("("):
            parts = [
                f"{k}: {v[0]:+.5f} [{v[1]:+.5f}, {v[2]:+.5f}]"
                for k, v in r.items()
                if isinstance(v, tuple)
            ]
            print(f"  seed {r['seed']} learned minus, DR: " + "; ".join(parts))
            print(
                f"    {r['train_impressions']:,} training and {r['eval_impressions']:,} "
                f"evaluation impressions, {r['seconds']} s"
            )
        else:
            est = " ".join(
                f"{k} {r[k]:.4f} [{r[k + '_ci'][0]:.4f}, {r[k + '_ci'][1]:.4f}]"
                for k in ("ips", "snips", "dr")
            )
            print(
                f"  seed {r['seed']} {r['policy']:<26} true {r['true_value']:.4f} "
                f"completion {r['true_completion']:.3f} | {est}"
            )


if __name__ == "__main__":
    print_table(run(Path(".")))
