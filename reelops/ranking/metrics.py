"""Top-k ranking metrics, vectorized over members, and their aggregation by segment.

Conventions: a ranking orders titles by descending score, ties broken by the lower
column index (a stable sort); ranks are 0-based in arrays and 1-based in MRR.
Relevance is binary: a member's held-out titles. Every per-member function returns
NaN for a member with no relevant title.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def discounts(k: int) -> np.ndarray:
    """DCG position discounts ``1 / log2(rank + 2)`` for 0-based ranks ``0..k-1``."""
    return 1.0 / np.log2(np.arange(k) + 2.0)


def _per_relevant(values: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    return np.where(np.asarray(n_relevant) > 0, values, np.nan)


def ndcg_at_k(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """NDCG@k with binary relevance.

    ``DCG = sum_{r < k} hit[r] / log2(r + 2)``; the ideal DCG puts
    ``min(k, n_relevant)`` hits at the top.

    Args:
        hits: (members, k) bool: whether the title at rank r is relevant.
        n_relevant: (members,) number of relevant titles of each member.

    Returns:
        (members,) NDCG in [0, 1]; NaN where ``n_relevant == 0``.
    """
    hits = np.asarray(hits, dtype=bool)
    k = hits.shape[1]
    disc = discounts(k)
    ideal = np.concatenate([[0.0], np.cumsum(disc)])[np.minimum(n_relevant, k)]
    dcg = hits @ disc
    return _per_relevant(np.divide(dcg, ideal, out=np.zeros_like(dcg), where=ideal > 0), n_relevant)


def recall_at_k(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """Recall@k normalised to what fits: ``hits in the top k / min(k, n_relevant)``.

    With one held-out title this equals the hit rate; the ``min`` makes 1.0 reachable
    for members with more than k held-out titles.

    Returns:
        (members,) in [0, 1]; NaN where ``n_relevant == 0``.
    """
    hits = np.asarray(hits, dtype=bool)
    denominator = np.minimum(np.asarray(n_relevant), hits.shape[1])
    found = hits.sum(axis=1).astype(np.float64)
    ratio = np.divide(found, denominator, out=np.zeros_like(found), where=denominator > 0)
    return _per_relevant(ratio, n_relevant)


def hit_rate_at_k(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """HR@k: 1 if at least one relevant title is in the top k, else 0 (plain hit rate).

    Returns:
        (members,) of 0.0 / 1.0; NaN where ``n_relevant == 0``.
    """
    return _per_relevant(np.asarray(hits, dtype=bool).any(axis=1).astype(np.float64), n_relevant)


def reciprocal_rank(first_rank: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """Reciprocal rank of the first relevant title in the full ranking (its mean is MRR).

    Args:
        first_rank: (members,) 0-based rank of each member's best-ranked relevant title.
        n_relevant: (members,) number of relevant titles.

    Returns:
        (members,) ``1 / (first_rank + 1)``; NaN where ``n_relevant == 0``.
    """
    first_rank = np.asarray(first_rank, dtype=np.float64)
    return _per_relevant(1.0 / (np.maximum(first_rank, 0.0) + 1.0), n_relevant)


def full_ranks(scores: np.ndarray) -> np.ndarray:
    """0-based rank of every column in each row's descending, stable order.

    Raises:
        ValueError: A score is NaN (use -inf for titles that must rank last).
    """
    scores = np.asarray(scores)
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN; give titles that must rank last -inf instead")
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(scores.shape[1])[None, :], axis=1)
    return ranks


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's k best scores, best first; -1 where the score is -inf."""
    scores = np.asarray(scores)
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN; give titles that must rank last -inf instead")
    k_eff = min(k, scores.shape[1])
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k_eff]
    order = np.where(np.isneginf(np.take_along_axis(scores, order, axis=1)), -1, order)
    if k_eff < k:
        order = np.pad(order, ((0, 0), (0, k - k_eff)), constant_values=-1)
    return order


def ranking_metrics(scores: np.ndarray, relevant: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Every per-member ranking metric of one block of members.

    Args:
        scores: (members, titles) scores; -inf for titles excluded from the ranking
            (already watched); they rank last and never count as recommended.
        relevant: (members, titles) bool: held-out titles.
        k: Cut-off.

    Returns:
        ``recs`` (members, k) top-k title indices (-1 = none), ``n_relevant``,
        ``ndcg``, ``recall``, ``hit``, ``rr`` (reciprocal rank) per member.
    """
    relevant = np.asarray(relevant, dtype=bool)
    ranks = full_ranks(scores)
    n_relevant = relevant.sum(axis=1)
    first_rank = np.where(relevant, ranks, scores.shape[1]).min(axis=1)
    recs = top_k(scores, k)
    hits = np.take_along_axis(relevant, np.maximum(recs, 0), axis=1) & (recs >= 0)
    return {
        "recs": recs,
        "n_relevant": n_relevant,
        "ndcg": ndcg_at_k(hits, n_relevant),
        "recall": recall_at_k(hits, n_relevant),
        "hit": hit_rate_at_k(hits, n_relevant),
        "rr": reciprocal_rank(first_rank, n_relevant),
    }


def long_tail_mask(counts: np.ndarray, head_share: float = 0.8) -> np.ndarray:
    """Which titles are in the long tail of popularity.

    The head is the smallest set of most-interacted titles (ties by lower index) that
    together hold at least ``head_share`` of all interactions; the rest, titles never
    interacted with included, is the tail.

    Args:
        counts: (titles,) training interactions per title.
        head_share: Share of interactions the head holds, in (0, 1].

    Returns:
        (titles,) bool, True for tail titles.
    """
    if not 0.0 < head_share <= 1.0:
        raise ValueError(f"head_share must be in (0, 1], got {head_share}")
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    tail = np.ones(len(counts), dtype=bool)
    if total <= 0:
        return tail
    order = np.argsort(-counts, kind="stable")
    before = np.concatenate([[0.0], np.cumsum(counts[order])[:-1]]) / total
    tail[order[(before < head_share) & (counts[order] > 0)]] = False
    return tail


def long_tail_share(recs: np.ndarray, is_tail: np.ndarray) -> np.ndarray:
    """Per member, the share of its recommended titles (ignoring -1) in the long tail."""
    recs = np.asarray(recs)
    valid = recs >= 0
    tail = np.asarray(is_tail, dtype=bool)[np.maximum(recs, 0)] & valid
    n = valid.sum(axis=1)
    return np.divide(tail.sum(axis=1), n, out=np.full(len(recs), np.nan), where=n > 0)


def catalog_coverage(recs: np.ndarray, n_titles: int) -> float:
    """Share of the catalogue recommended to at least one member (ignoring -1)."""
    if n_titles < 1:
        raise ValueError(f"n_titles must be >= 1, got {n_titles}")
    recs = np.asarray(recs)
    return float(len(np.unique(recs[recs >= 0])) / n_titles)


def summarize(per_member: pd.DataFrame, recs: np.ndarray, n_titles: int) -> dict[str, float]:
    """Mean of every metric column of ``per_member`` plus catalogue coverage and size.

    Args:
        per_member: One row per member; numeric metric columns (others are ignored).
        recs: (members, k) top-k title indices aligned with ``per_member`` rows.
        n_titles: Catalogue size.
    """
    means = per_member.select_dtypes("number").mean().to_dict()
    return {
        "n_members": len(per_member),
        **{name: float(value) for name, value in means.items()},
        "coverage": catalog_coverage(recs, n_titles),
    }


def segment_metrics(
    per_member: pd.DataFrame,
    recs: np.ndarray,
    n_titles: int,
    members: pd.DataFrame,
    segments: Sequence[str],
) -> pd.DataFrame:
    """:func:`summarize` within each value of each segment column.

    Args:
        per_member: ``member_key`` plus numeric metric columns, one row per member.
        recs: (members, k) top-k title indices aligned with ``per_member`` rows.
        n_titles: Catalogue size.
        members: ``member_key`` plus the segment columns; members absent from it, or
            with a null value, fall in segment value ``"unknown"``.
        segments: Segment columns, e.g. ``("country", "age_band", "gender")``.

    Returns:
        One row per (segment, value), sorted: ``segment, value, n_members``, the metric
        means and ``coverage``.

    Raises:
        ValueError: A segment column is not in ``members``.
    """
    missing = [s for s in segments if s not in members.columns]
    if missing:
        raise ValueError(f"members has no segment column {missing}; it has {list(members.columns)}")
    attributes = members.drop_duplicates("member_key").set_index("member_key")
    rows = []
    for segment in segments:
        values = (
            attributes[segment]
            .reindex(per_member["member_key"])
            .astype(object)
            .fillna("unknown")
            .astype(str)
            .to_numpy()
        )
        for value in np.unique(values):
            mask = values == value
            summary = summarize(per_member[mask], recs[mask], n_titles)
            rows.append({"segment": segment, "value": value, **summary})
    return pd.DataFrame(rows)


__all__ = [
    "catalog_coverage",
    "discounts",
    "full_ranks",
    "hit_rate_at_k",
    "long_tail_mask",
    "long_tail_share",
    "ndcg_at_k",
    "ranking_metrics",
    "recall_at_k",
    "reciprocal_rank",
    "segment_metrics",
    "summarize",
    "top_k",
]
