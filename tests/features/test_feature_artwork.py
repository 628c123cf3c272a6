"""The artwork features: point-in-time training rows equal the marts as of each impression,
and the online store serves the same values after materialization."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from feature_worlds import END, as_of, mart, same

pytestmark = pytest.mark.slow

VARIANT_COLUMNS = ["impressions_28d", "good_play_rate_28d", "theme_good_play_rate_28d"]
MEMBER_THEME_COLUMNS = ["impressions_28d", "good_plays_28d", "theme_affinity_28d"]
TTL = timedelta(days=2)


def _keyed(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The frame with one string key column joining ``columns`` (for the as-of helper)."""
    frame = frame.copy()
    frame["__key"] = frame[columns].astype(str).agg("|".join, axis=1)
    return frame


@pytest.fixture(scope="module")
def artwork_training(warehouse):
    from reelops.features.store import open_store
    from reelops.features.training import build_training_set

    shown = mart(warehouse, "fct_artwork_impressions")
    labels = shown.sample(n=800, random_state=11)[
        ["member_key", "title_id", "variant_id", "theme", "ts", "is_good_play"]
    ]
    repo = open_store(warehouse.settings, warehouse.source)
    return (
        repo,
        labels,
        build_training_set(
            warehouse.settings, labels, "artwork_v1", timestamp_column="ts", repo=repo
        ),
    )


@pytest.mark.parametrize(
    ("view", "mart_name", "keys", "columns"),
    [
        ("artwork_variant_stats", "fct_artwork_variant_daily", ["title_id", "variant_id"],
         VARIANT_COLUMNS),
        ("member_theme_affinity", "fct_member_theme_daily", ["member_key", "theme"],
         MEMBER_THEME_COLUMNS),
    ],
)  # fmt: skip
def test_artwork_features_equal_the_marts_as_of_each_impression(
    warehouse, artwork_training, view, mart_name, keys, columns
):
    _, labels, training = artwork_training
    expected = as_of(
        _keyed(labels, keys), "__key", labels["ts"], _keyed(mart(warehouse, mart_name), keys),
        TTL, columns,
    )  # fmt: skip
    for column in columns:
        assert same(training[f"{view}__{column}"], expected[column]).all(), column
    # No label sees its own day: the values are those known at the end of the day before.
    assert (expected["__ts"].dropna() <= labels["ts"].to_numpy()[expected["__ts"].notna()]).all()
    assert training[f"{view}__impressions_28d"].notna().mean() > 0.5


def test_online_store_serves_the_last_days_artwork_features(warehouse, artwork_training):
    from reelops.features.materialize import materialize

    repo, labels, _ = artwork_training
    materialize(repo.settings, end=END, repo=repo)
    daily = mart(warehouse, "fct_member_theme_daily")
    last = daily[daily.event_timestamp == daily.event_timestamp.max()].head(5)
    variants = mart(warehouse, "fct_artwork_variant_daily")
    last_variants = variants[variants.event_timestamp == variants.event_timestamp.max()].head(5)
    rows = [
        {**m, **v}
        for m, v in zip(
            last[["member_key", "theme"]].to_dict("records"),
            last_variants[["title_id", "variant_id"]].to_dict("records"),
            strict=True,
        )
    ]
    online = repo.store.get_online_features(
        features=repo.store.get_feature_service("artwork_v1"),
        entity_rows=rows,
        full_feature_names=True,
    ).to_dict()
    np.testing.assert_allclose(
        online["member_theme_affinity__theme_affinity_28d"],
        last["theme_affinity_28d"].to_numpy(dtype=float),
    )
    assert online["artwork_variant_stats__impressions_28d"] == list(
        last_variants["impressions_28d"]
    )
