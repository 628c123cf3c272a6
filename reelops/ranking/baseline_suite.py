"""The report's baselines fitted on a training set, EASE's penalty chosen on validation."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from reelops.ranking.als import ALS, BPR
from reelops.ranking.baselines import EASE, InteractionMatrix, ItemKNN, MostPopular
from reelops.ranking.full_ranking import Scorer, evaluate_rankers
from reelops.ranking.report import metric_names
from reelops.ranking.split import validation_split

EASE_L2_GRID = (50.0, 100.0, 200.0, 500.0, 1000.0)


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


def tune_sources(
    inner_train: pd.DataFrame,
    inner_test: pd.DataFrame,
    titles: pd.DataFrame,
    l2_grid: Sequence[float],
    als_grid: Mapping[str, Sequence[float]],
    k: int = 10,
    threads: int = 2,
    bpr_grid: Mapping[str, Sequence[float]] | None = None,
) -> dict[str, Any]:
    """EASE's penalty and ALS's (and BPR's) parameters with the best validation NDCG@k.

    Args:
        inner_train, inner_test: A validation split made inside the training part.
        titles: The catalogue.
        l2_grid: EASE penalties to try.
        als_grid: Lists of ALS ``factors``, ``regularization``, ``alpha``, ``iterations``.
        k: Cut-off.
        threads: ALS threads.
        bpr_grid: Lists of BPR ``factors``, ``learning_rate``, ``regularization``,
            ``iterations``; none or empty leaves BPR out.

    Returns:
        ``ease_l2``, ``als`` (parameters), ``bpr`` (parameters, with a BPR grid) and
        ``validation`` (NDCG@k of every point).
    """
    data = InteractionMatrix.build(inner_train, titles)
    rankers: dict[str, Scorer] = {
        f"ease l2={v:g}": EASE(v).fit_matrix(data, titles) for v in l2_grid
    }
    families = {"als": (ALS, _points(als_grid), {"threads": threads})}
    if bpr_grid:
        families["bpr"] = (BPR, _points(bpr_grid), {})
    for family, (model, points, extra) in families.items():
        for point in points:
            label = f"{family} " + ",".join(f"{n}={v:g}" for n, v in point.items())
            rankers[label] = model(**point, **extra).fit_matrix(data, titles)
    report = evaluate_rankers(
        inner_train, inner_test, titles, None, rankers, k=k, segments=(), compare=()
    )
    ndcg = report.overall[metric_names(k)["ndcg"]]
    ease_best = int(np.argmax(ndcg.iloc[: len(l2_grid)].to_numpy()))
    out: dict[str, Any] = {"ease_l2": float(l2_grid[ease_best])}
    for family, (_, points, _) in families.items():
        values = ndcg[ndcg.index.str.startswith(f"{family} ")].to_numpy()
        out[family] = points[int(np.argmax(values))]
    out["validation"] = {name: float(v) for name, v in ndcg.items()}
    return out


def _points(grid: Mapping[str, Sequence[float]]) -> list[dict[str, float]]:
    """Every combination of a grid's lists; counts (factors, iterations) as ints."""
    names = sorted(grid)
    return [
        {
            n: (int(v) if n in ("factors", "iterations") else float(v))
            for n, v in zip(names, values, strict=True)
        }
        for values in itertools.product(*(grid[n] for n in names))
    ]


def fit_baselines(
    train: pd.DataFrame,
    titles: pd.DataFrame,
    members: pd.DataFrame | None = None,
    l2_grid: Sequence[float] = EASE_L2_GRID,
    neighbours: int = 50,
    popularity_half_life_days: float = 7.0,
    als: Mapping[str, float] | None = None,
    bpr: Mapping[str, float] | None = None,
) -> dict[str, Scorer]:
    """The report's baselines, fitted on ``train``; EASE's l2 chosen on validation.

    Returns:
        ``popular`` (overall), ``popular_recent`` (views weighted by a half-life),
        ``popular_<by>`` for ``country`` when ``members`` has it, ``item_knn``,
        ``ease`` and, given their parameters, ``als`` and ``bpr``.
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
    if als is not None:
        rankers["als"] = ALS(**dict(als)).fit_matrix(data, titles)
    if bpr is not None:
        rankers["bpr"] = BPR(**dict(bpr)).fit_matrix(data, titles)
    return rankers


__all__ = ["EASE_L2_GRID", "choose_on_validation", "fit_baselines", "tune_sources"]
