"""Per-member hold-out: each member's last N newly watched titles, ties broken by a fixed hash.

The global time cut (:mod:`reelops.ranking.split`) is the production-faithful check, but
on data such as MovieLens it leaves few members after the cut. The per-member hold-out
judges every member with enough history: each member's views are ordered by time, ties
by a fixed hash of (member, title) (never by id, so no title order leaks in); the
member's last ``n`` *newly* watched titles are held out and everything the member did
before the first of them is training. Members with fewer than ``min_history`` titles
before that point stay in training only. Validation is the same split made inside the
training part (:func:`member_holdout` applied to ``split.train``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reelops.ranking.split import check_interactions


def tie_hash(member_keys: pd.Series, title_ids: pd.Series) -> np.ndarray:
    """A fixed 64-bit hash of each (member, title) pair: the tie-break of equal times."""
    pairs = (member_keys.astype(str) + "\x1f" + title_ids.astype(str)).to_numpy()
    return np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(p.encode(), digest_size=8).digest(), "big") >> 1
            for p in pairs
        ),
        dtype=np.int64,
        count=len(pairs),
    )


@dataclass(frozen=True)
class MemberSplitProtocol:
    """How a per-member hold-out was made, with its counts.

    Attributes:
        n_views: Newly watched titles held out per member.
        min_history: Titles a member needs before the held-out ones to be evaluated.
        n_interactions, n_train, n_test: Interactions split, kept in train, test rows.
        n_test_members: Members evaluated.
        n_train_only_members: Members with too little history, kept in training only.
        first_ts, last_ts: Time span of the interactions.
    """

    n_views: int
    min_history: int
    n_interactions: int
    n_train: int
    n_test: int
    n_test_members: int
    n_train_only_members: int
    first_ts: str
    last_ts: str

    def to_dict(self) -> dict[str, object]:
        """The protocol as JSON-able values, with a one-line description."""
        return {
            "kind": "per-member hold-out",
            "description": (
                f"each member's last {self.n_views} newly watched titles are held out (time "
                "order, ties by a fixed hash of member and title); train = everything the "
                "member did before the first of them; members with fewer than "
                f"{self.min_history} titles before it stay in training only"
            ),
            **self.__dict__,
        }


@dataclass(frozen=True, eq=False)
class MemberSplit:
    """Train and test frames of a per-member hold-out.

    Attributes:
        train: Every interaction kept for training (all of a train-only member's).
        test: One row per held-out (member_key, title_id): its first view's ``ts`` and
            the highest ``completion`` of that view.
        protocol: How it was made.
        cutoffs: Per evaluated member, the time of its first held-out view (the request
            time its features are taken as of).
    """

    train: pd.DataFrame
    test: pd.DataFrame
    protocol: MemberSplitProtocol
    cutoffs: pd.Series


def member_holdout(
    interactions: pd.DataFrame, *, n_views: int = 10, min_history: int = 5
) -> MemberSplit:
    """Hold out each member's last ``n_views`` newly watched titles.

    Args:
        interactions: ``member_key, title_id, ts, completion`` (more columns kept).
        n_views: Titles held out per member, >= 1.
        min_history: Distinct titles a member must have watched before its first
            held-out title to be evaluated, >= 1.

    Returns:
        The split; no held-out title is in the member's training interactions.

    Raises:
        ValueError: bad arguments or columns, or no member has enough history.
    """
    if n_views < 1 or min_history < 1:
        raise ValueError(f"need n_views >= 1 and min_history >= 1, got {n_views}, {min_history}")
    check_interactions(interactions)
    frame = interactions.assign(
        _hash=tie_hash(interactions["member_key"], interactions["title_id"])
    )
    frame = frame.sort_values(["member_key", "ts", "_hash"], kind="stable")
    member = frame["member_key"]
    new = ~frame.duplicated(["member_key", "title_id"])
    # Newly watched titles counted from each member's end: 1 = the last new title.
    from_end = new[::-1].groupby(member[::-1], sort=False).cumsum()[::-1]
    n_titles = new.groupby(member).transform("sum")
    evaluated = (n_titles >= n_views + min_history).to_numpy()
    first_held = (new & (from_end == n_views)).to_numpy() & evaluated
    # Everything from the first held-out view on leaves training (for evaluated members).
    after = pd.Series(first_held, index=frame.index).groupby(member.to_numpy()).cumsum() > 0
    after = after.to_numpy()
    train = frame[~after].drop(columns="_hash")
    held = frame[after & new.to_numpy()]
    if held.empty:
        raise ValueError(
            f"no member has {n_views + min_history} distinct titles for a per-member hold-out "
            f"of {n_views} views with {min_history} before them; lower evaluation.holdout_views"
        )
    completion = frame[after].groupby(["member_key", "title_id"], observed=True)["completion"]
    test = held[["member_key", "title_id", "ts"]].merge(
        completion.max().reset_index(), on=["member_key", "title_id"]
    )
    test = test.sort_values(["member_key", "title_id"], ignore_index=True)
    cutoffs = held.groupby("member_key", sort=True)["ts"].min()
    protocol = MemberSplitProtocol(
        n_views=n_views,
        min_history=min_history,
        n_interactions=len(interactions),
        n_train=len(train),
        n_test=len(test),
        n_test_members=int(test["member_key"].nunique()),
        n_train_only_members=int(member[~evaluated].nunique()),
        first_ts=pd.Timestamp(interactions["ts"].min()).isoformat(),
        last_ts=pd.Timestamp(interactions["ts"].max()).isoformat(),
    )
    return MemberSplit(
        train.sort_values("ts", kind="stable", ignore_index=True), test, protocol, cutoffs
    )


__all__ = ["MemberSplit", "MemberSplitProtocol", "member_holdout", "tie_hash"]
