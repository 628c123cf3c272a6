"""Champion/challenger gate: worse-than-champion and random candidates are stopped."""

from __future__ import annotations

import numpy as np
import pytest

from reelops.quality.champion import paired_difference, quality_gate
from reelops.specs import QualityGate

GATE = QualityGate(metric="ndcg@10", tolerance=0.01)


def by_name(checks):
    return {c.name: c for c in checks}


def test_better_candidate_passes_with_a_paired_interval(make_ranker_evidence):
    evidence = make_ranker_evidence(candidate_lift=0.02)
    checks = by_name(quality_gate(evidence, GATE))
    vs = checks["ndcg@10 vs champion champ0"]
    assert vs.status == "pass"
    assert vs.value == pytest.approx(0.02, abs=0.01)
    assert "95% CI" in vs.detail and "600 units" in vs.detail
    diff = paired_difference(evidence.per_unit, "ndcg@10", "candidate", "champion")
    assert diff["ci_low"] < diff["mean_diff"] < diff["ci_high"]
    assert diff["ci_low"] > 0  # the lift is real and the pairing makes it visible
    assert checks["ndcg@10 beats popularity"].status == "pass"
    assert checks["ndcg@10 beats item_knn"].status == "pass"


def test_shuffled_label_candidate_is_rejected(make_ranker_evidence):
    checks = by_name(quality_gate(make_ranker_evidence(shuffled=True), GATE))
    assert checks["ndcg@10 vs champion champ0"].status == "fail"
    assert checks["ndcg@10 beats popularity"].status == "fail"
    assert checks["ndcg@10 beats item_knn"].status == "fail"
    assert checks["ndcg@10 vs champion champ0"].value < -0.2


@pytest.mark.parametrize(("lift", "status"), [(-0.005, "pass"), (-0.02, "fail")])
def test_tolerance_is_respected(make_ranker_evidence, lift, status):
    evidence = make_ranker_evidence(candidate_lift=lift)
    margin = float(evidence.overall.loc["candidate", "ndcg@10"]) - float(
        evidence.overall.loc["champion", "ndcg@10"]
    )
    assert (margin >= -0.01) == (status == "pass")  # the draw did what the test means
    assert by_name(quality_gate(evidence, GATE))["ndcg@10 vs champion champ0"].status == status


def test_zero_tolerance_fails_any_regression(make_ranker_evidence):
    gate = QualityGate(metric="ndcg@10", tolerance=0.0)
    checks = by_name(quality_gate(make_ranker_evidence(candidate_lift=-0.005), gate))
    assert checks["ndcg@10 vs champion champ0"].status == "fail"


def test_first_model_has_no_champion_and_must_beat_baselines(make_ranker_evidence):
    good = by_name(quality_gate(make_ranker_evidence(champion=False), GATE))
    assert good["ndcg@10 vs champion"].status == "skip"
    assert {good[n].status for n in ("ndcg@10 beats popularity", "ndcg@10 beats item_knn")} == {
        "pass"
    }
    bad = quality_gate(make_ranker_evidence(champion=False, shuffled=True), GATE)
    assert [c.name for c in bad if c.failed] == [
        "ndcg@10 beats popularity",
        "ndcg@10 beats item_knn",
    ]


def test_lower_is_better_metric_direction(make_bitrate_evidence):
    evidence = make_bitrate_evidence()
    # rebuffering: lower is better; the candidate rebuffers like the champion (same law)
    gate = QualityGate(metric="rebuffer_s", higher_is_better=False, tolerance=0.5)
    checks = by_name(quality_gate(evidence, gate))
    assert checks["rebuffer_s vs champion champ0"].status == "pass"
    assert checks["rebuffer_s vs champion champ0"].limit == (
        "CI low of candidate - champion (lower is better) > -0.5"
    )
    strict = QualityGate(metric="qoe_lin", higher_is_better=False, tolerance=0.0)
    assert by_name(quality_gate(evidence, strict))["qoe_lin vs champion champ0"].failed


def test_missing_metric_fails_with_the_columns_named(make_ranker_evidence):
    checks = quality_gate(make_ranker_evidence(), QualityGate(metric="map@10"))
    assert checks[0].failed and "'map@10'" in checks[0].detail and "ndcg@10" in checks[0].detail


def test_a_ci_spanning_zero_does_not_pass_a_beats_rule(make_ranker_evidence):
    # A candidate whose mean is above a baseline's but whose paired interval spans zero.
    evidence = make_ranker_evidence(champion=False, members=600)
    per_unit = evidence.per_unit.copy()
    rng = np.random.default_rng(5)
    base = per_unit.loc[per_unit["label"] == "item_knn", "ndcg@10"].to_numpy()
    noisy = np.clip(base + 0.002 + rng.normal(0, 0.2, len(base)), 0, 1)
    per_unit.loc[per_unit["label"] == "candidate", "ndcg@10"] = noisy
    evidence.per_unit = per_unit
    evidence.overall.loc["candidate", "ndcg@10"] = float(noisy.mean())
    diff = paired_difference(per_unit, "ndcg@10", "candidate", "item_knn")
    assert diff["ci_low"] < 0 < diff["ci_high"]  # the draw did what the test means
    check = by_name(quality_gate(evidence, GATE))["ndcg@10 beats item_knn"]
    assert check.status == "fail"
    assert check.limit == "CI low of candidate - item_knn (higher is better) > 0"


def test_too_few_members_cannot_decide(make_ranker_evidence):
    evidence = make_ranker_evidence(champion=False, members=20, candidate_lift=0.3)
    gate = QualityGate(metric="ndcg@10", tolerance=0.01, min_units=50)
    check = by_name(quality_gate(evidence, gate))["ndcg@10 beats popularity"]
    assert check.status == "fail"
    assert "too few paired units for a decision (20 < 50)" in check.detail
