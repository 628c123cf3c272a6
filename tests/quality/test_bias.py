"""Bias gate: a degraded segment is named; small and absent segments are reported, not judged."""

from __future__ import annotations

from reelops.quality.bias import bias_gate, segment_table
from reelops.specs import BiasCheck, BiasGate

RANKER = BiasGate(
    segments=["country", "age_band", "gender"],
    min_units=20,
    checks=[
        BiasCheck(kind="segment_ratio", metric="ndcg@10", min=0.75),
        BiasCheck(kind="mean_max", metric="genre_kl", max=0.3),
        BiasCheck(kind="mean_min", metric="long_tail_share", min=0.1),
    ],
)
BITRATE = BiasGate(
    segments=["connection", "country"],
    min_units=20,
    checks=[
        BiasCheck(kind="rate_multiple", metric="rebuffer_s", denominator="play_s", max=1.5),
        BiasCheck(kind="segment_ratio", metric="qoe_lin", min=0.5),
    ],
)


def by_name(checks):
    return {c.name: c for c in checks}


def test_unbiased_ranker_passes_and_reports_every_check(make_ranker_evidence):
    checks, segments = bias_gate(make_ranker_evidence(), RANKER)
    found = by_name(checks)
    assert not [c for c in checks if c.failed]
    assert found["ndcg@10 segment_ratio by country"].value > 0.75
    assert found["genre_kl <= limit"].value == found["genre_kl <= limit"].value  # finite
    assert found["long_tail_share >= limit"].status == "pass"
    assert set(segments["segment"]) == {"country", "age_band"}
    assert segments.loc[segments["segment"] == "country", "units"].sum() == 600


def test_degraded_segment_fails_and_is_named(make_ranker_evidence):
    evidence = make_ranker_evidence(degrade=("country", "BR", 0.4))
    found = by_name(bias_gate(evidence, RANKER)[0])
    failed = found["ndcg@10 segment_ratio by country"]
    assert failed.failed
    assert failed.detail.startswith("country=BR is served worse")
    assert 0.3 < failed.value < 0.5
    assert found["ndcg@10 segment_ratio by age_band"].status == "pass"  # spread over ages


def test_small_segments_are_reported_not_judged(make_ranker_evidence):
    # NO has 5 members, all served terribly: too few to judge, but listed.
    evidence = make_ranker_evidence(degrade=("country", "NO", 0.1), tiny_segment=True)
    found = by_name(bias_gate(evidence, RANKER)[0])
    check = found["ndcg@10 segment_ratio by country"]
    assert check.status == "pass"
    assert "not judged (< 20 units): NO (5)" in check.detail


def test_absent_segment_column_is_skipped_and_reported(make_ranker_evidence):
    found = by_name(bias_gate(make_ranker_evidence(), RANKER)[0])
    assert found["segment gender"].status == "skip"
    assert "no 'gender' column" in found["segment gender"].detail
    assert not any(name.endswith("by gender") for name in found)


def test_segments_without_data_are_skipped_and_named(make_ranker_evidence):
    # MovieLens' CSV layout: every member's country, age band and gender is "unknown".
    evidence = make_ranker_evidence()
    evidence.per_unit["country"] = "unknown"
    evidence.per_unit["age_band"] = None
    evidence.per_unit["gender"] = "unknown"
    checks, segments = bias_gate(evidence, RANKER)
    found = by_name(checks)
    for segment in ("country", "age_band", "gender"):
        assert found[f"segment {segment}"].status == "skip"
        assert f"every unit's {segment!r} is unknown" in found[f"segment {segment}"].detail
        assert f"ndcg@10 segment_ratio by {segment}" not in found
    assert "segment columns present: none" in found["segment gender"].detail
    assert segments.empty
    assert found["genre_kl <= limit"].status in ("pass", "fail")  # still judged


def test_calibration_and_long_tail_limits(make_ranker_evidence):
    gate = RANKER.model_copy(
        update={
            "checks": [
                BiasCheck(kind="mean_max", metric="genre_kl", max=0.1),
                BiasCheck(kind="mean_min", metric="long_tail_share", min=0.5),
            ]
        }
    )
    found = by_name(bias_gate(make_ranker_evidence(), gate)[0])
    assert found["genre_kl <= limit"].failed  # gamma(2, 0.1) has mean 0.2
    assert found["long_tail_share >= limit"].failed  # beta(2, 8) has mean 0.2


def test_rebuffer_rate_multiple_names_the_group(make_bitrate_evidence):
    ok = by_name(bias_gate(make_bitrate_evidence(), BITRATE)[0])
    assert ok["rebuffer_s rate_multiple by connection"].status == "pass"
    bad = by_name(
        bias_gate(make_bitrate_evidence(rebuffer_boost=("connection", "cellular", 4.0)), BITRATE)[0]
    )
    check = bad["rebuffer_s rate_multiple by connection"]
    assert check.failed
    assert "connection=cellular" in check.detail and check.value > 1.5
    assert "connection=fiber" not in check.detail.split(";")[0]


def test_segment_table_filters_each_group(make_bitrate_evidence):
    evidence = make_bitrate_evidence()
    units = evidence.per_unit[evidence.per_unit["label"] == "candidate"]
    table = segment_table(units, "country", "rebuffer_s", "play_s").set_index("value")
    us = units[units["country"] == "US"]
    assert table.loc["US", "rate"] == us["rebuffer_s"].sum() / us["play_s"].sum()
    assert table.loc["US", "units"] == len(us)


def test_missing_metric_fails_naming_the_columns(make_ranker_evidence):
    gate = BiasGate(segments=["country"], checks=[BiasCheck(kind="mean_max", metric="kl", max=1)])
    checks, _ = bias_gate(make_ranker_evidence(), gate)
    assert checks[0].failed and "lacks ['kl']" in checks[0].detail


def test_segment_ratio_of_negative_figures_fails_and_says_why(make_bitrate_evidence):
    evidence = make_bitrate_evidence()
    evidence.per_unit["qoe_lin"] -= 5.0  # every segment's mean below zero
    gate = BiasGate(
        segments=["country"], checks=[BiasCheck(kind="segment_ratio", metric="qoe_lin", min=0.5)]
    )
    check = bias_gate(evidence, gate)[0][0]
    assert check.failed and "must be non-negative" in check.detail
