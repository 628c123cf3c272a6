"""The ranker's inputs: history, impressions, titles and members, and the true tastes when known."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from reelops.config import Settings
from reelops.lake import partitions
from reelops.privacy import load_key, pseudonymize
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
    """Every landed viewing event of ``source`` (pseudonymized), oldest first.

    The warehouse has no viewing-event mart (its marts aggregate views per day), so
    the lake's partitions, which hold member keys only, are read directly.

    Raises:
        FileNotFoundError: nothing was landed for ``source``.
    """
    lake_dir = settings.lake_dir(source)
    files = [path for _, path in partitions(lake_dir, "viewing_events")]
    if not files:
        raise FileNotFoundError(
            f"no viewing events in {lake_dir}; run the daily DAG (`reelops pipeline run`) "
            f"for source {source!r} first"
        )
    columns = ["member_key", "title_id", "ts", "completion"]
    table = pa.concat_tables([pq.read_table(path, columns=columns) for path in files])
    frame = table.to_pandas()
    frame["ts"] = pd.to_datetime(frame["ts"]).astype("datetime64[ns]")
    frame["completion"] = frame["completion"].fillna(0.0).clip(0.0, 1.0).astype(np.float64)
    return frame.sort_values("ts", kind="stable", ignore_index=True)


def load_ranking_data(settings: Settings, source: str | None = None) -> RankingData:
    """Read a source's history, impressions, catalogue and members.

    Args:
        settings: Platform settings.
        source: Source name; the active source when None.

    Raises:
        FileNotFoundError: the warehouse or lake of ``source`` is not built.
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
