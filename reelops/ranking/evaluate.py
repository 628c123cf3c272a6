"""Offline evaluation: full ranking of unwatched titles on a temporal hold-out, per segment.

Every ranker is judged on the same members and titles: for each member with a
held-out title, every catalogue title the member did not watch in train is ranked
(no sampled negatives); watched titles are removed from the ranking.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from reelops.ranking.baselines import EASE, InteractionMatrix, ItemKNN, MostPopular, title_index
from reelops.ranking.candidates import genre_matrix, genre_shares
from reelops.ranking.metrics import (
    long_tail_mask,
    long_tail_share,
    ranking_metrics,
    segment_metrics,
    summarize,
)
from reelops.ranking.split import temporal_split, validation_split
from reelops.stats import paired_bootstrap

SEGMENTS = ("country", "age_band", "gender")
EASE_L2_GRID = (50.0, 100.0, 200.0, 500.0, 1000.0)


class Scorer(Protocol):
    """Anything the harness can rank with: the baselines, or a learned ranker.

    ``score(member_keys)`` returns a (members, titles) array whose columns are
    ``title_ids``, higher is better; -inf ranks a title last (e.g. one outside a
    ranker's candidates). NaN is an error.
    """

    @property
    def title_ids(self) -> np.ndarray: ...

    def score(self, member_keys: np.ndarray) -> np.ndarray: ...


def metric_names(k: int) -> dict[str, str]:
    """Report name of each per-member metric of :func:`ranking_metrics` at cut-off k."""
    return {
        "ndcg": f"ndcg@{k}",
        "hit": f"hr@{k}",
        "recall": f"recall@{k}",
        "rr": "mrr",
        "long_tail": f"long_tail@{k}",
    }


@dataclass(eq=False)
class EvaluationReport:
    """What :func:`evaluate_rankers` found.

    Attributes:
        k: Cut-off of the top-k metrics.
        protocol: The split protocol (``SplitProtocol.to_dict()``), if given.
        n_members: Members evaluated (those with a held-out title).
        n_titles: Catalogue size.
        overall: One row per ranker (index): ``n_members``, ``ndcg@k``, ``hr@k`` (share
            of members with a held-out title in their top k), ``recall@k`` (hits /
            ``min(k, held-out titles)``), ``mrr`` (over the full ranking),
            ``long_tail@k`` (share of recommended titles in the long tail),
            ``coverage@k`` (share of the catalogue recommended to anyone) and, when
            true tastes were given, ``genre_mix@k``.
        segments: The same per ranker, segment column and value.
        comparisons: Paired bootstraps over members of ``ndcg@k`` differences.
        per_member: ``ranker, member_key`` and each per-member metric.
        recommendations: Per ranker, the top k: ``member_key, title_id, rank``.
        seconds: Per ranker, wall time spent scoring and ranking.
    """

    k: int
    protocol: dict[str, Any] | None
    n_members: int
    n_titles: int
    overall: pd.DataFrame
    segments: pd.DataFrame
    comparisons: list[dict[str, Any]]
    per_member: pd.DataFrame
    recommendations: dict[str, pd.DataFrame] = field(repr=False)
    seconds: dict[str, float]

    def compare(self, a: str, b: str, n: int = 2000, seed: int = 0) -> dict[str, Any]:
        """Paired bootstrap over members of ``ndcg@k`` of ranker ``a`` minus ranker ``b``.

        Returns:
            ``a, b, metric, n_members, mean_difference, ci_low, ci_high`` (95 %
            percentile interval) and ``a_better`` (the interval is above zero).
        """
        metric = f"ndcg@{self.k}"
        table = self.per_member.pivot(index="member_key", columns="ranker", values=metric)
        for name in (a, b):
            if name not in table.columns:
                raise ValueError(f"no ranker {name!r} in this report; it has {list(table.columns)}")
        mean, low, high = paired_bootstrap(table[a].to_numpy(), table[b].to_numpy(), n, seed)
        return {
            "a": a,
            "b": b,
            "metric": metric,
            "n_members": len(table),
            "mean_difference": mean,
            "ci_low": low,
            "ci_high": high,
            "a_better": bool(low > 0),
        }

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-able values (no per-member rows or recommendations)."""
        overall = self.overall.reset_index().rename(columns={"index": "ranker"})
        return _plain(
            {
                "k": self.k,
                "protocol": self.protocol,
                "n_members": self.n_members,
                "n_titles": self.n_titles,
                "metrics": overall.to_dict(orient="records"),
                "segments": self.segments.to_dict(orient="records"),
                "comparisons": self.comparisons,
                "seconds": self.seconds,
            }
        )

    def table(self) -> str:
        """A readable summary: protocol, metrics per ranker, NDCG per segment, comparisons."""
        lines = []
        if self.protocol:
            p = self.protocol
            lines.append(
                f"Temporal hold-out at {p['cutoff']}: {p['n_train']} training interactions, "
                f"{p['n_test']} held-out titles of {p['n_test_members']} members."
            )
        lines.append(
            f"Full ranking over every unwatched title ({self.n_titles} in the catalogue), "
            f"{self.n_members} members, k = {self.k}."
        )
        overall = self.overall.drop(columns="n_members").copy()
        overall.insert(len(overall.columns), "seconds", pd.Series(self.seconds))
        lines += ["", overall.to_string(float_format=lambda v: f"{v:.4f}")]
        metric = f"ndcg@{self.k}"
        if not self.segments.empty:
            keyed = self.segments.set_index(["segment", "value"])
            by_segment = keyed.pivot(columns="ranker", values=metric)
            by_segment = by_segment.reindex(index=keyed.index.unique())[list(self.overall.index)]
            by_segment.insert(0, "n_members", keyed.groupby(level=[0, 1])["n_members"].first())
            lines += [
                "",
                f"{metric} per segment",
                by_segment.to_string(float_format="{:.4f}".format),
            ]
        if self.comparisons:
            lines.append("")
        for c in self.comparisons:
            lines.append(
                f"{c['metric']} {c['a']} - {c['b']}: {c['mean_difference']:+.4f} "
                f"(95% CI {c['ci_low']:+.4f} .. {c['ci_high']:+.4f}, "
                f"paired bootstrap over {c['n_members']} members)"
            )
        return "\n".join(lines)


def _plain(value: Any) -> Any:
    """Numpy and pandas scalars to Python ones, NaN to None, recursively."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


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
            :func:`genre_mix_correlation` of each ranker's top k (centred, watched
            titles accounted for).

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


def choose_on_validation(
    fit: Callable[[Any, pd.DataFrame], Scorer],
    grid: Sequence[Any],
    train: pd.DataFrame,
    titles: pd.DataFrame,
    test_share: float = 0.2,
    k: int = 10,
    metric: str = "ndcg",
) -> tuple[Any, pd.DataFrame]:
    """Pick a hyperparameter on a validation split inside ``train`` (never the test set).

    Args:
        fit: ``fit(value, inner_train)`` returns a scorer fitted with that value.
        grid: Values to try.
        train: The outer training interactions.
        titles: The catalogue.
        test_share: Share of ``train`` held out for validation.
        k: Cut-off.
        metric: ``ndcg``, ``hit``, ``recall`` or ``rr`` (at k where it applies).

    Returns:
        The best value, and one row per value with its validation metrics.
    """
    if not grid:
        raise ValueError("grid is empty; give at least one value to try")
    names = metric_names(k)
    if metric not in names:
        raise ValueError(f"metric must be one of {sorted(names)}, got {metric!r}")
    inner = validation_split(train, test_share=test_share)
    rankers = {str(value): fit(value, inner.train) for value in grid}
    report = evaluate_rankers(
        inner.train, inner.test, titles, None, rankers, k=k, segments=(), compare=()
    )
    table = report.overall.assign(value=list(grid))
    best = int(np.argmax(table[names[metric]].to_numpy()))
    return grid[best], table


def fit_baselines(
    train: pd.DataFrame,
    titles: pd.DataFrame,
    members: pd.DataFrame | None = None,
    l2_grid: Sequence[float] = EASE_L2_GRID,
    neighbours: int = 50,
    popularity_half_life_days: float = 7.0,
) -> dict[str, Scorer]:
    """The report's baselines, fitted on ``train``; EASE's l2 chosen on validation.

    Returns:
        ``popular`` (overall), ``popular_recent`` (views weighted by a half-life),
        ``popular_<by>`` for ``country`` when ``members`` has it, ``item_knn`` and
        ``ease``.
    """
    data = InteractionMatrix.build(train, titles)
    rankers: dict[str, Scorer] = {
        "popular": MostPopular().fit_matrix(data, titles),
        "popular_recent": MostPopular(half_life_days=popularity_half_life_days).fit_matrix(
            data, titles
        ),
    }
    if members is not None and "country" in members.columns:
        rankers["popular_country"] = MostPopular(by="country").fit_matrix(data, titles, members)
    rankers["item_knn"] = ItemKNN(neighbours).fit_matrix(data, titles)
    if len(l2_grid) > 1:
        l2, _ = choose_on_validation(
            lambda v, inner: EASE(v).fit(inner, titles), l2_grid, train, titles
        )
    else:
        l2 = l2_grid[0]
    rankers["ease"] = EASE(l2).fit_matrix(data, titles)
    return rankers


def evaluate_baselines(
    interactions: pd.DataFrame,
    titles: pd.DataFrame,
    members: pd.DataFrame | None = None,
    test_share: float = 0.2,
    k: int = 10,
    segments: Sequence[str] = SEGMENTS,
) -> EvaluationReport:
    """Split ``interactions`` in time, fit :func:`fit_baselines` and evaluate them."""
    split = temporal_split(interactions, test_share=test_share)
    rankers = fit_baselines(split.train, titles, members)
    present = [s for s in segments if members is not None and s in members.columns]
    return evaluate_rankers(
        split.train,
        split.test,
        titles,
        members,
        rankers,
        k=k,
        segments=present,
        protocol=split.protocol.to_dict(),
    )


def genre_mix_correlation(
    recs: pd.DataFrame,
    titles: pd.DataFrame,
    member_tastes: pd.DataFrame,
    centered: bool = True,
    watched: pd.DataFrame | None = None,
) -> float:
    """Mean over members of the correlation between top-k genre mix and true taste.

    A member's genre mix sums, over its recommended titles, each title's genres
    split evenly (1/n each); its taste is its weight per genre. The Pearson
    correlation is taken over the genres of ``member_tastes``, per member, and
    averaged over members where both vectors vary.

    Raw vectors correlate even for recommendations that ignore the member (the
    catalogue's genre make-up happens to match or mismatch the average taste), so by
    default both are centred first: the mix minus the expected mix of as many titles
    drawn uniformly from the catalogue (from the titles the member has not watched
    when ``watched`` is given, as recommendations exclude them), the taste minus the
    mean taste of the members in ``member_tastes``. Then random and most-popular lists
    score about 0 and only personal recommendations score above.

    Args:
        recs: ``member_key, title_id``: each member's recommended titles (e.g. top 10).
        titles: The catalogue with ``genres`` or genre flags.
        member_tastes: ``member_key, genre, weight`` (the world's hidden tastes with
            member_id renamed).
        centered: Centre as above (default); False correlates the raw vectors.
        watched: ``member_key, title_id`` the recommendations excluded (the training
            interactions), for the centring; None when nothing was excluded.

    Returns:
        The mean correlation, in [-1, 1]; NaN when no member qualifies.
    """
    for frame, what, needed in (
        (recs, "recs", ("member_key", "title_id")),
        (member_tastes, "member_tastes", ("member_key", "genre", "weight")),
    ):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise ValueError(f"{what} needs columns {list(needed)}; missing {missing}")
    tastes = member_tastes.pivot_table(
        index="member_key", columns="genre", values="weight", aggfunc="sum", fill_value=0.0
    )
    genres, names = genre_matrix(titles)
    shares = pd.DataFrame(genre_shares(genres), columns=names, index=title_index(titles))
    shares = shares.reindex(columns=tastes.columns, fill_value=0.0)
    picked = recs[recs["member_key"].isin(tastes.index)]
    grouped = (
        shares.reindex(picked["title_id"]).fillna(0.0).groupby(picked["member_key"].to_numpy())
    )
    mix, n_recs = grouped.sum(), grouped.size()
    taste = tastes.reindex(mix.index).to_numpy()
    if centered:
        pool_sum = np.broadcast_to(shares.sum().to_numpy(), mix.shape)
        pool_size = np.full(len(mix), float(len(shares)))
        if watched is not None:
            seen = watched[["member_key", "title_id"]].drop_duplicates()
            seen = seen[seen["member_key"].isin(mix.index)]
            seen_shares = shares.reindex(seen["title_id"]).fillna(0.0)
            by_member = seen_shares.groupby(seen["member_key"].to_numpy())
            pool_sum = pool_sum - by_member.sum().reindex(mix.index, fill_value=0.0).to_numpy()
            pool_size = pool_size - by_member.size().reindex(mix.index, fill_value=0).to_numpy()
        per_title = pool_sum / np.maximum(pool_size, 1.0)[:, None]
        expected = n_recs.reindex(mix.index).to_numpy()[:, None] * per_title
        mix, taste = mix.to_numpy() - expected, taste - tastes.mean().to_numpy()
    else:
        mix = mix.to_numpy()
    mix_c = mix - mix.mean(axis=1, keepdims=True)
    taste_c = taste - taste.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(mix_c, axis=1) * np.linalg.norm(taste_c, axis=1)
    valid = norm > 1e-12
    if not valid.any():
        return float("nan")
    return float(np.mean((mix_c * taste_c).sum(axis=1)[valid] / norm[valid]))


__all__ = [
    "EASE_L2_GRID",
    "SEGMENTS",
    "EvaluationReport",
    "Scorer",
    "choose_on_validation",
    "evaluate_baselines",
    "evaluate_rankers",
    "fit_baselines",
    "genre_mix_correlation",
    "metric_names",
]
