"""The ranker's inputs from the warehouse marts: history, impressions, titles, members; tastes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reelops.config import Settings
from reelops.privacy import load_key, pseudonymize
from reelops.ranking.split import INTERACTION_COLUMNS
from reelops.sources import active_source, read_truth
from reelops.warehouse import read_mart

SEGMENT_COLUMNS = ("country", "age_band", "gender")


@dataclass(frozen=True, eq=False)
class RankingData:
    """Everything the ranker and its baselines learn from, keyed by pseudonymous member_key.

    Attributes:
        source: The data source (``world``, ``movielens``...).
        interactions: Viewing events ``member_key, title_id, ts, completion`` (time order).
        impressions: ``member_key, title_id, ts, label`` (0 not played, 1 played,
            2 completed) from ``fct_ranking_interactions``; empty without impressions.
        titles: ``dim_titles`` (``title_id``, ``genres``, ``release_date``, genre flags).
        members: ``dim_members`` (``member_key`` and segment columns).
    """

    source: str
    interactions: pd.DataFrame
    impressions: pd.DataFrame
    titles: pd.DataFrame
    members: pd.DataFrame

    @property
    def span(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last viewing time."""
        ts = self.interactions["ts"]
        return pd.Timestamp(ts.min()), pd.Timestamp(ts.max())

    @property
    def segments(self) -> list[str]:
        """Segment columns this source's members have (gender only on MovieLens-like data)."""
        present = []
        for column in SEGMENT_COLUMNS:
            if column in self.members.columns:
                values = self.members[column].dropna().astype(str)
                if values[values != "unknown"].nunique() > 1:
                    present.append(column)
        return present


def read_viewing_events(settings: Settings, source: str) -> pd.DataFrame:
    """Every viewing event of ``source`` from the ``fct_viewing_events`` mart, oldest first.

    Ties in ``ts`` keep ``event_id`` order, the order the lake lands events in, so the
    history is the same whatever order the warehouse returns its rows in.

    Returns:
        ``member_key, title_id, ts, completion`` (completion in 0..1, 0 when unknown).

    Raises:
        FileNotFoundError: the warehouse of ``source`` is not built.
    """
    events = read_mart(settings, source, "fct_viewing_events")
    events = events.sort_values(["ts", "event_id"], kind="stable", ignore_index=True)
    frame = events[list(INTERACTION_COLUMNS)].copy()
    frame["ts"] = pd.to_datetime(frame["ts"]).astype("datetime64[ns]")
    frame["completion"] = (
        pd.to_numeric(frame["completion"]).fillna(0.0).clip(0.0, 1.0).astype(np.float64)
    )
    return frame


def load_ranking_data(settings: Settings, source: str | None = None) -> RankingData:
    """Read a source's history, impressions, catalogue and members.

    Args:
        settings: Platform settings.
        source: Source name; the active source when None.

    Raises:
        FileNotFoundError: the warehouse of ``source`` is not built.
        ValueError: the source has no viewing events.
    """
    source = source or active_source(settings)
    interactions = read_viewing_events(settings, source)
    if interactions.empty:
        raise ValueError(f"source {source!r} has no viewing events to learn from")
    titles = read_mart(settings, source, "dim_titles")
    titles["release_date"] = pd.to_datetime(titles["release_date"])
    members = read_mart(settings, source, "dim_members")
    impressions = read_mart(settings, source, "fct_ranking_interactions")
    impressions = impressions[["member_key", "title_id", "ts", "label"]].copy()
    impressions["ts"] = pd.to_datetime(impressions["ts"]).astype("datetime64[ns]")
    impressions["label"] = impressions["label"].astype(np.int8)
    return RankingData(source, interactions, impressions, titles, members)


def member_tastes(settings: Settings, source: str) -> pd.DataFrame | None:
    """The synthetic world's true tastes keyed by member_key, or None when unknown."""
    try:
        truth = read_truth(settings, source, "member_tastes")
    except (FileNotFoundError, OSError):
        return None
    keys = pseudonymize(truth["member_id"].astype(str).unique().tolist(), load_key(settings))
    out = truth.assign(member_key=truth["member_id"].astype(str).map(keys))
    return out[["member_key", "genre", "weight"]]


__all__ = [
    "SEGMENT_COLUMNS",
    "RankingData",
    "load_ranking_data",
    "member_tastes",
    "read_viewing_events",
]
