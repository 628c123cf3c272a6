"""Candidate generation: several sources merged per member, each candidate with its provenance.

Sources, in priority order (:data:`SOURCES`):

* ``ease``: EASE scores of the member's whole history (closed form, strong on real data);
* ``als``: implicit ALS member x title factor scores;
* ``cowatch``: item k-NN neighbours of the member's most recent titles;
* ``genre``: titles of the member's favourite genres (completion-weighted shares of
  the genres watched), ranked by genre match times log popularity;
* ``popular``: popular titles in the member's segment (e.g. country), recent views
  counting more, shrunk to the overall popularity;
* ``fresh``: titles released within ``fresh_days`` before the request time, ranked by
  genre match and popularity.

No source returns a title the member already watched (or, if configured, only
finished) or one not yet released at the request time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd
import scipy.sparse as sp

from reelops.ranking.als import ALS
from reelops.ranking.baselines import EASE, InteractionMatrix, ItemKNN, MostPopular, title_index
from reelops.ranking.candidate_merge import merge_ranked, rank_sources

SOURCES = ("ease", "als", "cowatch", "genre", "popular", "fresh")
_DEFAULT_QUOTAS = MappingProxyType({"cowatch": 150, "genre": 150, "popular": 100, "fresh": 50})


@dataclass(frozen=True)
class CandidateConfig:
    """Knobs of candidate generation.

    Attributes:
        total: Candidates per member after merging (fewer only when the sources run
            out of titles).
        quotas: Titles each source is sure to place per member (0 turns it off); when
            sources propose the same titles, the room left under ``total`` is filled
            with the sources' next titles, in turns.
        recent_titles: How many of the member's latest titles seed ``cowatch``.
        neighbours: Item k-NN neighbours per title.
        favourite_genres: How many top genres feed ``genre``.
        fresh_days: A title is fresh when released at most this many days before the
            request time.
        popular_by: Member column the ``popular`` source groups by, or None (overall).
        popularity_half_life_days: Half-life of a view's weight in popularity.
        exclude: ``"watched"`` drops every title the member played; ``"finished"`` only
            the ones with ``completion >= finished_threshold``.
        finished_threshold: Completion from which a view counts as finished.
        chunk_size: Members scored at a time (bounds memory).
        ease_l2: EASE's ridge penalty (the source and the ``x_score_ease`` feature).
        als: :class:`~reelops.ranking.als.ALS` parameters (the source and the
            ``x_score_als`` feature).
    """

    total: int = 300
    quotas: Mapping[str, int] = field(default_factory=lambda: dict(_DEFAULT_QUOTAS))
    recent_titles: int = 10
    neighbours: int = 50
    favourite_genres: int = 3
    fresh_days: int = 14
    popular_by: str | None = "country"
    popularity_half_life_days: float | None = 7.0
    exclude: str = "watched"
    finished_threshold: float = 0.9
    chunk_size: int = 2048
    ease_l2: float = 200.0
    als: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.quotas) - set(SOURCES)
        if unknown:
            raise ValueError(f"unknown candidate sources {sorted(unknown)}; known: {SOURCES}")
        if any(int(q) < 0 for q in self.quotas.values()) or self.total < 1:
            raise ValueError(
                f"quotas must be >= 0 and total >= 1, got {dict(self.quotas)}, {self.total}"
            )
        if self.exclude not in ("watched", "finished"):
            raise ValueError(f"exclude must be 'watched' or 'finished', got {self.exclude!r}")
        for name in ("recent_titles", "neighbours", "favourite_genres", "fresh_days", "chunk_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"CandidateConfig.{name} must be >= 1, got {getattr(self, name)}")


def genre_matrix(titles: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """(titles, genres) 0/1 matrix in ``titles`` order, and the genre names.

    Reads the ``"|"``-separated ``genres`` column (dim_titles and raw titles have it);
    without it, the ``genre_<slug>`` 0/1 columns, named by slug.
    """
    if "genres" in titles.columns:
        lists = titles["genres"].fillna("").astype(str).str.split("|")
        names = sorted({g for genres in lists for g in genres if g})
        column = {name: i for i, name in enumerate(names)}
        matrix = np.zeros((len(titles), len(names)))
        for row, genres in enumerate(lists):
            matrix[row, [column[g] for g in genres if g]] = 1.0
        return matrix, names
    flags = [c for c in titles.columns if c.startswith("genre_")]
    if not flags:
        raise ValueError(
            "titles needs a '|'-separated genres column or genre_<slug> 0/1 columns; "
            f"it has {list(titles.columns)}"
        )
    return titles[flags].fillna(0).to_numpy(dtype=np.float64), [c[6:] for c in flags]


def genre_shares(genres: np.ndarray) -> np.ndarray:
    """Each title's genre row divided by its number of genres (a title splits evenly)."""
    return genres / np.maximum(genres.sum(axis=1, keepdims=True), 1.0)


def _dense_rows(matrix: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """Rows of a sparse matrix as a dense array; row -1 (an unknown member) is zeros."""
    out = np.zeros((len(rows), matrix.shape[1]))
    known = rows >= 0
    out[known] = matrix[rows[known]].toarray()
    return out


@dataclass(frozen=True)
class Candidates:
    """Candidates as arrays: what :meth:`CandidateGenerator.select` returns.

    One entry per candidate, members' candidates contiguous in the order of the keys
    asked for. :meth:`CandidateGenerator.generate` turns it into a frame; serving ranks
    from the arrays directly.

    Attributes:
        rows: Position of the candidate's member among the keys asked for.
        cols: The title's column (index into ``title_ids``).
        source: Index in :data:`SOURCES` of the source where the title ranks best.
        score: The title's score in that source.
        ranks: ``(n, len(SOURCES))``: its rank in each source (1 = best, 0 = not proposed).
        source_scores: Each source's scores of every title, ``(members, titles)``.
    """

    rows: np.ndarray
    cols: np.ndarray
    source: np.ndarray
    score: np.ndarray
    ranks: np.ndarray
    source_scores: dict[str, np.ndarray]


class CandidateGenerator:
    """Candidate sources fitted on interactions up to one request time.

    Args:
        interactions: ``member_key, title_id, ts, completion`` seen before ``as_of``.
        titles: The catalogue (``title_id``, ``genres`` or genre flags, ``release_date``).
        members: ``member_key`` plus ``popular_by``'s column; None for overall popularity.
        as_of: Request time; default the last interaction. Later interactions are
            ignored and titles released after it are never proposed.
        config: Quotas and knobs.
    """

    def __init__(
        self,
        interactions: pd.DataFrame,
        titles: pd.DataFrame,
        members: pd.DataFrame | None = None,
        as_of: pd.Timestamp | str | None = None,
        config: CandidateConfig | None = None,
    ) -> None:
        self.config = config or CandidateConfig()
        cfg = self.config
        if as_of is not None:
            interactions = interactions[interactions["ts"] <= pd.Timestamp(as_of)]
        self.data = InteractionMatrix.build(interactions, titles)
        self.as_of = pd.Timestamp(as_of) if as_of is not None else self.data.end
        self.title_ids = title_index(titles).to_numpy()

        release = pd.to_datetime(
            titles.get("release_date", pd.Series(pd.NaT, index=titles.index)), errors="coerce"
        ).to_numpy()
        age_days = (self.as_of.to_datetime64() - release) / np.timedelta64(1, "D")
        self.unreleased = np.asarray(age_days < 0)
        self.fresh = np.asarray((age_days >= 0) & (age_days <= cfg.fresh_days))

        popular_by = cfg.popular_by if members is not None else None
        self.popular = MostPopular(popular_by, cfg.popularity_half_life_days)
        self.popular.fit_matrix(self.data, titles, members)
        self.knn = ItemKNN(cfg.neighbours).fit_matrix(self.data, titles)
        self.ease = EASE(cfg.ease_l2).fit_matrix(self.data, titles)
        self.als = ALS(**dict(cfg.als)).fit_matrix(self.data, titles)

        cells, shape = self.data.cells, self.data.matrix.shape
        finished = cells[cells["completion"] >= cfg.finished_threshold]
        self.finished = sp.csr_matrix(
            (np.ones(len(finished)), (finished["row"], finished["col"])), shape=shape
        )
        recent = cells.sort_values(["row", "ts"], ascending=[True, False], kind="stable")
        recent = recent[recent.groupby("row").cumcount() < cfg.recent_titles]
        self.recent = sp.csr_matrix(
            (np.ones(len(recent)), (recent["row"], recent["col"])), shape=shape
        )
        genres, self.genre_names = genre_matrix(titles)
        self.title_genres = genre_shares(genres)
        # Finished titles say more about taste than abandoned ones.
        weighted = sp.csr_matrix((cells["completion"], (cells["row"], cells["col"])), shape=shape)
        affinity = np.asarray(weighted @ self.title_genres)
        self.affinity = affinity / np.maximum(affinity.sum(axis=1, keepdims=True), 1e-12)
        self.log_popularity = 1.0 + np.log1p(np.bincount(cells["col"], minlength=shape[1]))

    def source_scores(
        self, keys: np.ndarray, names: Sequence[str] | None = None
    ) -> dict[str, np.ndarray]:
        """Each source's scores of every title for ``keys``; ``-inf`` where it proposes none.

        Args:
            keys: Member keys.
            names: Sources to score; default those with a positive quota.
        """
        cfg = self.config
        wanted = set(names) if names is not None else {s for s, q in cfg.quotas.items() if q}
        rows = self.data.rows(keys)
        affinity = np.zeros((len(keys), self.affinity.shape[1]))
        affinity[rows >= 0] = self.affinity[rows[rows >= 0]]
        scores = {}
        if "ease" in wanted:
            scores["ease"] = self.ease.score(keys)
        if "als" in wanted:
            scores["als"] = self.als.score(keys)
        if "cowatch" in wanted:
            cowatch = self.knn.score_history(sp.csr_matrix(_dense_rows(self.recent, rows)))
            scores["cowatch"] = np.where(cowatch > 0, cowatch, -np.inf)
        if "genre" in wanted:
            n_fav = min(cfg.favourite_genres, affinity.shape[1])
            cut = -np.sort(-affinity, axis=1)[:, n_fav - 1 : n_fav]
            favourite = np.where((affinity >= cut) & (affinity > 0), affinity, 0.0)
            fav_match = favourite @ self.title_genres.T
            scores["genre"] = np.where(fav_match > 0, fav_match * self.log_popularity, -np.inf)
        if "popular" in wanted:
            scores["popular"] = self.popular.score(keys)
        if "fresh" in wanted:
            # Genre match first; the small constant lets popularity order the rest.
            fresh = (affinity @ self.title_genres.T + 0.05) * self.log_popularity
            scores["fresh"] = np.where(self.fresh[None, :], fresh, -np.inf)
        watched = self.finished if cfg.exclude == "finished" else self.data.matrix
        excluded = _dense_rows(watched, rows) > 0
        excluded |= self.unreleased[None, :]
        for values in scores.values():
            values[excluded] = -np.inf
        return scores

    def generate(
        self, member_keys: Sequence[str] | pd.Index | np.ndarray | None = None
    ) -> pd.DataFrame:
        """Candidates of each member.

        Args:
            member_keys: Members to serve; default every member with an interaction.
                Members without one get the popular and fresh sources only.

        Returns:
            One row per (member_key, title_id), ``config.total`` per member when the
            sources have enough titles; per member, the quotas' titles come first,
            sources taking turns by rank (ties in :data:`SOURCES` order), then the
            fill. Columns: ``source`` (where the title ranks best), ``source_score``
            (its score there), ``n_sources`` and ``rank_<source>`` for every source
            (1 = that source's best, 0 = not proposed by it).
        """
        cfg = self.config
        keys = (
            self.data.member_keys.to_numpy()
            if member_keys is None
            else np.asarray(member_keys, dtype=object)
        )
        frames = [
            self._generate_chunk(keys[start : start + cfg.chunk_size])
            for start in range(0, len(keys), cfg.chunk_size)
        ]
        if not frames:
            return self._generate_chunk(keys)
        return pd.concat(frames, ignore_index=True)

    def _generate_chunk(self, keys: np.ndarray) -> pd.DataFrame:
        return self._frame(keys, self.select(keys))

    def select(self, keys: np.ndarray) -> Candidates:
        """The candidates of ``keys`` (member keys) as arrays; see :meth:`generate`."""
        cfg = self.config
        scores = self.source_scores(keys)
        # Deeper than the quota: titles past it fill the room overlaps leave.
        depth = {source: max(cfg.total, int(cfg.quotas[source])) for source in scores}
        merged = merge_ranked(rank_sources(scores, depth, SOURCES), cfg.quotas, cfg.total)
        return Candidates(
            merged.rows, merged.cols, merged.source, merged.score, merged.ranks, scores
        )

    def _frame(self, keys: np.ndarray, found: Candidates) -> pd.DataFrame:
        frame = pd.DataFrame(
            {
                "member_key": keys[found.rows],
                "title_id": self.title_ids[np.asarray(found.cols, dtype=np.int64)],
                "source": pd.Categorical.from_codes(
                    np.asarray(found.source, dtype=np.int64), SOURCES
                ),
                "source_score": np.asarray(found.score, dtype=np.float64),
                "n_sources": (found.ranks > 0).sum(axis=1).astype(np.int32),
            }
        )
        for i, name in enumerate(SOURCES):
            frame[f"rank_{name}"] = found.ranks[:, i]
        return frame


def generate_candidates(
    interactions: pd.DataFrame,
    titles: pd.DataFrame,
    members: pd.DataFrame | None = None,
    member_keys: Sequence[str] | None = None,
    as_of: pd.Timestamp | str | None = None,
    config: CandidateConfig | None = None,
) -> pd.DataFrame:
    """Fit the sources on ``interactions`` and return the members' candidates.

    See :class:`CandidateGenerator` for the arguments and
    :meth:`CandidateGenerator.generate` for the frame returned.
    """
    return CandidateGenerator(interactions, titles, members, as_of, config).generate(member_keys)


def candidate_recall(candidates: pd.DataFrame, test: pd.DataFrame) -> float:
    """Share of held-out (member_key, title_id) pairs found among the candidates.

    The ranker re-orders candidates only, so this bounds its recall. Members of
    ``test`` without candidates count as misses.
    """
    if test.empty:
        raise ValueError("test has no held-out pairs; candidate recall is undefined")
    pairs = test[["member_key", "title_id"]].drop_duplicates()
    found = pd.MultiIndex.from_frame(pairs).isin(
        pd.MultiIndex.from_frame(candidates[["member_key", "title_id"]])
    )
    return float(found.mean())


def recall_by_source(candidates: pd.DataFrame, test: pd.DataFrame) -> dict[str, float]:
    """:func:`candidate_recall` of each source alone and of all merged (``"all"``)."""
    out = {}
    for source in SOURCES:
        column = f"rank_{source}"
        if column in candidates.columns:
            out[source] = candidate_recall(candidates[candidates[column] > 0], test)
    out["all"] = candidate_recall(candidates, test)
    return out


__all__ = [
    "SOURCES",
    "CandidateConfig",
    "CandidateGenerator",
    "candidate_recall",
    "generate_candidates",
    "genre_matrix",
    "genre_shares",
    "recall_by_source",
]
