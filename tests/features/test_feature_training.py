"""Point-in-time training sets: values as of each label's time, input order, clear errors."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from feature_worlds import as_of, mart, same

from reelops.features.transforms import AFFINITY_COLUMNS, GENRE_FLAG_COLUMNS

pytestmark = pytest.mark.slow

MEMBER_COLUMNS = [
    "views_7d",
    "views_28d",
    "watch_hours_28d",
    "completion_rate_28d",
    "distinct_titles_28d",
    "days_since_last_view",
]
TITLE_COLUMNS = ["plays_1d", "plays_7d", "play_rate_7d", "days_since_release", "popularity_rank_7d"]


@pytest.fixture(scope="module")
def labels(warehouse) -> pd.DataFrame:
    """Impressions with their graded labels, plus labels exactly at and just before the
    moments daily features become known, shuffled and with a non-default index."""
    interactions = mart(warehouse, "fct_ranking_interactions")
    sample = interactions.sample(n=1500, random_state=3)[["member_key", "title_id", "ts", "label"]]
    member_days = mart(warehouse, "fct_member_daily")
    edges = member_days.sample(n=150, random_state=4)[["member_key", "event_timestamp"]]
    titles = mart(warehouse, "dim_titles")["title_id"].to_numpy()
    at_edge = pd.DataFrame(
        {
            "member_key": np.repeat(edges["member_key"].to_numpy(), 2),
            "title_id": np.resize(titles, 2 * len(edges)),
            "ts": np.ravel(
                np.column_stack(
                    [
                        edges["event_timestamp"].to_numpy(),
                        (edges["event_timestamp"] - pd.Timedelta(microseconds=1)).to_numpy(),
                    ]
                )
            ),
            "label": -1,
        }
    )
    frame = pd.concat([sample, at_edge], ignore_index=True).sample(frac=1.0, random_state=5)
    frame.index = pd.RangeIndex(10_000, 10_000 + len(frame))[::-1]
    return frame


@pytest.fixture(scope="module")
def training(warehouse, labels):
    from reelops.features.store import open_store
    from reelops.features.training import build_training_set

    repo = open_store(warehouse.settings, warehouse.source)
    return build_training_set(
        warehouse.settings, labels, "ranker_v1", timestamp_column="ts", repo=repo
    )


def test_rows_come_back_in_the_input_order_with_inputs_untouched(labels, training):
    assert list(training.index) == list(labels.index)
    pd.testing.assert_frame_equal(training[labels.columns], labels)
    assert "member_activity__views_7d" in training
    assert "member_title_affinity__genre_affinity" in training


def test_member_features_equal_the_mart_as_of_each_label(warehouse, labels, training):
    expected = as_of(
        labels, "member_key", labels["ts"], mart(warehouse, "fct_member_daily"),
        timedelta(days=2), MEMBER_COLUMNS + list(AFFINITY_COLUMNS),
    )  # fmt: skip
    changed_after_label = np.zeros(len(labels), dtype=bool)
    for column in MEMBER_COLUMNS + list(AFFINITY_COLUMNS):
        view = "member_activity" if column in MEMBER_COLUMNS else "member_genre_affinity"
        joined = training[f"{view}__{column}"].to_numpy()
        assert same(joined, expected[column]).all(), column
        later = expected[f"__next_{column}"]
        differs = ~same(later, expected[column]) & later.notna().to_numpy()
        changed_after_label |= differs
        # Never the value that only became known after the label.
        assert not (same(joined, later) & differs).any(), column
    # The check means something: many labels sit right before a value changes.
    assert changed_after_label.sum() > 200
    # No feature newer than its label; exact boundaries see the value known at that instant.
    assert (expected["__ts"].dropna() <= expected.loc[expected["__ts"].notna(), "__t"]).all()
    at_edge = labels["label"].to_numpy() == -1
    assert expected.loc[at_edge, "__ts"].notna().sum() > 100


def test_title_features_equal_the_mart_as_of_each_label(warehouse, labels, training):
    expected = as_of(
        labels, "title_id", labels["ts"], mart(warehouse, "fct_title_daily"),
        timedelta(days=2), TITLE_COLUMNS,
    )  # fmt: skip
    changes = 0
    for column in TITLE_COLUMNS:
        joined = training[f"title_popularity__{column}"].to_numpy()
        assert same(joined, expected[column]).all(), column
        later = expected[f"__next_{column}"]
        changes += int((~same(later, expected[column]) & later.notna().to_numpy()).sum())
    assert changes > 200


def test_on_demand_features_follow_their_definitions(warehouse, labels, training):
    members = as_of(
        labels, "member_key", labels["ts"], mart(warehouse, "fct_member_daily"),
        timedelta(days=2), list(AFFINITY_COLUMNS),
    )  # fmt: skip
    titles = mart(warehouse, "dim_titles").set_index("title_id").loc[labels["title_id"]]
    aff = members[list(AFFINITY_COLUMNS)].to_numpy(dtype=float)
    flags = titles[list(GENRE_FLAG_COLUMNS)].to_numpy(dtype=float)
    expected = (aff * flags).sum(axis=1) / titles["n_genres"].to_numpy(dtype=float)
    got = training["member_title_affinity__genre_affinity"].to_numpy(dtype=float)
    np.testing.assert_allclose(got, expected, rtol=1e-12, equal_nan=True)
    assert np.isfinite(got).sum() > 1000 and (got > 0).sum() > 100

    release = pd.to_datetime(titles["release_date"]).to_numpy()
    hours = (labels["ts"].to_numpy() - release) / np.timedelta64(1, "h")
    np.testing.assert_allclose(
        training["title_freshness__hours_since_release"].to_numpy(dtype=float), hours, rtol=1e-12
    )


def test_bitrate_features_join_on_the_network_key(warehouse):
    from reelops.features.training import build_training_set

    samples = mart(warehouse, "fct_delivery_samples").sample(n=400, random_state=6)
    frame = samples[["session_id", "chunk_index", "network_key", "next_throughput_mbps"]].copy()
    frame["event_timestamp"] = pd.to_datetime(samples["ts"])
    got = build_training_set(warehouse.settings, frame, "bitrate_v1", source=warehouse.source)
    expected = as_of(
        frame, "network_key", frame["event_timestamp"], mart(warehouse, "fct_network_daily"),
        timedelta(days=3), ["throughput_p50_7d", "rebuffer_ratio_7d"],
    )  # fmt: skip
    for column in ("throughput_p50_7d", "rebuffer_ratio_7d"):
        assert same(got[f"network_throughput__{column}"], expected[column]).all(), column
    assert got["network_throughput__throughput_p50_7d"].notna().sum() > 200


def test_missing_key_or_timestamp_column_is_named(warehouse, labels):
    from reelops.features.training import TrainingSetError, build_training_set

    with pytest.raises(TrainingSetError, match="title_id"):
        build_training_set(
            warehouse.settings, labels.drop(columns="title_id"), timestamp_column="ts",
            source=warehouse.source,
        )  # fmt: skip
    with pytest.raises(TrainingSetError, match="'event_timestamp'"):
        build_training_set(warehouse.settings, labels, source=warehouse.source)
    with pytest.raises(TrainingSetError, match="must hold timestamps"):
        build_training_set(
            warehouse.settings, labels.assign(ts="yesterday"), timestamp_column="ts",
            source=warehouse.source,
        )  # fmt: skip


def test_unknown_feature_or_service_is_named(warehouse, labels):
    from reelops.features.training import TrainingSetError, build_training_set

    with pytest.raises(TrainingSetError, match="no feature 'views_9d'.*views_7d"):
        build_training_set(
            warehouse.settings, labels, features=["member_activity:views_9d"],
            timestamp_column="ts", source=warehouse.source,
        )  # fmt: skip
    with pytest.raises(TrainingSetError, match="'member_stats:views_7d' names no feature view"):
        build_training_set(
            warehouse.settings, labels, features=["member_stats:views_7d"],
            timestamp_column="ts", source=warehouse.source,
        )  # fmt: skip
    with pytest.raises(TrainingSetError, match="no feature service 'ranker_v9'.*ranker_v1"):
        build_training_set(
            warehouse.settings, labels, "ranker_v9", timestamp_column="ts",
            source=warehouse.source,
        )  # fmt: skip


def test_a_feature_subset_needs_only_its_keys(warehouse, labels):
    from reelops.features.training import build_training_set

    only_members = labels.drop(columns="title_id")
    got = build_training_set(
        warehouse.settings, only_members, features=["member_activity:views_7d"],
        timestamp_column="ts", source=warehouse.source,
    )  # fmt: skip
    assert list(got.columns) == [*only_members.columns, "member_activity__views_7d"]
    assert got["member_activity__views_7d"].notna().sum() > 1000
