"""The report's baselines: EASE's penalty chosen on validation inside train, their names."""

from __future__ import annotations

from reelops.ranking.baseline_suite import choose_on_validation, fit_baselines
from reelops.ranking.baselines import EASE


def test_choose_on_validation_uses_train_only(split, titles):
    grid = [10.0, 1000.0]
    fits = []

    def fit(l2, inner_train):
        fits.append(inner_train["ts"].max())
        return EASE(l2).fit(inner_train, titles)

    best, table = choose_on_validation(fit, grid, split.train, titles)
    assert best in grid and len(table) == 2
    assert all(ts < split.train["ts"].max() for ts in fits)


def test_fit_baselines_names(split, titles, members):
    rankers = fit_baselines(split.train, titles, members, l2_grid=(100.0,))
    assert set(rankers) == {"popular", "popular_recent", "popular_country", "item_knn", "ease"}
