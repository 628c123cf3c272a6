"""Tests for the trace-split evaluation harness."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reelops.abr.evaluation import (
    base_trace_id,
    compare_policies,
    evaluate_policies,
    fold_traces,
    multi_start,
    per_trace,
    rotated,
    split_traces,
    summarize,
    summary_table,
)
from reelops.abr.policies import OracleMPC, baseline_policies, robust_mpc
from reelops.abr.qoe import qoe
from reelops.abr.simulator import BufferBased, RateBased, simulate_session
from reelops.abr.traces import Trace, load_trace_dir, synthetic_traces
from reelops.abr.video import reference_video
from reelops.stats import paired_bootstrap

# The team's shared folder beside the checkout holds real traces (absent in a user's clone).
REAL_TRACES = Path(__file__).resolve().parents[3] / "shared" / "data" / "abr" / "traces_train"


def traces(n: int, seed: int = 0, prefix: str = "syn") -> list[Trace]:
    rng = np.random.default_rng(seed)
    return synthetic_traces(rng, rng.uniform(0.5, 5.0, size=n), duration_s=60.0, id_prefix=prefix)


def ids(split: dict[str, list[Trace]]) -> dict[str, list[str]]:
    return {name: [t.trace_id for t in group] for name, group in split.items()}


def test_split_puts_every_file_in_exactly_one_set():
    pool = traces(200)

    split = split_traces(pool, seed=7)

    assert list(split) == ["train", "validation", "test"]
    named = ids(split)
    everything = [i for group in named.values() for i in group]
    assert sorted(everything) == sorted(t.trace_id for t in pool)
    assert len(set(everything)) == len(everything)
    # Shares follow the fractions on average (binomial spread around 120 / 40 / 40).
    assert 95 <= len(split["train"]) <= 145
    assert 20 <= len(split["test"]) <= 60


def test_folds_test_every_file_once_and_never_train_on_their_own_test_files():
    pool = traces(200)
    every = sorted(t.trace_id for t in pool)

    folds = fold_traces(pool, folds=5, seed=3, validation_share=0.25)

    tested = [i for fold in folds for i in ids(fold)["test"]]
    assert sorted(tested) == every  # each file is a test file exactly once
    for fold in folds:
        named = ids(fold)
        assert sorted(named["train"] + named["validation"] + named["test"]) == every
        assert not set(named["test"]) & (set(named["train"]) | set(named["validation"]))
        # ~40 test files per fold; a quarter of the other ~160 validate (binomial spread).
        assert 20 <= len(named["test"]) <= 60
        assert 20 <= len(named["validation"]) <= 60
    assert [ids(f) for f in fold_traces(list(reversed(pool)), 5, seed=3)] == [ids(f) for f in folds]
    assert [ids(f)["test"] for f in fold_traces(pool, 5, seed=4)] != [ids(f)["test"] for f in folds]
    with pytest.raises(ValueError, match="at least 2 folds, got 1"):
        fold_traces(pool, folds=1, seed=0)
    with pytest.raises(ValueError, match=r"validation_share must be within \(0, 1\), got 1.0"):
        fold_traces(pool, folds=3, seed=0, validation_share=1.0)


def test_split_is_deterministic_and_ignores_order_but_not_the_seed():
    pool = traces(60)

    first = ids(split_traces(pool, seed=3))

    assert ids(split_traces(list(reversed(pool)), seed=3)) == first
    assert ids(split_traces(pool, seed=4)) != first


def test_adding_files_never_moves_an_assigned_file():
    pool = traces(60)
    before = ids(split_traces(pool, seed=1))

    after = ids(split_traces(pool + traces(30, seed=9, prefix="new"), seed=1))

    for name, group in before.items():
        assert set(group) <= set(after[name])


def test_split_rejects_bad_fractions_and_duplicate_files():
    pool = traces(3)
    with pytest.raises(ValueError, match=r"summing to 1, got \(0.5, 0.2, 0.2\)"):
        split_traces(pool, seed=0, fractions=(0.5, 0.2, 0.2))
    with pytest.raises(ValueError, match="3 non-negative numbers"):
        split_traces(pool, seed=0, fractions=(0.8, 0.2))
    with pytest.raises(ValueError, match=r"duplicates \['syn-0'\]"):
        split_traces([*pool, pool[0]], seed=0)
    everything_trains = split_traces(pool, seed=0, fractions=(1.0, 0.0, 0.0))
    assert len(everything_trains["train"]) == 3


def test_evaluate_scores_every_policy_on_every_trace_in_one_frame():
    pool = traces(3)
    seen: list[str] = []

    def oracle(trace: Trace) -> OracleMPC:
        seen.append(trace.trace_id)
        return OracleMPC(trace)

    frame = evaluate_policies(
        pool, {"bba": lambda _: BufferBased(), "oracle": oracle, "robust": lambda _: robust_mpc()}
    )

    assert len(frame) == 9
    assert frame.groupby("policy").size().to_dict() == {"bba": 3, "oracle": 3, "robust": 3}
    assert seen == [t.trace_id for t in pool]
    row = frame[(frame["policy"] == "bba") & (frame["trace_id"] == "syn-1")].iloc[0]
    expected = qoe(simulate_session(pool[1], reference_video(), BufferBased()))
    assert row[list(expected)].to_dict() == pytest.approx(expected)
    assert (frame["sim_s"] > 0).all()
    with pytest.raises(ValueError, match="at least one trace and one policy"):
        evaluate_policies(pool, {})


def test_bootstrap_interval_covers_the_true_difference():
    rng = np.random.default_rng(5)
    true_diff, covered = 0.5, 0
    for seed in range(100):
        base = rng.normal(10.0, 3.0, size=40)
        a = base + true_diff + rng.normal(0.0, 2.0, size=40)
        mean_diff, low, high = paired_bootstrap(a, base, n=1000, seed=seed)
        assert low <= mean_diff <= high
        covered += low <= true_diff <= high
    # A 95 % interval; percentile intervals on 40 pairs run slightly narrow.
    assert 85 <= covered <= 100


def test_bootstrap_pairs_the_traces():
    # Scores vary wildly across traces but a beats b by exactly 1 on each of them.
    b = np.random.default_rng(0).normal(0.0, 100.0, size=30)

    assert paired_bootstrap(b + 1.0, b) == pytest.approx((1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match=r"shapes \(30,\) and \(29,\)"):
        paired_bootstrap(b, b[:-1])


def test_compare_policies_aligns_traces_by_id():
    frame = pd.DataFrame(
        {
            "trace_id": ["x", "y", "z", "z", "y", "x"],
            "policy": ["new"] * 3 + ["old"] * 3,
            "qoe_lin": [11.0, 22.0, 33.0, 30.0, 20.0, 10.0],
        }
    )

    result = compare_policies(frame, "new", "old", n=200)

    assert result["traces"] == 3
    assert result["mean_diff"] == pytest.approx(2.0)
    assert result["ci_low"] >= 1.0 and result["ci_high"] <= 3.0
    json.dumps(result)
    with pytest.raises(ValueError, match=r"policy 'bola' has no rows; expected one of"):
        compare_policies(frame, "bola", "old")


def test_summary_reports_means_per_policy_as_json_and_text():
    pool = traces(4)
    frame = evaluate_policies(pool, {"bba": lambda _: BufferBased(), "rb": lambda _: RateBased()})

    summary = summarize(frame)
    table = summary_table(frame)

    assert list(summary) == ["bba", "rb"]
    rb = frame[frame["policy"] == "rb"]
    assert summary["rb"]["traces"] == 4
    assert summary["rb"]["qoe_lin"] == pytest.approx(rb["qoe_lin"].mean())
    assert summary["rb"]["qoe_lin_per_chunk"] == pytest.approx(rb["qoe_lin"].mean() / 47)
    assert summary["bba"]["switches"] == pytest.approx(
        frame.query("policy == 'bba'").switches.mean()
    )
    json.loads(json.dumps(summary))
    lines = table.splitlines()
    assert lines[0].split()[:4] == ["policy", "traces", "QoE_lin", "per_chunk"]
    assert lines[2].split()[0] == "rb"
    assert lines[2].split()[2] == f"{summary['rb']['qoe_lin']:.2f}"


@pytest.mark.skipif(not REAL_TRACES.is_dir(), reason=f"real traces not found at {REAL_TRACES}")
def test_baselines_on_real_traces_rank_as_published():
    real = load_trace_dir(REAL_TRACES)

    frame = evaluate_policies(real, baseline_policies())

    print(f"\n{len(real)} real traces\n{summary_table(frame)}")
    mean = frame.groupby("policy")["qoe_lin"].mean()
    assert mean["robust_mpc"] > mean["bba"]
    assert mean["robust_mpc"] > mean["rate_based"]
    assert mean.idxmax() == "oracle_mpc"
    assert compare_policies(frame, "robust_mpc", "bba")["ci_low"] > 0


def test_rotated_trace_replays_the_session_from_its_start_row():
    trace = synthetic_traces(np.random.default_rng(2), [2.0], duration_s=300.0, id_prefix="r")[0]

    for start in (2, 57, len(trace.time_s) - 1):
        direct = simulate_session(trace, reference_video(), RateBased(), start_index=start)
        replay = simulate_session(rotated(trace, start), reference_video(), RateBased())
        np.testing.assert_allclose(replay.throughput_mbps, direct.throughput_mbps, rtol=1e-9)
        np.testing.assert_array_equal(replay.level, direct.level)
    with pytest.raises(ValueError, match=r"within 1\.\.300"):
        rotated(trace, 0)


def test_multi_start_keeps_row_one_and_averages_per_file():
    picked = multi_start(traces(3, 3, "m"), starts=4, seed=0)
    ids = [t.trace_id for t in picked]
    assert [i for i in ids if "@" not in i] == ["m-0", "m-1", "m-2"]
    assert len(ids) == 12 and {base_trace_id(i) for i in ids} == {"m-0", "m-1", "m-2"}
    frame = pd.DataFrame(
        {"trace_id": ["a", "a@5", "b"], "policy": "p", "qoe_lin": [1.0, 3.0, 10.0]}
    )
    out = per_trace(frame).set_index("trace_id")
    assert out.loc["a", "qoe_lin"] == 2.0 and out.loc["a", "sessions"] == 2
    assert out.loc["b", "qoe_lin"] == 10.0
    with pytest.raises(ValueError, match="at least 1"):
        multi_start(picked, starts=0, seed=0)
