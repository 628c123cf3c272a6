"""Offline evaluation: full ranking of unwatched titles on a temporal hold-out, per segment.

Every ranker is judged on the same members and titles: for each member with a
held-out title, every catalogue title the member did not watch in train is ranked
(no sampled negatives); watched titles are removed from the ranking.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from reelops.ranking.baselines import InteractionMatrix, title_index
from reelops.ranking.genre_mix import genre_mix_correlation
from reelops.ranking.metrics import (
    long_tail_mask,
    long_tail_share,
    ranking_metrics,
    segment_metrics,
    summarize,
)
from reelops.ranking.report import EvaluationReport, metric_names

SEGMENTS = ("country", "age_band", "gender")


class Scorer(Protocol):
    """Anything the harness can rank with: the baselines, or a learned ranker.

    ``score(member_keys)`` returns a (members, titles) array whose columns are
    ``title_ids``, higher is better; -inf ranks a title last (e.g. one outside a
    ranker's candidates). NaN is an error.
    """

    @property
    def title_ids(self) -> np.ndarray: ...

    def score(self, member_keys: np.ndarray) -> np.ndarray: ...


def _relevance(test: pd.DataFrame, titles: pd.Index, seen: InteractionMatrix):
    """Evaluated members (sorted) and their held-out title columns."""
    missing = [c for c in ("member_key", "title_id") if c not in test.columns]
    if missing:
        raise ValueError(f"test needs member_key and title_id; missing {missing}")
    if test.empty:
        raise ValueError("test has no held-out titles; nothing to evaluate")
    pairs = test[["member_key", "title_id"]].drop_duplicates()
    cols = titles.get_indexer(pairs["title_id"])
    if (cols < 0).any():
        raise ValueError(
            f"test names titles not in titles, e.g. {pairs['title_id'][cols < 0].iloc[0]!r}"
        )
    member_keys = pd.Index(pd.unique(pairs["member_key"])).sort_values()
    rows = member_keys.get_indexer(pairs["member_key"])
    seen_rows = seen.rows(pairs["member_key"])
    was_seen = np.zeros(len(pairs), dtype=bool)
    known = seen_rows >= 0
    was_seen[known] = np.asarray(seen.matrix[seen_rows[known], cols[known]]).ravel() > 0
    if was_seen.any():
        raise ValueError(
            f"{int(was_seen.sum())} test pairs are titles the member watched in train; "
            "make the split with reelops.ranking.split.temporal_split"
        )
    return member_keys, rows, cols


def evaluate_rankers(
    train: pd.DataFrame,
    test: pd.DataFrame,
    titles: pd.DataFrame,
    members: pd.DataFrame | None,
    rankers: Mapping[str, Scorer],
    k: int = 10,
    segments: Sequence[str] = SEGMENTS,
    compare: Sequence[tuple[str, str]] | None = None,
    protocol: Mapping[str, Any] | None = None,
    n_bootstrap: int = 2000,
    seed: int = 0,
    head_share: float = 0.8,
    chunk_size: int = 1024,
    member_tastes: pd.DataFrame | None = None,
) -> EvaluationReport:
    """Evaluate fitted rankers on a hold-out with full ranking.

    Args:
        train: Training interactions (``member_key, title_id, ts, completion``): what
            each member has watched, removed from its ranking, and the popularity that
            defines the long tail.
        test: Held-out ``member_key, title_id`` pairs (see
            :func:`~reelops.ranking.split.temporal_split`).
        titles: The catalogue; every title is ranked.
        members: ``member_key`` plus the segment columns, or None for no segments.
        rankers: Name to fitted scorer (:class:`Scorer`).
        k: Cut-off of the top-k metrics.
        segments: Member columns to break metrics down by.
        compare: Pairs ``(a, b)`` to bootstrap ``ndcg@k`` of a minus b; default the
            best ranker by ``ndcg@k`` against the runner-up.
        protocol: The split protocol, copied into the report.
        n_bootstrap: Bootstrap resamples.
        seed: Bootstrap seed.
        head_share: Share of training interactions held by the popularity head.
        chunk_size: Members scored at once (bounds memory: chunk x titles floats).
        member_tastes: True tastes (``member_key, genre, weight``) when known, as in
            the synthetic world: adds ``genre_mix@k``, the mean
            :func:`~reelops.ranking.genre_mix.genre_mix_correlation` of each ranker's
            top k (centred, watched titles accounted for).

    Returns:
        The report.

    Raises:
        ValueError: No rankers, ``k < 1``, a scorer's titles differ from the
            catalogue, a score array of the wrong shape, or a malformed test set.
    """
    if not rankers:
        raise ValueError("rankers is empty; pass at least one name -> fitted scorer")
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a whole number >= 1, got {k!r}")
    catalog = title_index(titles)
    seen = InteractionMatrix.build(train, titles)
    member_keys, rel_rows, rel_cols = _relevance(test, catalog, seen)
    is_tail = long_tail_mask(
        np.bincount(catalog.get_indexer(train["title_id"]), minlength=len(catalog)), head_share
    )
    names = metric_names(k)

    per_member, recommendations, overall, segment_rows, seconds = [], {}, {}, [], {}
    for name, scorer in rankers.items():
        start = time.perf_counter()
        frame, recs = _rank_members(
            name, scorer, member_keys, catalog, seen, (rel_rows, rel_cols), is_tail, k, chunk_size
        )
        seconds[name] = time.perf_counter() - start
        overall[name] = summarize(frame, recs, len(catalog))
        if members is not None and segments:
            seg = segment_metrics(frame, recs, len(catalog), members, segments)
            seg.insert(0, "ranker", name)
            segment_rows.append(seg)
        per_member.append(frame.assign(ranker=name))
        member, position = np.nonzero(recs >= 0)
        recommendations[name] = pd.DataFrame(
            {
                "member_key": member_keys.to_numpy()[member],
                "title_id": catalog.to_numpy()[recs[member, position]],
                "rank": position + 1,
            }
        )

    overall_frame = pd.DataFrame(overall).T.rename(columns={"coverage": f"coverage@{k}"})
    overall_frame["n_members"] = overall_frame["n_members"].astype(int)
    if member_tastes is not None:
        overall_frame[f"genre_mix@{k}"] = [
            genre_mix_correlation(recommendations[name], titles, member_tastes, watched=train)
            for name in overall_frame.index
        ]
    segments_frame = (
        pd.concat(segment_rows, ignore_index=True).rename(columns={"coverage": f"coverage@{k}"})
        if segment_rows
        else pd.DataFrame()
    )
    report = EvaluationReport(
        k=int(k),
        protocol=dict(protocol) if protocol is not None else None,
        n_members=len(member_keys),
        n_titles=len(catalog),
        overall=overall_frame,
        segments=segments_frame,
        comparisons=[],
        per_member=pd.concat(per_member, ignore_index=True)[
            ["ranker", "member_key", *names.values()]
        ],
        recommendations=recommendations,
        seconds=seconds,
    )
    if compare is None:
        ranked = overall_frame[names["ndcg"]].sort_values(ascending=False).index.tolist()
        compare = [(ranked[0], ranked[1])] if len(ranked) > 1 else []
    report.comparisons = [report.compare(a, b, n_bootstrap, seed) for a, b in compare]
    return report


def _rank_members(
    name: str,
    scorer: Scorer,
    member_keys: pd.Index,
    catalog: pd.Index,
    seen: InteractionMatrix,
    relevant_cells: tuple[np.ndarray, np.ndarray],
    is_tail: np.ndarray,
    k: int,
    chunk_size: int,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Per-member metrics of one scorer and its top k, scoring ``chunk_size`` members at once."""
    names = metric_names(k)
    columns = _column_order(name, scorer, catalog)
    rel_rows, rel_cols = relevant_cells
    blocks: dict[str, list[np.ndarray]] = {m: [] for m in (*names, "recs")}
    for lo in range(0, len(member_keys), chunk_size):
        keys = member_keys[lo : lo + chunk_size].to_numpy()
        scores = np.asarray(scorer.score(keys), dtype=np.float64)
        if scores.shape != (len(keys), len(catalog)):
            raise ValueError(
                f"ranker {name!r} returned scores of shape {scores.shape} for "
                f"{len(keys)} members; expected ({len(keys)}, {len(catalog)})"
            )
        if columns is not None:
            scores = scores[:, columns]
        scores[seen.history(keys).toarray() > 0] = -np.inf
        relevant = np.zeros(scores.shape, dtype=bool)
        in_chunk = (rel_rows >= lo) & (rel_rows < lo + len(keys))
        relevant[rel_rows[in_chunk] - lo, rel_cols[in_chunk]] = True
        result = ranking_metrics(scores, relevant, k)
        result["long_tail"] = long_tail_share(result["recs"], is_tail)
        for metric in blocks:
            blocks[metric].append(result[metric])
    recs = np.concatenate(blocks.pop("recs"))
    frame = pd.DataFrame({names[m]: np.concatenate(v) for m, v in blocks.items()})
    frame.insert(0, "member_key", member_keys.to_numpy())
    return frame, recs


def _column_order(name: str, scorer: Scorer, catalog: pd.Index) -> np.ndarray | None:
    """Columns reordering the scorer's titles to the catalogue's, None when already equal."""
    ids = pd.Index(np.asarray(scorer.title_ids))
    if len(ids) == len(catalog) and (ids == catalog).all():
        return None
    position = ids.get_indexer(catalog)
    if len(ids) != len(catalog) or (position < 0).any():
        raise ValueError(
            f"ranker {name!r} scores {len(ids)} titles that are not the catalogue's "
            f"{len(catalog)}; fit it on the same titles"
        )
    return position


__all__ = ["SEGMENTS", "Scorer", "evaluate_rankers"]
