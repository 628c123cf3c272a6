"""Merging the candidate sources' ranked lists under per-source quotas and a total size.

:meth:`~reelops.ranking.candidates.CandidateGenerator.select` and the quota search
(:mod:`reelops.ranking.quota_search`) share this code, so the search scores exactly the
candidates training and serving will see: each source's lists are ranked once
(:func:`rank_sources`), then merged for any quotas and total (:func:`merge_ranked`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


def top_scores(scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows and columns of each row's n best finite scores, rank order within rows."""
    n = min(n, scores.shape[1])
    part = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    values = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-values, axis=1, kind="stable")
    cols = np.take_along_axis(part, order, axis=1)
    values = np.take_along_axis(values, order, axis=1)
    rows = np.broadcast_to(np.arange(len(scores))[:, None], cols.shape)
    keep = np.isfinite(values)
    return rows[keep], cols[keep], values[keep]


@dataclass(frozen=True)
class RankedSources:
    """Every source's best titles per member, to a depth: what :func:`merge_ranked` merges.

    Attributes:
        rows, cols, source, rank, score: One entry per (member row, title, source):
            the member's position, the title's column, the source's index in ``names``,
            its rank there (1 = best) and its score.
        names: The sources' names, in priority order (ties go to the earlier one).
        n_titles: Columns of the score matrices.
    """

    rows: np.ndarray
    cols: np.ndarray
    source: np.ndarray
    rank: np.ndarray
    score: np.ndarray
    names: tuple[str, ...]
    n_titles: int


def rank_sources(
    scores: Mapping[str, np.ndarray], depth: Mapping[str, int], names: Sequence[str]
) -> RankedSources:
    """Each source's ``depth[source]`` best titles per member (sources in ``names`` order).

    Args:
        scores: Source name -> ``(members, titles)`` scores; ``-inf`` never proposed.
        depth: Titles kept per member and source.
        names: Every source's name, in priority order (indexes of ``source``).
    """
    if not scores:
        raise ValueError("every candidate source has quota 0; give one a positive quota")
    parts = []
    for name, values in scores.items():
        rows, cols, score = top_scores(values, int(depth[name]))
        rank = np.arange(len(rows)) - np.searchsorted(rows, rows) + 1
        parts.append((rows, cols, np.full(len(rows), names.index(name)), rank, score))
    rows, cols, source, rank, score = (np.concatenate(p) for p in zip(*parts, strict=True))
    n_titles = next(iter(scores.values())).shape[1]
    return RankedSources(rows, cols, source, rank, score, tuple(names), n_titles)


@dataclass(frozen=True)
class Merged:
    """The merged candidates: one entry per (member row, title), ``ranks`` per source."""

    rows: np.ndarray
    cols: np.ndarray
    source: np.ndarray
    score: np.ndarray
    ranks: np.ndarray


def merge_ranked(ranked: RankedSources, quotas: Mapping[str, int], total: int) -> Merged:
    """Per member: every source's in-quota titles in turns by rank, then the rest, to ``total``.

    A source with quota 0 (or none) takes no part. A source proposes titles down to
    ``max(total, quota)``: titles past its quota fill the room overlaps leave. A title
    proposed by several sources counts once, under the source where it ranks best
    (ties in ``names`` order).
    """
    n_sources = len(ranked.names)
    quota = np.array([int(quotas.get(name, 0)) for name in ranked.names])
    depth = np.maximum(quota, total)
    if not (quota > 0).any():
        raise ValueError("every candidate source has quota 0; give one a positive quota")
    s = ranked.source
    use = (quota[s] > 0) & (ranked.rank <= depth[s])
    rows, cols, source, rank, score = (
        a[use] for a in (ranked.rows, ranked.cols, s, ranked.rank, ranked.score)
    )
    over = rank > quota[source]
    key = rows.astype(np.int64) * ranked.n_titles + cols
    # One int64 sort key (pair, past quota, rank, source) instead of a slower lexsort.
    n_ranks = int(rank.max(initial=0)) + 1
    turn = (over * n_ranks + rank) * n_sources + source
    order = np.argsort(key * (2 * n_ranks * n_sources) + turn, kind="stable")
    key, rows, cols, source, rank, turn, score = (
        a[order] for a in (key, rows, cols, source, rank, turn, score)
    )
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    ranks = np.zeros((int(first.sum()), n_sources), dtype=np.int32)
    ranks[np.cumsum(first) - 1, source] = rank
    best = np.flatnonzero(first)
    keep_order = np.argsort(
        rows[best].astype(np.int64) * (2 * n_ranks * n_sources) + turn[best], kind="stable"
    )
    best, ranks = best[keep_order], ranks[keep_order]
    member = rows[best]
    within = np.arange(len(best)) - np.searchsorted(member, member) < total
    best, ranks = best[within], ranks[within]
    return Merged(rows[best], cols[best], source[best], score[best], ranks)


__all__ = ["Merged", "RankedSources", "merge_ranked", "rank_sources", "top_scores"]
