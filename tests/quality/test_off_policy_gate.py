"""Off-policy gate: a bandit candidate judged on figures built by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from reelops.quality.checks import Check
from reelops.quality.evidence import Interval, OffPolicyFigures, ReleaseEvidence
from reelops.quality.off_policy import off_policy_gate, segment_frame
from reelops.specs import OffPolicyGate, load_spec

GATE = OffPolicyGate()  # dr; tolerance 0; beat uniform random; dr/snips within 5 %


def figures(
    *,
    vs_uniform=(0.010, 0.004, 0.016),
    vs_champion=(0.004, 0.001, 0.007),
    dr=0.060,
    snips=0.061,
    segments=None,
    members=400,
) -> OffPolicyFigures:
    def interval(v, lo, hi, units=members):
        return Interval(v, lo, hi, units, 20 * units)

    fine = {"US": interval(0.01, 0.002, 0.02, 120), "BR": interval(0.008, -0.004, 0.02, 90)}
    return OffPolicyFigures(
        estimator="dr",
        estimates={
            "candidate": {"dr": interval(dr, dr - 0.01, dr + 0.01), "snips": interval(snips, 0, 1)},
            "champion": {"dr": interval(0.056, 0, 1), "snips": interval(0.0565, 0, 1)},
        },
        differences={
            "uniform random": interval(*vs_uniform),
            "champion": interval(*vs_champion),
            "logging": interval(*vs_uniform),
        },
        segment_baseline="logging",
        segments={"country": fine, "age_band": {"25-34": interval(0.01, 0.0, 0.02, 200)}}
        if segments is None
        else segments,
    )


def evidence(figs: OffPolicyFigures | None, champion: str | None = "champ1") -> ReleaseEvidence:
    labels = ["candidate", "uniform random"] + (["champion"] if champion else [])
    return ReleaseEvidence(
        model="artwork",
        candidate_version="cand1",
        champion_version=champion,
        metric="good_play_rate",
        higher_is_better=True,
        baselines=["uniform random"],
        overall=pd.DataFrame({"good_play_rate": [0.06] * len(labels)}, index=labels),
        per_unit=pd.DataFrame({"label": labels, "unit": "m1", "good_play_rate": 0.06}),
        reference_features={},
        predictions={},
        off_policy=figs,
    )


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_a_better_policy_passes_every_check():
    checks = by_name(off_policy_gate(evidence(figures()), GATE))
    assert set(checks) == {
        "value vs champion champ1",
        "value vs uniform random",
        "dr and snips agree on candidate",
        "dr and snips agree on champion",
        "no country worse off than logging",
        "no age_band worse off than logging",
    }
    assert all(c.status == "pass" for c in checks.values()), checks
    assert not any(c.failed for c in checks.values())
    assert "95% CI [+0.004, +0.016] over 400 members" in checks["value vs uniform random"].detail


def test_the_first_policy_skips_the_champion_and_must_beat_uniform_random():
    checks = by_name(off_policy_gate(evidence(figures(), champion=None), GATE))
    assert checks["value vs champion"].status == "skip"
    assert "no production artwork yet" in checks["value vs champion"].detail
    assert "dr and snips agree on champion" not in checks
    refused = by_name(
        off_policy_gate(evidence(figures(vs_uniform=(0.004, -0.001, 0.009)), None), GATE)
    )
    assert refused["value vs uniform random"].status == "fail"


@pytest.mark.parametrize(
    ("vs_champion", "tolerance", "status"),
    [
        ((0.004, 0.001, 0.007), 0.0, "pass"),  # the interval above zero: better
        ((0.0, 0.0, 0.0), 0.0, "fail"),  # the same policy again is not better
        ((0.001, -0.002, 0.004), 0.0, "fail"),  # no evidence it is better
        ((0.001, -0.002, 0.004), 0.003, "pass"),  # a tolerance: "not worse by more"
        ((-0.004, -0.007, -0.001), 0.003, "fail"),
    ],
)
def test_the_production_policy_must_be_beaten_with_the_whole_interval(
    vs_champion, tolerance, status
):
    gate = OffPolicyGate(tolerance=tolerance)
    checks = by_name(off_policy_gate(evidence(figures(vs_champion=vs_champion)), gate))
    assert checks["value vs champion champ1"].status == status


def test_too_few_members_cannot_decide():
    checks = by_name(off_policy_gate(evidence(figures(members=12)), GATE))
    assert checks["value vs uniform random"].status == "fail"
    assert "too few members for a decision (12 < 30)" in checks["value vs uniform random"].detail


def test_estimators_that_disagree_make_the_evidence_inconclusive():
    checks = by_name(off_policy_gate(evidence(figures(dr=0.060, snips=0.070)), GATE))
    agree = checks["dr and snips agree on candidate"]
    assert agree.status == "inconclusive" and agree.failed
    assert agree.value == pytest.approx(0.01 / 0.07)
    assert "inconclusive" in agree.detail and "14.3% apart" in agree.detail
    loose = OffPolicyGate(agreement_tolerance=0.2)
    assert (
        by_name(off_policy_gate(evidence(figures(dr=0.060, snips=0.070)), loose))[
            "dr and snips agree on candidate"
        ].status
        == "pass"
    )


def test_a_segment_worse_off_than_logging_fails_even_when_the_whole_is_better():
    segments = {
        "country": {
            "US": Interval(0.02, 0.01, 0.03, 200, 4000),
            "JP": Interval(-0.015, -0.03, -0.002, 60, 1200),  # clearly worse off
            "NO": Interval(-0.2, -0.4, -0.1, 5, 90),  # too small to judge: reported
        },
        "age_band": {
            "25-34": Interval(-0.012, -0.03, 0.006, 80, 1500),  # estimate below -0.01
            "35-44": Interval(-0.004, -0.02, 0.012, 80, 1500),  # noise: not worse off
        },
    }
    checks = by_name(off_policy_gate(evidence(figures(segments=segments)), GATE))
    assert checks["value vs uniform random"].status == "pass"
    country = checks["no country worse off than logging"]
    assert country.status == "fail" and country.value == pytest.approx(-0.015)
    assert "worse off than logging: JP -0.015" in country.detail
    assert "not judged (< 30 members): ['NO']" in country.detail
    age = checks["no age_band worse off than logging"]
    assert age.status == "fail" and "25-34" in age.detail and "35-44 " not in age.detail
    assert (
        by_name(
            off_policy_gate(
                evidence(figures(segments=segments)), OffPolicyGate(segment_max_loss=0.02)
            )
        )["no age_band worse off than logging"].status
        == "pass"
    )
    table = segment_frame(evidence(figures(segments=segments)))
    assert len(table) == 5 and set(table["versus"]) == {"logging"}


def test_unknown_segments_are_skipped_and_missing_figures_fail():
    segments = {"country": {"unknown": Interval(0.0, -0.1, 0.1, 400, 8000)}}
    checks = by_name(off_policy_gate(evidence(figures(segments=segments)), GATE))
    assert checks["no country worse off than logging"].status == "skip"
    assert checks["no age_band worse off than logging"].status == "skip"
    [missing] = off_policy_gate(evidence(None), GATE)
    assert missing.status == "fail" and "no off-policy figures" in missing.detail
    [wrong] = off_policy_gate(evidence(figures()), OffPolicyGate(estimator="ips"))
    assert wrong.status == "fail" and "compares with dr" in wrong.detail


def test_the_artwork_spec_judges_off_policy():
    spec = load_spec("artwork")
    assert spec.gates.quality is None and spec.gates.bias is None
    gate = spec.gates.off_policy
    assert gate.estimator == "dr" and gate.must_beat == ["uniform random"]
    assert gate.agreement == ("dr", "snips") and gate.baseline == "logging"
    assert gate.segments == ["country", "age_band"] and gate.tolerance == 0.0
    assert spec.gates.metric == "good_play_rate" and spec.gates.segments == gate.segments
    assert spec.evaluator == "reelops.artwork.release:evaluate_release"
