"""Per-member hold-out: last N new titles per member, fixed tie-break, no leak into training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reelops.ranking.member_split import member_holdout, tie_hash


def views(seed: int = 0, members: int = 60, titles: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for m in range(members):
        n = int(rng.integers(3, 40))
        # Coarse times (whole days) so many views tie, and repeats of a title happen.
        days = np.sort(rng.integers(0, 20, n))
        for day, title in zip(days, rng.integers(0, titles, n), strict=True):
            rows.append(
                (
                    f"m{m:03d}",
                    f"t{title:03d}",
                    pd.Timestamp("2026-01-01") + pd.Timedelta(days=int(day)),
                )
            )
    frame = pd.DataFrame(rows, columns=["member_key", "title_id", "ts"])
    return frame.assign(completion=rng.random(len(frame)))


def test_held_out_views_never_reach_training():
    data = views()
    split = member_holdout(data, n_views=5, min_history=3)
    train_pairs = pd.MultiIndex.from_frame(split.train[["member_key", "title_id"]])
    test_pairs = pd.MultiIndex.from_frame(split.test[["member_key", "title_id"]])
    assert not test_pairs.isin(train_pairs).any()
    assert (split.test.groupby("member_key").size() == 5).all()
    # Nothing an evaluated member did at or after its cut stays in training.
    joined = split.train.merge(split.cutoffs.rename("cut").reset_index(), on="member_key")
    assert (joined["ts"] <= joined["cut"]).all()
    # Members with too little history are in training only, with all their views.
    n_titles = data.groupby("member_key")["title_id"].nunique()
    short = n_titles[n_titles < 8].index
    assert not split.test["member_key"].isin(short).any()
    assert split.train["member_key"].isin(short).sum() == data["member_key"].isin(short).sum()
    assert split.protocol.n_train_only_members == len(short)


def test_ties_are_broken_by_a_fixed_hash_not_by_id_order():
    data = views(seed=1)
    shuffled = data.sample(frac=1.0, random_state=3).reset_index(drop=True)
    a = member_holdout(data, n_views=4, min_history=2).test
    b = member_holdout(shuffled, n_views=4, min_history=2).test
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    h = tie_hash(pd.Series(["m1", "m1"]), pd.Series(["t1", "t2"]))
    assert h[0] != h[1] and (h == tie_hash(pd.Series(["m1", "m1"]), pd.Series(["t1", "t2"]))).all()


def test_validation_split_is_made_inside_training():
    data = views(seed=2)
    outer = member_holdout(data, n_views=3, min_history=3)
    inner = member_holdout(outer.train, n_views=3, min_history=3)
    outer_pairs = pd.MultiIndex.from_frame(outer.test[["member_key", "title_id"]])
    for frame in (inner.train, inner.test):
        assert (
            not pd.MultiIndex.from_frame(frame[["member_key", "title_id"]]).isin(outer_pairs).any()
        )


def test_too_little_history_everywhere_is_an_error():
    with pytest.raises(ValueError, match="lower evaluation.holdout_views"):
        member_holdout(views(members=5).head(10), n_views=50, min_history=5)
