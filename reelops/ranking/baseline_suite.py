"""The report's baselines fitted on a training set, EASE's penalty chosen on validation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

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


__all__ = ["EASE_L2_GRID", "choose_on_validation", "fit_baselines"]
