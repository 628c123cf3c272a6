"""The monitored inputs of each model, one row per unit (member, session) and day.

Drift is judged on what a day's data looks like where the features are made from it:
the ranker's per member and day (views, completion, watch time: the raw inputs of its
member features), the bitrate model's per playback session (the chunks' throughput and
download time: the raw inputs of its network features). A column broken upstream
shows on its first day here, where a 7- or 28-day feature would dilute it.
"""

from __future__ import annotations

import pandas as pd

SEGMENT = "country"
RANKER_INPUTS = ("views", "completion", "watch_hours", "seconds_watched_max")
BITRATE_INPUTS = ("throughput_mbps", "throughput_p10_mbps", "download_s", "chunk_bytes")


def ranker_inputs(views: pd.DataFrame, countries: pd.Series) -> pd.DataFrame:
    """One row per member with views: the day's views, mean completion, hours watched."""
    if views.empty:
        return pd.DataFrame(columns=[SEGMENT, *RANKER_INPUTS])
    grouped = views.groupby(["member_key", views["ts"].dt.date])
    out = pd.DataFrame(
        {
            "views": grouped.size(),
            "completion": grouped["completion"].mean(),
            "watch_hours": grouped["seconds_watched"].sum() / 3600.0,
            "seconds_watched_max": grouped["seconds_watched"].max().astype(float),
        }
    ).reset_index(level=1, drop=True)
    out["views"] = out["views"].astype(float)
    out[SEGMENT] = out.index.map(countries).fillna("unknown")
    return out.reset_index(drop=True)[[SEGMENT, *RANKER_INPUTS]]


def bitrate_inputs(sessions: pd.DataFrame, chunks: pd.DataFrame) -> pd.DataFrame:
    """One row per playback session: its chunks' mean and 10th-percentile throughput,
    mean download time and mean chunk size."""
    if sessions.empty or chunks.empty:
        return pd.DataFrame(columns=[SEGMENT, *BITRATE_INPUTS])
    grouped = chunks.groupby("session_id")
    out = pd.DataFrame(
        {
            "throughput_mbps": grouped["throughput_mbps"].mean(),
            "throughput_p10_mbps": grouped["throughput_mbps"].quantile(0.1),
            "download_s": grouped["download_s"].mean(),
            "chunk_bytes": grouped["chunk_bytes"].mean(),
        }
    )
    country = sessions.set_index("session_id")["country"]
    out[SEGMENT] = out.index.map(country).fillna("unknown")
    return out.reset_index(drop=True)[[SEGMENT, *BITRATE_INPUTS]]
