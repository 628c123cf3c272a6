"""The ranker as a full-ranking scorer: model scores on candidates, popularity for the rest."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from reelops.ranking.ranker import RankerModel

OUTSIDE = -1e6  # titles outside a member's candidates rank after all of them


class CandidateScorer:
    """Implements :class:`~reelops.ranking.full_ranking.Scorer` over precomputed candidate rows.

    Each member's candidates get the model's score; every other title ranks after them
    by ``fallback`` (e.g. log popularity), so the full ranking stays defined.

    Args:
        rows: Candidate rows with ``member_key``, ``title_id`` and ``score``.
        title_ids: The catalogue, the score columns.
        fallback: Per-title score for titles outside the candidates (small values).
    """

    def __init__(self, rows: pd.DataFrame, title_ids: np.ndarray, fallback: np.ndarray) -> None:
        self._title_ids = np.asarray(title_ids)
        self.fallback = np.asarray(fallback, dtype=np.float64)
        catalog = pd.Index(self._title_ids)
        self.cols = catalog.get_indexer(rows["title_id"])
        if (self.cols < 0).any():
            raise ValueError("candidate rows name titles outside the catalogue")
        self.members = pd.Index(pd.unique(rows["member_key"]))
        self.rows = self.members.get_indexer(rows["member_key"])
        self.values = rows["score"].to_numpy(dtype=np.float64)
        order = np.argsort(self.rows, kind="stable")
        self.rows, self.cols, self.values = self.rows[order], self.cols[order], self.values[order]
        self.starts = np.searchsorted(self.rows, np.arange(len(self.members) + 1))

    @property
    def title_ids(self) -> np.ndarray:
        return self._title_ids

    def score(self, member_keys: Sequence[str] | np.ndarray) -> np.ndarray:
        """(members, titles): candidates by model score, others after them by fallback."""
        member_keys = np.asarray(member_keys, dtype=object)
        out = np.tile(OUTSIDE + self.fallback, (len(member_keys), 1))
        for i, row in enumerate(self.members.get_indexer(member_keys)):
            if row < 0:
                continue
            lo, hi = self.starts[row], self.starts[row + 1]
            out[i, self.cols[lo:hi]] = self.values[lo:hi]
        return out


def scored_rows(model: RankerModel, rows: pd.DataFrame) -> pd.DataFrame:
    """``member_key, title_id, source, score`` of candidate feature rows under ``model``."""
    out = rows[["member_key", "title_id", "source"]].copy()
    out["score"] = model.score(rows)
    return out


def top_k_rows(scored: pd.DataFrame, k: int) -> pd.DataFrame:
    """Each member's ``k`` best-scored rows with ``rank`` 1..k (ties by title order)."""
    ordered = scored.sort_values(["member_key", "score"], ascending=[True, False], kind="stable")
    ordered["rank"] = ordered.groupby("member_key", sort=False).cumcount() + 1
    return ordered[ordered["rank"] <= k].reset_index(drop=True)


__all__ = ["OUTSIDE", "CandidateScorer", "scored_rows", "top_k_rows"]
