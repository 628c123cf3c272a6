"""The report's baselines: EASE's penalty chosen on validation inside train, their names."""

from __future__ import annotations

from reelops.ranking.baseline_suite import choose_on_validation, fit_baselines, tune_sources
from reelops.ranking.baselines import EASE
from reelops.ranking.split import validation_split


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


def test_tune_sources_chooses_bpr_on_its_grid_and_fits_it_as_a_baseline(split, titles, members):
    inner = validation_split(split.train, test_share=0.2)
    als = {"factors": [4], "regularization": [1.0], "alpha": [1.0], "iterations": [3]}
    bpr = {"factors": [4, 8], "learning_rate": [0.05], "regularization": [0.01], "iterations": [10]}
    chosen = tune_sources(inner.train, inner.test, titles, [100.0], als, bpr_grid=bpr)
    assert chosen["bpr"]["factors"] in (4, 8) and chosen["bpr"]["iterations"] == 10
    assert sum(label.startswith("bpr ") for label in chosen["validation"]) == 2
    assert "bpr" not in tune_sources(inner.train, inner.test, titles, [100.0], als)
    rankers = fit_baselines(split.train, titles, members, l2_grid=(100.0,), bpr=chosen["bpr"])
    assert rankers["bpr"].params == chosen["bpr"]
