"""Tests for judging a model on test traces: one run of every policy, and prediction error."""

import pytest
from bitrate_cases import small_model, traces

from reelops.bitrate.holdout_eval import evaluate_holdout, prediction_error
from reelops.bitrate.protocol import EvaluationSettings
from reelops.bitrate.selection import POLICY, predictor_policy
from reelops.bitrate.sessions import simulate_training_sessions
from reelops.bitrate.throughput import ThroughputModel


@pytest.fixture(scope="module")
def model() -> ThroughputModel:
    return small_model()


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
