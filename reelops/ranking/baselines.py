"""Baseline recommenders: random, most popular, item-to-item co-watch k-NN and EASE.

Every ranker follows one interface: ``fit(train, titles, members=None)`` returns the
fitted ranker, whose ``title_ids`` name the columns of ``score(member_keys)`` (one row
per member, higher is better, in ``titles`` order) and whose
``recommend(member_keys, k)`` lists the top k titles a member has not watched.
Members unknown at fit time get the scores of an empty history.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np
import pandas as pd
import scipy.sparse as sp

from reelops.ranking.metrics import top_k
from reelops.ranking.split import check_interactions

RECOMMEND_CHUNK = 2048  # members scored at once by ``recommend``: bounds memory


def title_index(titles: pd.DataFrame) -> pd.Index:
    """The catalogue's title ids in ``titles`` order: the column order of every score.

    Raises:
        ValueError: No ``title_id`` column, or a duplicated or null id.
    """
    if "title_id" not in titles.columns:
        raise ValueError(f"titles needs a title_id column; it has {list(titles.columns)}")
    index = pd.Index(titles["title_id"])
    if index.hasnans or not index.is_unique:
        dupes = index[index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"titles.title_id must be unique and not null; repeated: {dupes}")
    return index


@dataclass(frozen=True, eq=False)
class InteractionMatrix:
    """Who watched what in a training set.

    Attributes:
        member_keys: Members with at least one interaction, sorted: the row order.
        title_ids: The catalogue: the column order.
        matrix: (members, titles) CSR, 1.0 where the member watched the title.
        cells: One row per watched (member, title): ``row``, ``col``, ``ts`` of the
            latest view and the highest ``completion``.
        end: Time of the last interaction.
    """

    member_keys: pd.Index
    title_ids: pd.Index
    matrix: sp.csr_matrix
    cells: pd.DataFrame
    end: pd.Timestamp

    @classmethod
    def build(cls, interactions: pd.DataFrame, titles: pd.DataFrame) -> InteractionMatrix:
        """Index ``interactions`` against the catalogue in ``titles``.

        Raises:
            ValueError: Bad interaction columns, or a title missing from ``titles``.
        """
        check_interactions(interactions, "train")
        title_ids = title_index(titles)
        pairs = (
            interactions.groupby(["member_key", "title_id"], sort=True, observed=True)
            .agg(ts=("ts", "max"), completion=("completion", "max"))
            .reset_index()
        )
        cols = title_ids.get_indexer(pairs["title_id"])
        if (cols < 0).any():
            unknown = pairs["title_id"][cols < 0].unique()[:5].tolist()
            raise ValueError(
                f"{int((cols < 0).sum())} interactions name titles not in titles, e.g. "
                f"{unknown}; pass the full title catalogue (dim_titles)"
            )
        member_keys = pd.Index(pd.unique(pairs["member_key"])).sort_values()
        rows = member_keys.get_indexer(pairs["member_key"])
        matrix = sp.csr_matrix(
            (np.ones(len(pairs), dtype=np.float64), (rows, cols)),
            shape=(len(member_keys), len(title_ids)),
        )
        cells = pd.DataFrame(
            {
                "row": rows,
                "col": cols,
                "ts": pairs["ts"].to_numpy(),
                "completion": pairs["completion"].to_numpy(dtype=np.float64),
            }
        )
        return cls(member_keys, title_ids, matrix, cells, pd.Timestamp(interactions["ts"].max()))

    def rows(self, member_keys: Sequence[str] | pd.Index | np.ndarray) -> np.ndarray:
        """Row of each member key, -1 for a member with no interaction."""
        return self.member_keys.get_indexer(pd.Index(member_keys))

    def history(self, member_keys: Sequence[str] | pd.Index | np.ndarray) -> sp.csr_matrix:
        """(len(member_keys), titles) watched matrix; an unknown member gets an empty row."""
        rows = self.rows(member_keys)
        known = rows >= 0
        picked = self.matrix[rows[known]].tocoo()
        out_rows = np.flatnonzero(known)[picked.row]
        return sp.csr_matrix(
            (picked.data, (out_rows, picked.col)), shape=(len(rows), self.matrix.shape[1])
        )


class Ranker:
    """Base of the baselines: fitting bookkeeping, seen-title exclusion and top-k lists."""

    data: InteractionMatrix

    @property
    def title_ids(self) -> np.ndarray:
        """Title ids naming the columns of :meth:`score`."""
        return self.data.title_ids.to_numpy()

    def fit(
        self, train: pd.DataFrame, titles: pd.DataFrame, members: pd.DataFrame | None = None
    ) -> Self:
        """Fit on training interactions.

        Args:
            train: ``member_key, title_id, ts, completion``, one row per viewing event.
            titles: The catalogue (``title_id`` at least); its order is the score order.
            members: ``member_key`` plus attributes, for rankers that use them.

        Returns:
            The fitted ranker itself.
        """
        return self.fit_matrix(InteractionMatrix.build(train, titles), titles, members)

    def fit_matrix(
        self, data: InteractionMatrix, titles: pd.DataFrame, members: pd.DataFrame | None = None
    ) -> Self:
        """Fit on an already indexed training set (shared by several rankers)."""
        self.data = data
        self._fit(titles, members)
        return self

    def _fit(self, titles: pd.DataFrame, members: pd.DataFrame | None) -> None:
        """Learn the model from ``self.data``."""

    def score(self, member_keys: Sequence[str] | pd.Index | np.ndarray) -> np.ndarray:
        """(len(member_keys), titles) float64 scores, higher is better, watched titles included."""
        if not hasattr(self, "data"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit(train, titles)")
        return self._score(np.asarray(member_keys, dtype=object))

    def _score(self, member_keys: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def recommend(
        self,
        member_keys: Sequence[str] | pd.Index | np.ndarray,
        k: int = 10,
        exclude_seen: bool = True,
    ) -> pd.DataFrame:
        """Each member's top k titles.

        Args:
            member_keys: Members to recommend for.
            k: Titles per member, >= 1.
            exclude_seen: Leave out titles the member watched in the training data.

        Returns:
            ``member_key, title_id, rank (1 = best), score``, k rows per member (fewer
            when fewer titles are left).
        """
        if not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"k must be a whole number >= 1, got {k!r}")
        keys = np.asarray(member_keys, dtype=object)
        frames = [
            self._recommend_chunk(keys[lo : lo + RECOMMEND_CHUNK], int(k), exclude_seen)
            for lo in range(0, len(keys), RECOMMEND_CHUNK)
        ]
        if not frames:
            return pd.DataFrame(columns=["member_key", "title_id", "rank", "score"])
        return pd.concat(frames, ignore_index=True)

    def _recommend_chunk(self, keys: np.ndarray, k: int, exclude_seen: bool) -> pd.DataFrame:
        scores = self.score(keys)
        if exclude_seen:
            scores[self.data.history(keys).toarray() > 0] = -np.inf
        recs = top_k(scores, k)
        member, position = np.nonzero(recs >= 0)
        cols = recs[member, position]
        return pd.DataFrame(
            {
                "member_key": keys[member],
                "title_id": self.title_ids[cols],
                "rank": position + 1,
                "score": scores[member, cols],
            }
        )


class RandomRanker(Ranker):
    """Uniform random scores, fixed per member and seed: the floor every model must beat."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def _score(self, member_keys: np.ndarray) -> np.ndarray:
        n_titles = len(self.data.title_ids)
        return np.stack(
            [
                np.random.default_rng((self.seed, zlib.crc32(str(key).encode()))).random(n_titles)
                for key in member_keys
            ]
        ).reshape(len(member_keys), n_titles)


def decayed_weights(last_ts: pd.Series | np.ndarray, end, half_life_days: float | None):
    """Weight of a view by age at ``end``: 1 without a half-life, else ``0.5 ** (age / h)``."""
    ts = pd.to_datetime(np.asarray(last_ts))
    if half_life_days is None:
        return np.ones(len(ts))
    if half_life_days <= 0:
        raise ValueError(f"half_life_days must be > 0 or None, got {half_life_days}")
    age_days = (pd.Timestamp(end) - ts).total_seconds().to_numpy() / 86_400.0
    return 0.5 ** (np.maximum(age_days, 0.0) / half_life_days)


class MostPopular(Ranker):
    """Titles by how many members watched them, overall or within a member attribute.

    With ``by`` (e.g. ``"country"``), a group's popularity is shrunk towards the
    overall one: ``(count_g + shrinkage * share_all) / (members_g + shrinkage)``, so a
    small group borrows strength from everyone. Members without the attribute get the
    overall ranking.

    Args:
        by: Column of ``members`` to group by, or None for one overall ranking.
        half_life_days: Count a view with weight ``0.5 ** (age / half_life)`` at the
            end of training, or every view fully when None.
        shrinkage: Pseudo-members of the overall ranking added to each group.
    """

    def __init__(
        self, by: str | None = None, half_life_days: float | None = None, shrinkage: float = 20.0
    ) -> None:
        self.by = by
        self.half_life_days = half_life_days
        self.shrinkage = shrinkage

    def _fit(self, titles: pd.DataFrame, members: pd.DataFrame | None) -> None:
        n_members, n_titles = self.data.matrix.shape
        cells = self.data.cells
        weight = decayed_weights(cells["ts"], self.data.end, self.half_life_days)
        self.overall = np.bincount(cells["col"], weights=weight, minlength=n_titles) / n_members
        self.group_of_row = np.full(n_members, -1)
        self.by_group = np.zeros((0, n_titles))
        if self.by is None:
            return
        if members is None or self.by not in members.columns:
            have = None if members is None else list(members.columns)
            raise ValueError(
                f"MostPopular(by={self.by!r}) needs members with that column; got {have}"
            )
        attribute = (
            members.drop_duplicates("member_key").set_index("member_key")[self.by].astype(object)
        )
        values = attribute.reindex(self.data.member_keys)
        codes, self.groups = pd.factorize(values)
        self.group_of_row = codes
        known = codes[cells["row"]] >= 0
        group = codes[cells["row"]][known]
        counts = np.zeros((len(self.groups), n_titles))
        np.add.at(counts, (group, cells["col"].to_numpy()[known]), weight[known])
        sizes = np.bincount(codes[codes >= 0], minlength=len(self.groups))[:, None]
        self.by_group = (counts + self.shrinkage * self.overall) / (sizes + self.shrinkage)

    def _score(self, member_keys: np.ndarray) -> np.ndarray:
        rows = self.data.rows(member_keys)
        group = np.where(rows >= 0, self.group_of_row[np.maximum(rows, 0)], -1)
        scores = np.tile(self.overall, (len(member_keys), 1))
        scores[group >= 0] = self.by_group[group[group >= 0]]
        return scores


class ItemItemRanker(Ranker):
    """A ranker scoring ``history @ weights`` with a (titles, titles) weight matrix."""

    weights: np.ndarray | sp.csr_matrix

    def score_history(self, history: sp.spmatrix) -> np.ndarray:
        """Scores of arbitrary (rows, titles) histories, e.g. only a member's recent titles."""
        product = sp.csr_matrix(history) @ self.weights
        dense = product.toarray() if sp.issparse(product) else product
        return np.asarray(dense, dtype=np.float64)

    def _score(self, member_keys: np.ndarray) -> np.ndarray:
        return self.score_history(self.data.history(member_keys))


class ItemKNN(ItemItemRanker):
    """Item-to-item co-watch k-NN: cosine similarity over the member x title matrix.

    ``sim(i, j) = |M_i & M_j| / sqrt(|M_i| |M_j|)`` with ``M_i`` the members who
    watched title i; each title keeps its ``neighbours`` most similar titles, and a
    member's score for title j sums ``sim(i, j)`` over the watched titles i that are
    among j's neighbours.

    Args:
        neighbours: Neighbours kept per title.
    """

    def __init__(self, neighbours: int = 50) -> None:
        if neighbours < 1:
            raise ValueError(f"neighbours must be >= 1, got {neighbours}")
        self.neighbours = neighbours

    def _fit(self, titles: pd.DataFrame, members: pd.DataFrame | None) -> None:
        x = self.data.matrix
        co = (x.T @ x).toarray()
        norms = np.sqrt(np.diag(co))
        sim = co / np.maximum(np.outer(norms, norms), 1e-12)
        np.fill_diagonal(sim, 0.0)
        self.similarity = sim
        self.weights = keep_top_per_column(sim, self.neighbours)


def keep_top_per_column(matrix: np.ndarray, n: int) -> sp.csr_matrix:
    """Sparse copy of ``matrix`` keeping each column's n largest positive entries."""
    n_rows, n_cols = matrix.shape
    if n >= n_rows:
        return sp.csr_matrix(np.where(matrix > 0, matrix, 0.0))
    top = np.argpartition(-matrix, n - 1, axis=0)[:n]
    cols = np.broadcast_to(np.arange(n_cols), top.shape)
    values = matrix[top, cols]
    positive = values > 0
    return sp.csr_matrix((values[positive], (top[positive], cols[positive])), shape=matrix.shape)


class EASE(ItemItemRanker):
    """EASE (Steck 2019): a closed-form linear item-item autoencoder.

    ``B = I - P diag(1 / diag(P))`` with ``P = (X'X + l2 I)^-1``, i.e. the ridge
    regression of every title's column on all the others with a zero diagonal;
    ``score = X_u B``. Cost: one (titles, titles) inverse.

    Args:
        l2: Ridge penalty (larger for more members or denser data); choose it on a
            validation split (:func:`reelops.ranking.baseline_suite.choose_on_validation`).
    """

    def __init__(self, l2: float = 200.0) -> None:
        if l2 <= 0:
            raise ValueError(f"l2 must be > 0, got {l2}")
        self.l2 = l2

    def _fit(self, titles: pd.DataFrame, members: pd.DataFrame | None) -> None:
        x = self.data.matrix
        gram = (x.T @ x).toarray()
        gram[np.diag_indices_from(gram)] += self.l2
        p = np.linalg.inv(gram)
        b = -p / np.diag(p)
        np.fill_diagonal(b, 0.0)
        self.weights = b


__all__ = [
    "EASE",
    "InteractionMatrix",
    "ItemItemRanker",
    "ItemKNN",
    "MostPopular",
    "RandomRanker",
    "Ranker",
    "decayed_weights",
    "keep_top_per_column",
    "title_index",
]
