"""The artwork marts over the hand-made lake: values computed by hand from dbt_lake.py."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from dbt_lake import DAY1, DAY2, DAY3, M1, M2

from reelops.warehouse import read_mart

pytestmark = pytest.mark.slow


def _row(frame, **keys):
    for column, value in keys.items():
        frame = frame[frame[column] == value]
    assert len(frame) == 1, f"expected one row for {keys}, found {len(frame)}"
    return frame.iloc[0]


def test_artwork_impressions_link_views_and_grade_good_plays(local_settings, duckdb_full):
    shown = read_mart(local_settings, "full", "fct_artwork_impressions").set_index("impression_id")
    # i1: completed (0.95); i2: half watched, 1800 s = exactly the good-play minimum.
    assert shown.loc["i1", ["view_event_id", "seconds_watched", "theme"]].tolist() == [
        "e1",
        3600,
        "action",
    ]
    assert shown.loc["i2", "view_event_id"] == "e2"
    assert shown.is_good_play.to_dict() == {"i1": True, "i2": True, "i3": False, "i4": False}
    assert shown.is_completed.to_dict() == {"i1": True, "i2": False, "i3": False, "i4": False}
    assert shown.loc["i4", "theme"] == "faces" and shown.loc["i4", "n_variants"] == 2
    assert shown.view_event_id.isna().sum() == 2  # unplayed impressions link no view
    assert shown.loc["i3", "propensity"] == 0.5


def test_variant_daily_rolls_counts_lift_and_theme_rates(local_settings, duckdb_full):
    daily = read_mart(local_settings, "full", "fct_artwork_variant_daily")
    t1v1 = _row(daily, title_id="t1", variant_id="v1", feature_date=DAY3)
    assert (t1v1.impressions_28d, t1v1.plays_28d, t1v1.good_plays_28d) == (1, 1, 1)
    assert t1v1.good_play_rate_28d == 1.0
    assert t1v1.good_play_lift_28d == pytest.approx(2.0)  # t1: 1 good play in 2 impressions
    assert t1v1.event_timestamp == datetime(2024, 3, 4)
    t2v1 = _row(daily, title_id="t2", variant_id="v1", feature_date=DAY3)
    assert (t2v1.theme_impressions_28d, t2v1.theme_good_plays_28d) == (2, 1)  # i2 and i4
    assert t2v1.theme_good_play_rate_28d == pytest.approx(0.5)
    # t3 was released on DAY2 and first shown (unplayed) on DAY3: no rate before it.
    t3 = daily[daily.title_id == "t3"].set_index("feature_date")
    assert sorted(t3.index) == [DAY2, DAY3]
    assert t3.impressions_28d.to_dict() == {DAY2: 0, DAY3: 1}
    assert pd.isna(t3.loc[DAY2, "good_play_rate_28d"]) and t3.loc[DAY3, "good_play_rate_28d"] == 0
    assert _row(daily, title_id="t1", variant_id="v2", feature_date=DAY1).impressions_28d == 0


def test_member_theme_daily_shrinks_affinity_towards_the_population(local_settings, duckdb_full):
    daily = read_mart(local_settings, "full", "fct_member_theme_daily")
    # faces on DAY3: 2 impressions, 1 good play (rate 0.5); prior 20 impressions.
    m1 = _row(daily, member_key=M1, theme="faces", feature_date=DAY3)
    assert (m1.impressions_28d, m1.good_plays_28d, m1.good_play_rate_28d) == (1, 1, 1.0)
    assert m1.theme_affinity_28d == pytest.approx((1 + 20 * 0.5) / 21 / 0.5)
    m2 = _row(daily, member_key=M2, theme="faces", feature_date=DAY3)
    assert m2.theme_affinity_28d == pytest.approx((0 + 20 * 0.5) / 21 / 0.5)
    assert sorted(daily[daily.member_key == M1].theme.unique()) == ["action", "faces"]
    assert not ((daily.member_key == M2) & (daily.feature_date < DAY3)).any()


def test_artwork_marts_are_empty_without_impressions(local_settings, duckdb_movielens_like):
    rows = duckdb_movielens_like.mart_rows
    assert rows["fct_artwork_impressions"] == rows["fct_member_theme_daily"] == 0
    assert rows["fct_artwork_variant_daily"] == 11  # the catalogue's variants still get rows
