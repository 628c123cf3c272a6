"""Temporal hold-out: no leakage across the cut, new titles only, counts in the protocol."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from reelops.ranking.split import cutoff_at_share, temporal_split, validation_split


def seen_pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame["member_key"], frame["title_id"], strict=True))


def frame(rows):
    out = pd.DataFrame(rows, columns=["member_key", "title_id", "ts", "completion"])
    out["ts"] = pd.to_datetime(out["ts"])
    return out


HAND = frame(
    [
        ("a", "t1", "2026-01-01", 1.0),
        ("a", "t2", "2026-01-02", 0.5),
        ("b", "t1", "2026-01-02", 0.2),
        ("a", "t2", "2026-01-05", 0.9),  # rewatch of a train title: dropped
        ("a", "t3", "2026-01-05", 0.3),
        ("a", "t3", "2026-01-06", 0.8),  # same held-out title twice: one test row
        ("b", "t4", "2026-01-06", 0.7),
        ("c", "t1", "2026-01-07", 1.0),  # no training interaction: dropped
    ]
)


def test_split_by_hand():
    split = temporal_split(HAND, cutoff="2026-01-05")
    assert len(split.train) == 3
    assert split.test.to_dict("records") == [
        {"member_key": "a", "title_id": "t3", "ts": pd.Timestamp("2026-01-05"), "completion": 0.8},
        {"member_key": "b", "title_id": "t4", "ts": pd.Timestamp("2026-01-06"), "completion": 0.7},
    ]
    p = split.protocol
    assert (p.n_after_cut, p.n_dropped_cold, p.n_dropped_seen, p.n_test) == (5, 1, 1, 2)
    assert (p.n_train_members, p.n_train_titles, p.n_test_members) == (2, 2, 2)
    assert p.test_share is None and p.cutoff == "2026-01-05T00:00:00"


def test_cutoff_at_share_starts_the_last_share():
    # Eight interactions, 25 % after the cut: the cut is the 7th time (index 6).
    assert cutoff_at_share(HAND, 0.25) == pd.Timestamp("2026-01-06")
    with pytest.raises(ValueError, match="test_share"):
        cutoff_at_share(HAND, 1.0)


def test_no_leakage_on_the_tiny_world(interactions, split):
    cut = pd.Timestamp(split.protocol.cutoff)
    assert (split.train["ts"] < cut).all()
    assert (split.test["ts"] >= cut).all()
    assert len(split.train) + split.protocol.n_after_cut == len(interactions)
    assert (interactions["ts"] >= cut).sum() == split.protocol.n_after_cut
    assert set(split.test["member_key"]) <= set(split.train["member_key"])
    assert not seen_pairs(split.test) & seen_pairs(split.train)
    assert not split.test.duplicated(["member_key", "title_id"]).any()
    # The cut is the first time of the last 20 %, so at least 20 % fall after it.
    assert 0.2 <= split.protocol.n_after_cut / len(interactions) < 0.21


def test_validation_split_stays_inside_train(split):
    inner = validation_split(split.train)
    assert pd.Timestamp(inner.protocol.cutoff) < pd.Timestamp(split.protocol.cutoff)
    assert inner.protocol.n_interactions == len(split.train)
    assert seen_pairs(inner.test) <= seen_pairs(split.train)


def test_protocol_is_json_able(split):
    protocol = json.loads(json.dumps(split.protocol.to_dict()))
    assert protocol["kind"] == "temporal hold-out"
    assert protocol["n_test"] == len(split.test)


def test_bad_input_says_what_to_do():
    with pytest.raises(ValueError, match="member_id to member_key"):
        temporal_split(HAND.rename(columns={"member_key": "member_id"}))
    with pytest.raises(ValueError, match="completion must be in 0..1"):
        temporal_split(HAND.assign(completion=HAND["completion"] * 2))
    with pytest.raises(ValueError, match="inside that span"):
        temporal_split(HAND, cutoff="2030-01-01")
    with pytest.raises(ValueError, match="ts must be a datetime"):
        temporal_split(HAND.assign(ts=HAND["ts"].astype(str)))
