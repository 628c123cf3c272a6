"""Ranking metrics against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from reelops.ranking.metrics import (
    catalog_coverage,
    full_ranks,
    hit_rate_at_k,
    long_tail_mask,
    long_tail_share,
    ndcg_at_k,
    ranking_metrics,
    recall_at_k,
    reciprocal_rank,
    segment_metrics,
    top_k,
)

LOG2_3 = math.log2(3)

# Three members, k = 3: hits at ranks 1 and 3 (2 relevant), none (1 relevant), rank 2 (5 relevant).
HITS = np.array([[1, 0, 1], [0, 0, 0], [0, 1, 0]], dtype=bool)
N_RELEVANT = np.array([2, 1, 5])


def test_ndcg_by_hand():
    # Member 0: DCG = 1 + 1/log2(4) = 1.5, ideal over min(3, 2) = 2 hits = 1 + 1/log2(3).
    # Member 2: DCG = 1/log2(3), ideal over min(3, 5) = 3 hits = 1 + 1/log2(3) + 1/2.
    expected = [1.5 / (1 + 1 / LOG2_3), 0.0, (1 / LOG2_3) / (1 + 1 / LOG2_3 + 0.5)]
    assert ndcg_at_k(HITS, N_RELEVANT) == pytest.approx(expected)
    assert expected[0] == pytest.approx(0.919721, abs=1e-6)
    assert expected[2] == pytest.approx(0.296082, abs=1e-6)


def test_recall_and_hit_rate_by_hand():
    # recall = hits / min(k, relevant): 2/2, 0/1, 1/3; hit rate = any hit.
    assert recall_at_k(HITS, N_RELEVANT) == pytest.approx([1.0, 0.0, 1 / 3])
    assert hit_rate_at_k(HITS, N_RELEVANT) == pytest.approx([1.0, 0.0, 1.0])


def test_reciprocal_rank_by_hand():
    assert reciprocal_rank(np.array([0, 3, 1]), N_RELEVANT) == pytest.approx([1.0, 0.25, 0.5])


def test_members_without_relevant_titles_are_nan():
    hits, n_relevant = np.zeros((2, 3), dtype=bool), np.array([0, 1])
    for values in (
        ndcg_at_k(hits, n_relevant),
        recall_at_k(hits, n_relevant),
        hit_rate_at_k(hits, n_relevant),
        reciprocal_rank(np.array([5, 5]), n_relevant),
    ):
        assert np.isnan(values[0]) and not np.isnan(values[1])


def test_ties_break_by_lower_index_and_minus_inf_is_never_recommended():
    scores = np.array([[0.1, 0.9, 0.5, 0.5, -np.inf]])
    assert full_ranks(scores).tolist() == [[3, 0, 1, 2, 4]]
    assert top_k(scores, 3).tolist() == [[1, 2, 3]]
    assert top_k(scores, 6).tolist() == [[1, 2, 3, 0, -1, -1]]
    with pytest.raises(ValueError, match="NaN"):
        top_k(np.array([[np.nan, 1.0]]), 1)


def test_ranking_metrics_from_scores_by_hand():
    scores = np.array(
        [
            [0.1, 0.9, 0.5, 0.5, 0.3],  # order 1, 2, 3, 4, 0
            [-np.inf, 0.2, 0.8, 0.4, 0.6],  # order 2, 4, 3, 1, 0 (0 excluded)
        ]
    )
    relevant = np.array([[1, 0, 0, 1, 0], [0, 0, 0, 0, 1]], dtype=bool)
    out = ranking_metrics(scores, relevant, k=2)
    assert out["recs"].tolist() == [[1, 2], [2, 4]]
    assert out["n_relevant"].tolist() == [2, 1]
    # Member 0: no hit in the top 2; first relevant (title 3) at 0-based rank 2.
    # Member 1: the only relevant title at 0-based rank 1.
    assert out["ndcg"] == pytest.approx([0.0, 1 / LOG2_3])
    assert out["recall"] == pytest.approx([0.0, 1.0])
    assert out["hit"] == pytest.approx([0.0, 1.0])
    assert out["rr"] == pytest.approx([1 / 3, 1 / 2])


def test_long_tail_is_outside_the_titles_holding_80_percent():
    # 50 + 30 = 80 % exactly: the head is titles 0 and 1; never-watched title 5 is tail.
    assert long_tail_mask(np.array([50, 30, 10, 5, 5, 0])).tolist() == [
        False, False, True, True, True, True,
    ]  # fmt: skip
    # 40 + 30 = 70 % < 80 %, so the head needs title 2 as well.
    assert long_tail_mask(np.array([40, 30, 20, 10])).tolist() == [False, False, False, True]
    assert long_tail_mask(np.array([0, 0])).tolist() == [True, True]


def test_long_tail_share_and_coverage_by_hand():
    is_tail = np.array([False, False, True, True, True, True])
    recs = np.array([[0, 3, -1], [2, 4, 5]])
    assert long_tail_share(recs, is_tail) == pytest.approx([0.5, 1.0])
    # Titles 0, 2, 3, 4, 5 of 10 recommended to someone.
    assert catalog_coverage(recs, 10) == pytest.approx(0.5)


def test_segment_metrics_by_hand():
    per_member = pd.DataFrame({"member_key": ["a", "b", "c", "d"], "ndcg@2": [1.0, 0.0, 0.5, 0.25]})
    recs = np.array([[0, 1], [0, 2], [3, 4], [5, -1]])
    members = pd.DataFrame({"member_key": ["a", "b", "c"], "country": ["US", "US", "NO"]})
    table = segment_metrics(per_member, recs, 10, members, ["country"]).set_index("value")
    assert table.loc["US", "n_members"] == 2
    assert table.loc["US", "ndcg@2"] == pytest.approx(0.5)
    assert table.loc["US", "coverage"] == pytest.approx(0.3)  # titles 0, 1, 2
    assert table.loc["NO", "ndcg@2"] == pytest.approx(0.5)
    # d has no members row: it falls in "unknown".
    assert table.loc["unknown", "ndcg@2"] == pytest.approx(0.25)
    assert table.loc["unknown", "coverage"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="age_band"):
        segment_metrics(per_member, recs, 10, members, ["age_band"])
