"""The candidate stage's per-source quotas and total size, chosen on the validation split.

For each total size in the spec's ``training.candidate_search.totals``, a coordinate
search over the sources (one source's quota at a time, as shares of the total, the
others kept) finds the quotas whose merged candidates recall the most validation
titles; then the smallest total whose best recall is within ``recall_tolerance`` of the
best total's is chosen (more candidates cost serving and scoring time for little
recall). The sources are fitted on the validation split's training part and scored
once; every option is merged from those scores with the same code training and serving
use (:mod:`reelops.ranking.candidate_merge`), so the recall measured is the recall the
chosen settings give. The hold-out never takes part.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reelops.ranking.candidate_merge import rank_sources
from reelops.ranking.candidates import SOURCES, CandidateGenerator


class CandidateSearchConfig(BaseModel):
    """The spec's ``training.candidate_search`` section.

    Attributes:
        totals: Candidate set sizes tried; empty keeps ``training.candidates``' own.
        quota_shares: Quotas tried for each source, as shares of the total (0 = off).
        rounds: Passes over the sources.
        recall_tolerance: The smallest total whose validation recall is at most this
            much below the best total's is chosen.
        max_members: Validation members the recall is measured on (a seeded sample
            when there are more).
        seed: Seed of that sample.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    totals: list[int] = Field(default_factory=list)
    quota_shares: list[float] = [0.0, 0.1, 0.25, 0.5, 1.0]
    rounds: int = Field(1, ge=1, le=5)
    recall_tolerance: float = Field(0.01, ge=0, lt=1)
    max_members: int = Field(2000, ge=10)
    seed: int = 0

    def model_post_init(self, _context: Any) -> None:
        if any(t < 1 for t in self.totals):
            raise ValueError(f"candidate_search.totals must be >= 1, got {self.totals}")
        if not self.quota_shares or any(not 0 <= s <= 1 for s in self.quota_shares):
            raise ValueError(
                f"candidate_search.quota_shares must be shares in [0, 1], got {self.quota_shares}"
            )


class ValidationRecall:
    """Recall of the validation titles by the merged candidates of any quotas and total.

    Args:
        generator: Candidate sources fitted on the validation split's training part.
        held_out: The validation split's held-out ``member_key, title_id`` pairs.
        depth: The deepest any option looks into a source (the largest total or quota).
        max_members: Members kept (a seeded sample when there are more).
        seed: Seed of that sample.
    """

    def __init__(
        self,
        generator: CandidateGenerator,
        held_out: pd.DataFrame,
        depth: int,
        max_members: int = 2000,
        seed: int = 0,
    ) -> None:
        if held_out.empty:
            raise ValueError("the validation split holds no views: nothing to choose quotas on")
        keys = np.sort(held_out["member_key"].unique())
        if len(keys) > max_members:
            keys = np.sort(np.random.default_rng(seed).choice(keys, max_members, replace=False))
        pairs = held_out[held_out["member_key"].isin(keys)][["member_key", "title_id"]]
        pairs = pairs.drop_duplicates()
        rows = pd.Index(keys).get_indexer(pairs["member_key"])
        cols = pd.Index(generator.title_ids).get_indexer(pairs["title_id"])
        n_titles = len(generator.title_ids)
        # A held-out title outside the catalogue is a miss no option can find.
        self.targets = np.where(cols >= 0, rows.astype(np.int64) * n_titles + cols, -1)
        self.n_members, self.n_pairs, self.n_titles = len(keys), len(pairs), n_titles
        scores = generator.source_scores(keys, SOURCES)
        ranked = rank_sources(scores, dict.fromkeys(scores, depth), SOURCES)
        # Every entry in (member, rank, source) order once: an option only reorders each
        # member's in-quota entries before the rest, so no option needs a sort.
        order = np.lexsort((ranked.source, ranked.rank, ranked.rows))
        # Narrow types: every option reads these arrays a few times over.
        self.rows = ranked.rows[order].astype(np.int32)
        self.source = ranked.source[order].astype(np.int8)
        self.rank = ranked.rank[order].astype(np.int32)
        self.pair = self.rows.astype(np.int64) * n_titles + ranked.cols[order]
        self.tried: dict[tuple, float] = {}  # (total, *quotas in SOURCES order) -> recall

    def __call__(self, quotas: Mapping[str, int], total: int) -> float:
        """Share of the held-out pairs among the candidates of ``quotas`` and ``total``."""
        key = (int(total), *(int(quotas.get(s, 0)) for s in SOURCES))
        if key not in self.tried:
            chosen = self.selected(quotas, total)
            hits = chosen[self.targets[self.targets >= 0]].sum()
            self.tried[key] = float(hits / len(self.targets))
        return self.tried[key]

    def selected(self, quotas: Mapping[str, int], total: int) -> np.ndarray:
        """``(members * titles)`` flags of the candidates :func:`merge_ranked` would keep.

        Per member: the in-quota entries, then the ones past the quotas, each by (rank,
        source); a title counts at its first entry; the first ``total`` titles are kept.
        """
        quota = np.array([int(quotas.get(name, 0)) for name in SOURCES], dtype=np.int32)
        if not (quota > 0).any():
            raise ValueError("every candidate source has quota 0; give one a positive quota")
        q = quota[self.source]
        use = (q > 0) & (self.rank <= np.maximum(q, total))
        inside, past = use & (self.rank <= q), use & (self.rank > q)
        m = self.n_members
        n_in, n_past = (np.bincount(self.rows[f], minlength=m) for f in (inside, past))
        n_use = n_in + n_past
        start = np.cumsum(n_use) - n_use
        position = np.empty(len(use), dtype=np.int64)
        for flags, counts, offset in ((inside, n_in, start), (past, n_past, start + n_in)):
            # Rows are sorted: the k-th flagged entry of a member goes to offset + k.
            first = np.cumsum(counts) - counts
            position[flags] = np.arange(int(counts.sum())) + np.repeat(offset - first, counts)
        pair = np.empty(int(n_use.sum()), dtype=np.int64)
        pair[position[use]] = self.pair[use]
        first = np.full(m * self.n_titles, len(pair), dtype=np.int64)
        np.minimum.at(first, pair, np.arange(len(pair)))
        is_first = first[pair] == np.arange(len(pair))
        counted = np.cumsum(is_first) - is_first
        row_of = np.repeat(np.arange(m), n_use)
        before = counted - counted[start[row_of]]
        chosen = np.zeros(m * self.n_titles, dtype=bool)
        chosen[pair[is_first & (before < total)]] = True
        return chosen

    def by_source(self, total: int) -> dict[str, float]:
        """Each source alone, ``total`` titles deep."""
        return {s: self({s: total}, total) for s in SOURCES}


def _scaled(quotas: Mapping[str, int], from_total: int, to_total: int) -> dict[str, int]:
    return {
        s: min(to_total, int(round(int(quotas.get(s, 0)) * to_total / from_total))) for s in SOURCES
    }


def search_quotas(
    recall: ValidationRecall,
    start: Mapping[str, int],
    start_total: int,
    search: CandidateSearchConfig,
) -> dict[str, Any]:
    """Quotas and total with the best validation recall, under the spec's rule.

    Args:
        recall: The validation recall of an option.
        start: The spec's quotas (scaled to each total to start its search).
        start_total: The spec's total.
        search: The grid and the rule.

    Returns:
        ``total`` and ``quotas`` chosen, ``recall`` (theirs), ``rule``, ``best_by_total``
        (each total's best quotas and recall, the spec's quotas' recall scaled to it,
        each source alone at that total), and
        ``options`` (every option tried, each source alone included, with its validation
        recall), plus the
        validation ``members`` and ``pairs`` counted.
    """
    best_by_total = []
    for total in sorted(set(search.totals)):
        quotas = _scaled(start, start_total, total)
        if not any(quotas.values()):
            quotas = dict.fromkeys(SOURCES, total)
        best = start_recall = recall(quotas, total)
        for _ in range(search.rounds):
            for source in SOURCES:
                for share in search.quota_shares:
                    tried = {**quotas, source: int(round(share * total))}
                    if not any(tried.values()):
                        continue
                    value = recall(tried, total)
                    if value > best + 1e-12:
                        quotas, best = tried, value
        best_by_total.append(
            {
                "total": total,
                "quotas": quotas,
                "recall": best,
                "spec_quotas_recall": start_recall,
                "by_source": recall.by_source(total),
            }
        )
    top = max(row["recall"] for row in best_by_total)
    chosen = next(r for r in best_by_total if r["recall"] >= top - search.recall_tolerance)
    options = [
        {"total": key[0], "quotas": dict(zip(SOURCES, key[1:], strict=True)), "recall": value}
        for key, value in recall.tried.items()
    ]
    return {
        "total": chosen["total"],
        "quotas": chosen["quotas"],
        "recall": chosen["recall"],
        "rule": (
            "per total, one source's quota at a time over shares "
            f"{search.quota_shares} of the total ({search.rounds} round(s)), best validation "
            f"recall; then the smallest total within {search.recall_tolerance} of the best"
        ),
        "members": recall.n_members,
        "pairs": recall.n_pairs,
        "best_by_total": best_by_total,
        "options": options,
    }


__all__ = ["CandidateSearchConfig", "ValidationRecall", "search_quotas"]
