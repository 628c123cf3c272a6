"""Tests for the evaluation figures as text."""

from bitrate_cases import traces

from reelops.abr.policies import baseline_policies
from reelops.bitrate.holdout_eval import evaluate_holdout, holdout_json
from reelops.bitrate.protocol import EvaluationSettings
from reelops.bitrate.report import format_report
from reelops.bitrate.selection import POLICY


def test_report_states_the_split_the_choice_both_protocols_and_the_error():
    evaluation = EvaluationSettings(starts_per_trace=2, bootstrap=200, baselines=("robust_mpc",))
    # Any policy can stand in for the model: the report only reads the figures.
    result = evaluate_holdout({POLICY: baseline_policies()["bola"]}, traces(3, 8, "r"), evaluation)
    error = {
        "horizon": 1,
        "rows": 1234,
        "mae_log_model": 0.25,
        "mae_log_harmonic_mean": 0.3,
        "interval": "0.1-0.9",
        "interval_coverage": 0.8,
    }
    figures = {
        "split": {"train": 6, "validation": 2, "test": 3},
        "split_seed": 4,
        "chosen": {"params": {"horizon": 5}, "mode": 0.1},
        "test": holdout_json(result),
        "prediction_error": {"next_chunk": error},
    }

    text = format_report(figures)

    versus = result["multi_start"]["versus_reference"]
    assert text.startswith("split by file (seed 4): {'train': 6, 'validation': 2, 'test': 3}")
    assert "chosen on validation: horizon=5, mode=0.1" in text
    assert "(primary)" in text and "(Pensieve's test mode)" in text
    assert f"{POLICY} - robust_mpc QoE_lin per trace: {versus['mean_diff']:+.2f}" in text
    assert "3 traces" in text and "share of the way to the oracle" in text
    assert "(1-chunk target, 1,234 requests): model median 0.250" in text
    assert "0.1-0.9 interval coverage 80%" in text
