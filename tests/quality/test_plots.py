"""Plots of a release evidence: written as real PNGs, with the intervals the gates read."""

from __future__ import annotations

import pytest

from reelops.quality.plots import evidence_plots, paired_differences

PNG = b"\x89PNG\r\n\x1a\n"


def test_every_plot_is_a_png_and_listed(make_ranker_evidence, tmp_path):
    evidence = make_ranker_evidence(members=300)
    reports = evidence_plots(evidence, ["country", "age_band", "gender"], tmp_path)
    assert set(reports) == {
        "metric_distribution_png",
        "paired_differences_png",
        "paired_differences_csv",
        "metric_by_segment_png",
    }
    for name, path in reports.items():
        if name.endswith("_png"):
            assert open(path, "rb").read(8) == PNG


def test_paired_differences_separate_a_real_lift_from_none(make_ranker_evidence, tmp_path):
    lifted = paired_differences(make_ranker_evidence(candidate_lift=0.05), tmp_path / "a.png")
    row = lifted.set_index("label").loc["champion"]
    assert row["low"] > 0 and row["mean"] == pytest.approx(0.05, abs=0.01)
    same = paired_differences(make_ranker_evidence(candidate_lift=0.0), tmp_path / "b.png")
    row = same.set_index("label").loc["champion"]
    assert row["low"] < 0 < row["high"]
    # The baselines are far behind in both: their intervals clear zero.
    assert (same.set_index("label").loc[["popularity", "item_knn"], "low"] > 0).all()


def test_no_segment_plot_without_segment_columns(make_ranker_evidence, tmp_path):
    reports = evidence_plots(make_ranker_evidence(members=100), ["gender"], tmp_path)
    assert "metric_by_segment_png" not in reports
