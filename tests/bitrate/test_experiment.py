"""Tests for the bitrate experiment: multi-start evaluation, selection on validation, settings."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from reelops.abr.evaluation import base_trace_id, multi_start, per_trace, rotated
from reelops.abr.simulator import simulate_session
from reelops.abr.traces import Trace, load_trace_dir, synthetic_traces
from reelops.abr.video import reference_video
from reelops.bitrate.experiment import (
    POLICY,
    EvaluationSettings,
    TrainingSettings,
    cross_validate,
    evaluate_holdout,
    model_grid,
    prediction_error,
    predictor_policy,
    run_experiment,
    select_model,
)
from reelops.bitrate.sessions import simulate_training_sessions
from reelops.bitrate.throughput import ModelParams, ThroughputModel

VIDEO = reference_video()
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "abr" / "traces_train"
SMALL = ModelParams(rounds=40, max_depth=3, eta=0.1, min_child_weight=10.0, threads=1)


def traces(n: int, seed: int, prefix: str) -> list[Trace]:
    rng = np.random.default_rng(seed)
    return synthetic_traces(rng, rng.uniform(0.5, 4.0, n), duration_s=300.0, id_prefix=prefix)


@pytest.fixture(scope="module")
def model() -> ThroughputModel:
    rows = simulate_training_sessions(traces(12, 1, "train"), seed=1, sessions_per_trace=3)
    return ThroughputModel.fit(rows, SMALL)


def test_rotated_trace_replays_the_session_from_its_start_row():
    trace = traces(1, 2, "r")[0]
    from reelops.abr.simulator import RateBased

    for start in (2, 57, len(trace.time_s) - 1):
        direct = simulate_session(trace, VIDEO, RateBased(), start_index=start)
        replay = simulate_session(rotated(trace, start), VIDEO, RateBased())
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


def test_select_model_tries_every_mode_and_keeps_the_best(model):
    rows = simulate_training_sessions(traces(8, 4, "t"), seed=4, sessions_per_trace=2)
    validation = traces(4, 5, "v")
    grid = [SMALL, ModelParams(horizon=1, rounds=40, max_depth=3, threads=1)]
    chosen = select_model(rows, grid, (0.1, "scenarios"), validation)
    assert len(chosen.trials) == 4
    best = max(chosen.trials, key=lambda t: t["validation_qoe_lin"])
    assert chosen.mode == best["mode"]
    assert chosen.model.params.horizon == grid[best["candidate"]].horizon
    assert all("minus_robust_mpc" in t for t in chosen.trials)


def test_evaluate_holdout_plays_everyone_on_the_same_sessions(model):
    evaluation = EvaluationSettings(starts_per_trace=3, bootstrap=200)
    result = evaluate_holdout({POLICY: predictor_policy(model, 0.1)}, traces(5, 6, "x"), evaluation)
    sessions = result["sessions"]
    assert set(sessions["policy"]) == {
        "bba",
        "rate_based",
        "bola",
        "robust_mpc",
        POLICY,
        "oracle_mpc",
    }
    assert sessions.groupby("policy").size().eq(15).all()
    assert len(result["per_trace"]) == 6 * 5 and len(result["pensieve_sessions"]) == 6 * 5
    assert not result["pensieve_sessions"]["trace_id"].str.contains("@").any()
    gap = result["multi_start"]["gap_closed_to_oracle"]
    means = result["per_trace"].groupby("policy")["qoe_lin"].mean()
    assert gap == pytest.approx(
        (means[POLICY] - means["robust_mpc"]) / (means["oracle_mpc"] - means["robust_mpc"])
    )
    versus = result["multi_start"]["versus_reference"]
    assert versus["traces"] == 5 and versus["ci_low"] <= versus["mean_diff"] <= versus["ci_high"]
    by_trace = result["per_trace"].pivot(index="trace_id", columns="policy", values="qoe_lin")
    assert versus["mean_diff"] == pytest.approx((by_trace[POLICY] - by_trace["robust_mpc"]).mean())


def test_prediction_error_compares_with_the_harmonic_mean(model):
    rows = simulate_training_sessions(traces(4, 7, "e"), seed=7, sessions_per_trace=2)
    error = prediction_error(model, rows)
    for part in error.values():
        assert part["rows"] == 8 * 47
        assert 0 < part["mae_log_model"] < 1 and 0 < part["mae_log_harmonic_mean"] < 1
        assert 0.5 < part["interval_coverage"] <= 1


def test_settings_reject_bad_values_with_the_field():
    with pytest.raises(ValidationError, match="modes"):
        TrainingSettings(modes=(0.3,))
    with pytest.raises(ValidationError, match="unknown baselines"):
        EvaluationSettings(baselines=("bba", "pensieve"))
    with pytest.raises(ValueError, match="unknown model parameter"):
        model_grid({"depth": 3}, {}, TrainingSettings())
    grid = model_grid({"rounds": 10}, {"horizon": [1, 5]}, TrainingSettings(seed=3))
    assert [(p.horizon, p.rounds, p.seed) for p in grid] == [(1, 10, 3), (5, 10, 3)]


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared ABR traces not found at {SHARED}")
def test_experiment_on_real_traces_splits_by_file_and_never_tests_on_training_files():
    every = load_trace_dir(SHARED)
    training = TrainingSettings(
        sessions_per_trace=2, randomized_traces=0, validation_starts=1, threads=1
    )
    evaluation = EvaluationSettings(
        starts_per_trace=1, bootstrap=200, baselines=("robust_mpc",), oracle=None
    )
    result = run_experiment(every[:30], [SMALL], training, evaluation)
    split = result.figures["split"]
    assert sum(split.values()) == 30
    tested = {t.trace_id for t in result.test}
    assert len(tested) == split["test"]
    assert result.figures["test"]["pensieve"]["versus_reference"]["traces"] == split["test"]


def test_cross_validation_tests_every_file_once_and_pools_them():
    pool = traces(24, 5, "cv")
    training = TrainingSettings(
        sessions_per_trace=2, randomized_traces=0, validation_starts=1, threads=1
    )
    evaluation = EvaluationSettings(
        starts_per_trace=1, bootstrap=200, baselines=("robust_mpc",), oracle="oracle_mpc"
    )

    figures = cross_validate(pool, [SMALL], 2, training, evaluation)

    assert [f["fold"] for f in figures["folds"]] == [0, 1]
    assert sum(f["split"]["test"] for f in figures["folds"]) == 24
    pooled = figures["pooled"]
    assert pooled["traces"] == 24 and pooled["versus_reference"]["traces"] == 24
    folds = [f["versus_reference"] for f in figures["folds"]]
    sizes = [f["split"]["test"] for f in figures["folds"]]
    # The pooled difference is the folds' differences weighted by their test files.
    expected = sum(v["mean_diff"] * n for v, n in zip(folds, sizes, strict=True)) / 24
    assert pooled["versus_reference"]["mean_diff"] == pytest.approx(expected)
    assert pooled["versus_reference"]["ci_low"] <= expected <= pooled["versus_reference"]["ci_high"]
    assert pooled["gap_closed_to_oracle"] is not None
    assert xgb_line_in(pooled["table"])


def xgb_line_in(table: str) -> bool:
    return any(line.startswith(POLICY) for line in table.splitlines())
