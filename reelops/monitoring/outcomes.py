"""Outcomes of what was served: recommendations joined with what the member did next,
bitrate decisions with the session's delivery; by model version and segment."""

from __future__ import annotations

import numpy as np
import pandas as pd

K = 10
STALL_PENALTY = 4.3  # QoE_lin's, per second of rebuffering (Pensieve)


def ndcg_at_k(served: list[str], relevant: set[str], k: int = K) -> float:
    """Binary NDCG@k of a ranked list against the titles the member went on to play."""
    if not relevant:
        return 0.0
    gains = [1.0 / np.log2(i + 2) for i, t in enumerate(served[:k]) if t in relevant]
    ideal = sum(1.0 / np.log2(i + 2) for i in range(min(len(relevant), k)))
    return float(sum(gains) / ideal)


def recommendation_outcomes(
    logs: pd.DataFrame, views: pd.DataFrame, countries: pd.Series
) -> pd.DataFrame:
    """One row per answered /recommend request: what the member played after it that day.

    Columns: ``model_version``, ``country``, ``cold_start``, ``fallback``, ``hit``
    (a top-10 title played), ``ndcg`` (NDCG@10 against every title played after the
    request), ``completion`` (mean completion of played top-10 titles; NaN if none).
    """
    asked = logs[logs["endpoint"] == "/recommend"]
    if asked.empty:
        return pd.DataFrame(
            columns=["model_version", "country", "cold_start", "hit", "ndcg", "completion"]
        )
    plays: dict[str, list[tuple]] = {}
    if not views.empty:
        for key, title, ts, completion in zip(
            views["member_key"], views["title_id"], views["ts"], views["completion"], strict=True
        ):
            plays.setdefault(key, []).append((ts, title, completion))
    rows = []
    for key, at, version, output, fallback in zip(
        asked["member_key"],
        pd.to_datetime(asked["logged_at"]).dt.tz_localize(None),
        asked["model_version"],
        asked["output"],
        asked["fallback"],
        strict=True,
    ):
        after = [(t, c) for ts, t, c in plays.get(key, []) if ts >= at]
        played = {t for t, _ in after}
        top = output["titles"][:K]
        done = [c for t, c in after if t in set(top)]
        rows.append(
            {
                "model_version": version,
                "country": countries.get(key, "unknown"),
                "cold_start": bool(output.get("cold_start")),
                "fallback": bool(fallback),
                "hit": float(bool(played & set(top))),
                "ndcg": ndcg_at_k(top, played),
                "completion": float(np.mean(done)) if done else np.nan,
            }
        )
    return pd.DataFrame(rows)


def delivery_outcomes(
    logs: pd.DataFrame, sessions: pd.DataFrame, chunks: pd.DataFrame
) -> pd.DataFrame:
    """One row per playback session: its QoE_lin per chunk, rebuffering and bitrate.

    The bitrate endpoint's requests carry no session id, so a session is credited to the
    version(s) that answered /bitrate that day (``+``-joined when a release happened).
    """
    if sessions.empty or chunks.empty:
        return pd.DataFrame(columns=["model_version", "country", "qoe", "rebuffer_ratio"])
    versions = sorted(set(logs.loc[logs["endpoint"] == "/bitrate", "model_version"].dropna()))
    chunks = chunks.sort_values(["session_id", "chunk_index"])
    rate = chunks["bitrate_kbps"] / 1000.0
    switch = rate.groupby(chunks["session_id"]).diff().abs()
    later = chunks["chunk_index"] > 0
    reward = (rate - STALL_PENALTY * chunks["rebuffer_s"] - switch.fillna(0.0))[later]
    grouped = chunks[later].assign(reward=reward).groupby("session_id")
    out = pd.DataFrame(
        {
            "qoe": grouped["reward"].mean(),
            "rebuffer_s": grouped["rebuffer_s"].sum(),
            "bitrate_mbps": grouped["bitrate_kbps"].mean() / 1000.0,
            "chunks": grouped.size(),
        }
    )
    out["rebuffer_ratio"] = out["rebuffer_s"] / (out["chunks"] * 4.0)
    out["country"] = out.index.map(sessions.set_index("session_id")["country"])
    out["model_version"] = "+".join(versions) if versions else "none"
    return out.reset_index(drop=True)


def by_segment(outcomes: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Mean of each metric and the request count per model version, for everyone (``all``)
    and per country."""
    if outcomes.empty:
        return pd.DataFrame(columns=["model_version", "segment", "n", *metrics])
    whole = outcomes.assign(segment="all")
    parts = pd.concat([whole, outcomes.assign(segment=outcomes["country"])], ignore_index=True)
    grouped = parts.groupby(["model_version", "segment"])
    table = grouped[metrics].mean()
    table.insert(0, "n", grouped.size())
    return table.reset_index()
