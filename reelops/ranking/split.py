"""Temporal hold-out: train before a cut-off time, each member's new titles after it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd

INTERACTION_COLUMNS = ("member_key", "title_id", "ts", "completion")


def check_interactions(interactions: pd.DataFrame, what: str = "interactions") -> None:
    """Raise if ``interactions`` lacks a column of :data:`INTERACTION_COLUMNS` or is malformed.

    Args:
        interactions: One row per viewing event.
        what: How to name the frame in the error.

    Raises:
        ValueError: A column is missing, ``ts`` is not a datetime, ``completion`` is
            outside 0..1, or a key is null.
    """
    missing = [c for c in INTERACTION_COLUMNS if c not in interactions.columns]
    if missing:
        raise ValueError(
            f"{what} needs the columns {list(INTERACTION_COLUMNS)}; missing {missing} "
            f"(has {list(interactions.columns)}). Rename member_id to member_key if the "
            "frame comes from a raw source."
        )
    if not pd.api.types.is_datetime64_any_dtype(interactions["ts"]):
        raise ValueError(f"{what}.ts must be a datetime column, got {interactions['ts'].dtype}")
    completion = interactions["completion"]
    bad = completion.isna() | (completion < 0) | (completion > 1)
    if bad.any():
        raise ValueError(
            f"{what}.completion must be in 0..1, got {completion[bad].iloc[0]!r} "
            f"in {int(bad.sum())} rows"
        )
    for column in ("member_key", "title_id", "ts"):
        if interactions[column].isna().any():
            raise ValueError(f"{what}.{column} has {int(interactions[column].isna().sum())} nulls")


@dataclass(frozen=True)
class SplitProtocol:
    """How a temporal hold-out was made, with its counts; ``to_dict`` goes into reports.

    Attributes:
        cutoff: ISO time of the cut; train is strictly before it, test at or after it.
        test_share: Share of interactions asked to start at the cut (None for an
            explicit cut-off).
        first_ts, last_ts: ISO times of the first and last interaction split.
        n_interactions: Interactions split.
        n_train: Interactions in train (all kept, repeats included).
        n_test: Test rows: one per member and held-out title.
        n_train_members, n_train_titles: Distinct members and titles in train.
        n_test_members: Members with at least one held-out title.
        n_after_cut: Interactions at or after the cut, before filtering.
        n_dropped_cold: Of those, interactions of members with no training interaction.
        n_dropped_seen: Of those, interactions with a title the member watched in train.
    """

    cutoff: str
    test_share: float | None
    first_ts: str
    last_ts: str
    n_interactions: int
    n_train: int
    n_test: int
    n_train_members: int
    n_train_titles: int
    n_test_members: int
    n_after_cut: int
    n_dropped_cold: int
    n_dropped_seen: int

    def to_dict(self) -> dict[str, object]:
        """The protocol as plain JSON-able values, with a one-line description."""
        return {
            "kind": "temporal hold-out",
            "description": (
                "train = interactions before the cut-off; test = each member's titles first "
                "watched at or after it, for members with a training interaction, excluding "
                "titles they watched in train; one test row per member and title"
            ),
            **asdict(self),
        }


@dataclass(frozen=True, eq=False)
class TemporalSplit:
    """Train and test frames with the protocol that made them.

    Attributes:
        train: Interactions before the cut, every column kept.
        test: One row per (member_key, title_id) held out: ``ts`` of the first view at
            or after the cut and the highest ``completion``.
        protocol: The cut-off and counts.
    """

    train: pd.DataFrame
    test: pd.DataFrame
    protocol: SplitProtocol


def cutoff_at_share(interactions: pd.DataFrame, test_share: float = 0.2) -> pd.Timestamp:
    """The time at which the last ``test_share`` of interactions begin.

    Interactions at exactly that time all fall after the cut, so train holds at most
    ``1 - test_share`` of them.

    Args:
        interactions: Frame with a datetime ``ts`` column.
        test_share: Share of interactions after the cut, in (0, 1).

    Returns:
        The ``ts`` of interaction number ``floor(n * (1 - test_share))`` in time order.

    Raises:
        ValueError: ``test_share`` outside (0, 1), or no interactions.
    """
    if not (isinstance(test_share, int | float) and 0.0 < test_share < 1.0):
        raise ValueError(f"test_share must be in (0, 1), got {test_share!r}")
    if interactions.empty:
        raise ValueError("cannot choose a cut-off: there are no interactions")
    ts = interactions["ts"].sort_values(ignore_index=True)
    position = min(math.floor(len(ts) * (1.0 - test_share)), len(ts) - 1)
    return pd.Timestamp(ts.iloc[position])


def temporal_split(
    interactions: pd.DataFrame,
    *,
    test_share: float = 0.2,
    cutoff: pd.Timestamp | str | None = None,
) -> TemporalSplit:
    """Split viewing events at one time for every member.

    Args:
        interactions: Columns ``member_key, title_id, ts, completion`` (more are kept in
            train).
        test_share: Chooses the cut-off as :func:`cutoff_at_share` when ``cutoff`` is None.
        cutoff: An explicit cut-off time (wins over ``test_share``).

    Returns:
        Train (``ts < cutoff``) and test (members' new titles at or after the cut), with
        the protocol.

    Raises:
        ValueError: Bad columns or share, or a cut-off that leaves train or test empty.
    """
    check_interactions(interactions)
    share: float | None
    if cutoff is None:
        cut, share = cutoff_at_share(interactions, test_share), float(test_share)
    else:
        cut, share = pd.Timestamp(cutoff), None
    before = (interactions["ts"] < cut).to_numpy()
    train = interactions[before].reset_index(drop=True)
    after = interactions[~before]
    if train.empty or after.empty:
        raise ValueError(
            f"cut-off {cut} leaves {len(train)} training and {len(after)} later interactions "
            f"(interactions span {interactions['ts'].min()} .. {interactions['ts'].max()}); "
            "choose a cut-off inside that span"
        )

    known = after["member_key"].isin(pd.unique(train["member_key"])).to_numpy()
    seen_pairs = pd.MultiIndex.from_frame(train[["member_key", "title_id"]])
    seen = pd.MultiIndex.from_frame(after[["member_key", "title_id"]]).isin(seen_pairs)
    kept = after[known & ~seen]
    test = (
        kept.groupby(["member_key", "title_id"], sort=True, observed=True)
        .agg(ts=("ts", "min"), completion=("completion", "max"))
        .reset_index()
    )
    protocol = SplitProtocol(
        cutoff=cut.isoformat(),
        test_share=share,
        first_ts=pd.Timestamp(interactions["ts"].min()).isoformat(),
        last_ts=pd.Timestamp(interactions["ts"].max()).isoformat(),
        n_interactions=len(interactions),
        n_train=len(train),
        n_test=len(test),
        n_train_members=int(train["member_key"].nunique()),
        n_train_titles=int(train["title_id"].nunique()),
        n_test_members=int(test["member_key"].nunique()),
        n_after_cut=len(after),
        n_dropped_cold=int((~known).sum()),
        n_dropped_seen=int((known & seen).sum()),
    )
    return TemporalSplit(train, test, protocol)


def validation_split(train: pd.DataFrame, *, test_share: float = 0.2) -> TemporalSplit:
    """The same hold-out made inside a training set, for choosing hyperparameters.

    Args:
        train: A split's training interactions.
        test_share: Share of ``train`` after the inner cut-off.

    Returns:
        Inner train and validation (in the ``test`` field) frames, never touching the
        outer test set.
    """
    return temporal_split(train, test_share=test_share)


__all__ = [
    "INTERACTION_COLUMNS",
    "SplitProtocol",
    "TemporalSplit",
    "check_interactions",
    "cutoff_at_share",
    "temporal_split",
    "validation_split",
]
