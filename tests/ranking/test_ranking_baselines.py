"""Baselines: hand-made examples, no watched title recommended, better than random."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from reelops.ranking.baselines import EASE, ItemKNN, MostPopular, RandomRanker
from reelops.ranking.full_ranking import evaluate_rankers
from reelops.ranking.genre_mix import genre_mix_correlation

TITLES = pd.DataFrame({"title_id": ["A", "B", "C", "D"]})


def views(pairs, day: str = "2026-01-01"):
    return pd.DataFrame(
        {
            "member_key": [m for m, _ in pairs],
            "title_id": [t for _, t in pairs],
            "ts": pd.Timestamp(day),
            "completion": 1.0,
        }
    )


# m1 and m2 watched A and B, m3 watched A and C, m4 only C.
HAND = views(
    [("m1", "A"), ("m1", "B"), ("m2", "A"), ("m2", "B"), ("m3", "A"), ("m3", "C"), ("m4", "C")]
)


def seen_pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame["member_key"], frame["title_id"], strict=True))


def test_item_knn_cosine_by_hand():
    knn = ItemKNN(neighbours=3).fit(HAND, TITLES)
    # |A| = 3, |B| = 2, |C| = 2: cos(A, B) = 2 / sqrt(6), cos(A, C) = 1 / sqrt(6), cos(B, C) = 0.
    assert knn.similarity[0, 1] == pytest.approx(2 / math.sqrt(6))
    assert knn.similarity[0, 2] == pytest.approx(1 / math.sqrt(6))
    assert knn.similarity[1, 2] == 0.0 and knn.similarity[0, 0] == 0.0
    # m4 (C only) gets A first, then nothing related; m3 (A, C) gets B.
    assert knn.score(["m4"])[0] == pytest.approx([1 / math.sqrt(6), 0.0, 0.0, 0.0])
    assert knn.recommend(["m3"], k=1)["title_id"].tolist() == ["B"]


def test_item_knn_keeps_only_k_neighbours():
    knn = ItemKNN(neighbours=1).fit(HAND, TITLES)
    # A's single nearest neighbour is B, so C's co-watch with A no longer scores A.
    assert knn.score(["m4"])[0, 0] == 0.0
    assert knn.score(["m1"])[0, 0] == pytest.approx(2 / math.sqrt(6))


def test_ease_matches_the_constrained_ridge_regression():
    rng = np.random.default_rng(0)
    x = (rng.random((40, 6)) < 0.4).astype(float)
    members, titles = np.nonzero(x)
    train = views(list(zip([f"m{m:02d}" for m in members], [f"t{t}" for t in titles], strict=True)))
    catalog = pd.DataFrame({"title_id": [f"t{t}" for t in range(6)]})
    l2 = 5.0
    ease = EASE(l2).fit(train, catalog)
    x = ease.data.matrix.toarray()
    for j in range(6):
        others = [i for i in range(6) if i != j]
        xo = x[:, others]
        ridge = np.linalg.solve(xo.T @ xo + l2 * np.eye(5), xo.T @ x[:, j])
        assert ease.weights[others, j] == pytest.approx(ridge, abs=1e-10)
        assert ease.weights[j, j] == 0.0


def test_most_popular_by_hand():
    popular = MostPopular().fit(HAND, TITLES)
    # Watched by 3, 2, 2, 0 of 4 members; ties keep catalogue order.
    assert popular.score(["m1"])[0] == pytest.approx([0.75, 0.5, 0.5, 0.0])
    assert popular.recommend(["m4"], k=2)["title_id"].tolist() == ["A", "B"]


def test_most_popular_by_country_shrinks_to_overall():
    members = pd.DataFrame(
        {"member_key": ["m1", "m2", "m3", "m4"], "country": ["US", "US", "NO", "NO"]}
    )
    popular = MostPopular(by="country", shrinkage=2.0).fit(HAND, TITLES, members)
    overall = np.array([0.75, 0.5, 0.5, 0.0])
    # NO: counts A 1, B 0, C 2 over 2 members, plus 2 pseudo-members of the overall shares.
    expected = (np.array([1, 0, 2, 0]) + 2 * overall) / (2 + 2)
    assert popular.score(["m3"])[0] == pytest.approx(expected)
    assert popular.score(["stranger"])[0] == pytest.approx(overall)
    with pytest.raises(ValueError, match="country"):
        MostPopular(by="country").fit(HAND, TITLES)


def test_half_life_weights_recent_views_more():
    old = views([("m1", "A"), ("m2", "A"), ("m3", "A")], "2026-01-01")
    new = views([("m4", "B"), ("m5", "B")], "2026-01-15")
    popular = MostPopular(half_life_days=7.0).fit(pd.concat([old, new]), TITLES)
    # A's three views are two half-lives old: 3 / 4 < 2.
    assert popular.score(["m1"])[0, :2] * 5 == pytest.approx([0.75, 2.0])


def test_unknown_members_and_titles():
    ease = EASE(1.0).fit(HAND, TITLES)
    assert (ease.score(["nobody"]) == 0).all()
    with pytest.raises(ValueError, match="titles not in titles"):
        EASE().fit(views([("m1", "Z")]), TITLES)
    with pytest.raises(ValueError, match="k must be"):
        ease.recommend(["m1"], k=0)
    with pytest.raises(RuntimeError, match="not fitted"):
        EASE().score(["m1"])


@pytest.fixture(scope="module")
def fitted(split, titles, members):
    return {
        "random": RandomRanker(seed=1).fit(split.train, titles),
        "popular": MostPopular().fit(split.train, titles),
        "popular_country": MostPopular(by="country").fit(split.train, titles, members),
        "item_knn": ItemKNN(20).fit(split.train, titles),
        "ease": EASE(100.0).fit(split.train, titles),
    }


def test_no_ranker_recommends_a_watched_title(fitted, split):
    keys = split.train["member_key"].unique()
    watched = seen_pairs(split.train)
    for name, ranker in fitted.items():
        recs = ranker.recommend(keys, k=10)
        assert len(recs) == 10 * len(keys), name
        assert not seen_pairs(recs) & watched, name
    # Without the exclusion a popular watched title does come back.
    assert seen_pairs(fitted["popular"].recommend(keys, k=10, exclude_seen=False)) & watched


def test_baselines_beat_random_on_the_tiny_world(fitted, split, titles, members):
    report = evaluate_rankers(split.train, split.test, titles, members, fitted, compare=())
    ndcg = report.overall["ndcg@10"]
    for name in ("popular", "popular_country", "item_knn", "ease"):
        assert ndcg[name] > ndcg["random"] + 0.1, (name, ndcg.to_dict())
        assert report.overall.loc[name, "mrr"] > report.overall.loc["random", "mrr"]


def test_ease_recovers_hidden_tastes(fitted, split, titles, tastes):
    # Over the full catalogue: in the tiny world members soon run out of unwatched
    # titles of their genres, which would hide what the model learned.
    keys = split.test["member_key"].unique()
    mix = {
        name: genre_mix_correlation(
            fitted[name].recommend(keys, k=10, exclude_seen=False), titles, tastes
        )
        for name in ("ease", "random", "popular")
    }
    assert mix["ease"] > 0.1, mix
    assert abs(mix["random"]) < 0.1 and abs(mix["popular"]) < 0.1, mix
