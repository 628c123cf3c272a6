"""EASE and ALS as candidate sources: unwatched titles only, the right shapes, ALS learns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reelops.ranking.als import ALS, BPR
from reelops.ranking.candidates import CandidateConfig, CandidateGenerator


def blocks(members: int = 40, titles: int = 30, seed: int = 0):
    """Two taste blocks: members watch titles of their own half of the catalogue."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in range(members):
        half = m % 2
        for t in rng.choice(np.arange(half * 15, half * 15 + 15), 8, replace=False):
            rows.append((f"m{m:02d}", f"t{t:02d}", pd.Timestamp("2026-01-02"), 1.0))
    views = pd.DataFrame(rows, columns=["member_key", "title_id", "ts", "completion"])
    catalogue = pd.DataFrame(
        {
            "title_id": [f"t{t:02d}" for t in range(titles)],
            "genres": ["Drama" if t < 15 else "Comedy" for t in range(titles)],
            "release_date": pd.Timestamp("2025-01-01"),
        }
    )
    return views, catalogue


def test_ease_and_als_sources_propose_unwatched_titles_only():
    views, catalogue = blocks()
    config = CandidateConfig(
        total=10,
        quotas={"ease": 10, "als": 10},
        popular_by=None,
        als={"factors": 4, "iterations": 10},
    )
    generator = CandidateGenerator(views, catalogue, None, config=config)
    keys = np.array(["m00", "m01", "unknown"], dtype=object)
    scores = generator.source_scores(keys)
    assert scores["ease"].shape == scores["als"].shape == (3, 30)
    candidates = generator.generate(keys)
    watched = pd.MultiIndex.from_frame(views[["member_key", "title_id"]])
    assert not pd.MultiIndex.from_frame(candidates[["member_key", "title_id"]]).isin(watched).any()
    assert (candidates.groupby("member_key").size().loc[["m00", "m01"]] == 10).all()
    # Both sources rank the member's own block first.
    for key, block in (("m00", range(15)), ("m01", range(15, 30))):
        own = {f"t{t:02d}" for t in block}
        for source in ("ease", "als"):
            picked = candidates[
                (candidates["member_key"] == key) & (candidates[f"rank_{source}"] > 0)
            ]
            top = picked.nsmallest(3, f"rank_{source}")["title_id"]
            assert set(top) <= own, (source, key)


def test_als_scores_unknown_members_zero():
    views, catalogue = blocks()
    als = ALS(factors=4, iterations=5).fit(views, catalogue)
    scores = als.score(["m00", "nobody"])
    assert scores.shape == (2, 30)
    assert np.all(scores[1] == 0) and np.any(scores[0] != 0)


def test_bpr_ranks_the_members_own_block_first_and_is_reproducible():
    views, catalogue = blocks()
    bpr = BPR(factors=8, learning_rate=0.05, iterations=200).fit(views, catalogue)
    scores = bpr.score(["m00", "m01", "nobody"])
    assert np.all(scores[2] == 0)
    for row, block in ((0, slice(0, 15)), (1, slice(15, 30))):
        other = slice(15, 30) if row == 0 else slice(0, 15)
        assert scores[row, block].mean() > scores[row, other].mean()
    again = BPR(factors=8, learning_rate=0.05, iterations=200).fit(views, catalogue)
    np.testing.assert_allclose(again.score(["m00"]), scores[:1])
    with pytest.raises(ValueError, match="learning_rate > 0"):
        BPR(learning_rate=0)
