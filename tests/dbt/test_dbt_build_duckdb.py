"""dbt build on DuckDB over the hand-made lake: marts hold the hand-computed values."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dbt_lake import (
    DAY1,
    DAY2,
    DAY3,
    FULL_MART_ROWS,
    M1,
    M2,
    M3,
    VIEWS,
    write_lake,
    write_partition,
)

from reelops.config import PROJECT_ROOT
from reelops.warehouse import MARTS, WarehouseBuildError, build, read_mart

pytestmark = pytest.mark.slow


def _row(frame: pd.DataFrame, **keys) -> pd.Series:
    match = frame
    for column, value in keys.items():
        match = match[match[column] == value]
    assert len(match) == 1, f"expected one row for {keys}, found {len(match)}"
    return match.iloc[0]


def test_build_reports_models_tests_and_mart_rows(duckdb_full):
    assert duckdb_full.target == "duckdb"
    assert len(duckdb_full.models_built) == 29
    assert duckdb_full.tests_failed == 0
    assert duckdb_full.tests_passed >= 90
    assert duckdb_full.unit_tests_passed == 7
    assert duckdb_full.mart_rows == FULL_MART_ROWS
    results = json.loads(duckdb_full.run_results.read_text())
    assert {r["status"] for r in results["results"]} <= {"success", "pass"}


def test_build_writes_marts_as_parquet_and_nothing_into_the_checkout(local_settings, duckdb_full):
    for name in MARTS:
        assert (local_settings.marts_dir("full") / f"{name}.parquet").is_file()
    assert duckdb_full.run_results.is_relative_to(local_settings.home)
    leftovers = {"target", "logs", "dbt_packages", ".user.yml", "package-lock.yml"}
    assert not leftovers & {path.name for path in (PROJECT_ROOT / "dbt").iterdir()}


def test_dim_members_keeps_only_the_latest_snapshot(local_settings, duckdb_full):
    members = read_mart(local_settings, "full", "dim_members")
    assert sorted(members.member_key) == [M1, M2, M3]
    assert _row(members, member_key=M1).plan == "premium"


def test_dim_titles_flags_genres_and_counts_variants(local_settings, duckdb_full):
    titles = read_mart(local_settings, "full", "dim_titles")
    t2 = _row(titles, title_id="t2")
    assert (t2.genre_children_s, t2.genre_sci_fi, t2.genre_action, t2.n_genres) == (1, 1, 0, 2)
    assert _row(titles, title_id="t1").n_variants == 2
    assert "genre_film_noir" in titles.columns


def test_fct_member_daily_rolls_windows_and_affinities(local_settings, duckdb_full):
    daily = read_mart(local_settings, "full", "fct_member_daily")
    m1 = _row(daily, member_key=M1, feature_date=DAY3)
    # M1 watched t1 (Action|Comedy) 3600 s + 1200 s and t2 (Children's|Sci-Fi) 1800 s.
    assert m1.views_7d == 3
    assert m1.distinct_titles_28d == 2
    assert m1.watch_hours_28d == pytest.approx(6600 / 3600)
    assert m1.completion_rate_28d == pytest.approx(2 / 3)
    assert m1.aff_action == pytest.approx(2400 / 6600)
    assert m1.aff_children_s == pytest.approx(900 / 6600)
    assert m1.aff_drama == 0
    assert m1.event_timestamp == datetime(2024, 3, 4)
    # M3 watched once on DAY1; the value rolls forward to DAY3.
    m3 = _row(daily, member_key=M3, feature_date=DAY3)
    assert (m3.views_7d, m3.days_since_last_view) == (1, 2)
    assert not ((daily.member_key == M2) & (daily.feature_date < DAY3)).any()


def test_fct_title_daily_counts_plays_impressions_and_ranks(local_settings, duckdb_full):
    daily = read_mart(local_settings, "full", "fct_title_daily")
    t1 = _row(daily, title_id="t1", feature_date=DAY3)
    assert (t1.plays_1d, t1.plays_7d, t1.viewers_28d) == (1, 2, 1)
    assert t1.impressions_7d == 2
    assert t1.play_rate_7d == pytest.approx(0.5)
    assert t1.popularity_rank_7d == 1
    t3 = daily[daily.title_id == "t3"]
    assert sorted(t3.feature_date) == [DAY2, DAY3]
    assert _row(t3, feature_date=DAY2).days_since_release == 0
    assert math.isnan(_row(t3, feature_date=DAY2).play_rate_7d)


def test_fct_network_daily_summarises_chunk_throughput(local_settings, duckdb_full):
    network = read_mart(local_settings, "full", "fct_network_daily")
    us = _row(network, network_key="US:fibre", feature_date=DAY1)
    assert (us.sessions_7d, us.chunks_7d) == (1, 4)
    assert us.throughput_p50_7d == pytest.approx(25.0)
    assert us.throughput_p10_7d == pytest.approx(13.0)
    assert us.throughput_mean_7d == pytest.approx(25.0)
    assert us.rebuffer_ratio_7d == pytest.approx(1.0 / 16.0)  # 1 s over four 4-s chunks
    assert sorted(network[network.network_key == "GB:mobile"].feature_date) == [DAY3]


def test_fct_ranking_interactions_grades_labels(local_settings, duckdb_full):
    interactions = read_mart(local_settings, "full", "fct_ranking_interactions")
    labels = dict(zip(interactions.impression_id, interactions.label, strict=True))
    assert labels == {"i1": 2, "i2": 1, "i3": 0, "i4": 0}


def test_fct_delivery_samples_carries_the_sessions_history(local_settings, duckdb_full):
    samples = read_mart(local_settings, "full", "fct_delivery_samples")
    third = _row(samples, session_id="s1", chunk_index=2)
    assert (third.prev_throughput_1, third.prev_throughput_2) == (20.0, 10.0)
    assert math.isnan(third.prev_throughput_3)
    assert third.prev_download_s_1 == pytest.approx(12.0 / 20.0)
    assert third.next_throughput_mbps == 40.0
    assert third.seconds_since_start == pytest.approx(8.0)
    assert third.network_key == "US:fibre"
    assert math.isnan(_row(samples, session_id="s1", chunk_index=3).next_throughput_mbps)


def test_movielens_like_lake_builds_with_empty_event_marts(local_settings, duckdb_movielens_like):
    rows = duckdb_movielens_like.mart_rows
    assert rows["fct_ranking_interactions"] == 0
    assert rows["fct_delivery_samples"] == 0
    assert rows["fct_network_daily"] == 0
    assert rows["fct_member_daily"] == FULL_MART_ROWS["fct_member_daily"]
    assert duckdb_movielens_like.tests_failed == 0
    # Empty marts are empty typed files, not dbt-duckdb's placeholder row of NULLs.
    path = local_settings.marts_dir("movielens_like") / "fct_ranking_interactions.parquet"
    table = pq.read_table(path)
    assert table.num_rows == 0
    assert table.schema.field("label").type == pa.int32()


def test_read_mart_rejects_unknown_names(local_settings):
    with pytest.raises(ValueError, match="unknown mart"):
        read_mart(local_settings, "full", "fct_secret; drop table x")


def test_a_failing_test_raises_with_the_node_and_message(local_settings):
    lake = local_settings.lake_dir("broken")
    write_lake(lake, delivery=False)
    write_partition(lake, "viewing_events", DAY1 + timedelta(days=10), [VIEWS[0]])  # duplicate
    with pytest.raises(WarehouseBuildError) as caught:
        build(local_settings, "broken", select="stg_lake__viewing_events")
    message = str(caught.value)
    assert "unique_stg_lake__viewing_events_event_id" in message
    assert "broken" in message


def test_fct_viewing_events_keeps_every_view_with_pseudonymous_keys(local_settings, duckdb_full):
    views = read_mart(local_settings, "full", "fct_viewing_events")
    assert len(views) == len(VIEWS) and views["event_id"].is_unique
    assert "member_id" not in views.columns
    e4 = views.set_index("event_id").loc["e4"]
    assert (e4.title_id, e4.seconds_watched, bool(e4.is_completed)) == ("t1", 1200, True)
    assert not bool(views.set_index("event_id").loc["e2", "is_completed"])
