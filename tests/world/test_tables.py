"""The world's raw tables honour the contract: columns, types, keys, references, ranges."""

from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from reelops.schema import CONNECTIONS, COUNTRIES, DEVICES, GENRES, RAW_TABLES
from reelops.world.catalog import THEMES


@pytest.mark.parametrize("name", list(RAW_TABLES))
def test_columns_and_types_match_the_contract(small_world, name):
    frame = small_world.tables[name]
    schema = RAW_TABLES[name].schema

    assert list(frame.columns) == schema.names
    # Even without the schema, Arrow infers the contract's types (pandas strings are large).
    inferred = pa.Table.from_pandas(frame, preserve_index=False).schema
    for field in schema:
        got = inferred.field(field.name).type
        assert got == field.type or (got, field.type) == (pa.large_string(), pa.string()), field
    table = small_world.to_arrow(name)
    assert table.schema.remove_metadata().equals(schema)
    assert table.num_rows == len(frame) > 0


@pytest.mark.parametrize("name", list(RAW_TABLES))
def test_keys_are_unique_and_not_null(small_world, name):
    frame = small_world.tables[name]
    key = list(RAW_TABLES[name].key)

    assert not frame[key].isna().any().any()
    assert not frame.duplicated(key).any()


def test_ids_have_the_documented_shape(small_world):
    tables = small_world.tables

    assert tables["members"]["member_id"].str.fullmatch(r"m\d{6}").all()
    assert tables["titles"]["title_id"].str.fullmatch(r"t\d{5}").all()
    variants = tables["artwork_variants"]
    assert (variants["variant_id"].str.split("-v").str[0] == variants["title_id"]).all()


def test_events_reference_existing_members_titles_variants_and_sessions(small_world):
    t = small_world.tables
    members, titles = set(t["members"]["member_id"]), set(t["titles"]["title_id"])
    for name in ("viewing_events", "impressions", "playback_sessions"):
        assert set(t[name]["member_id"]) <= members, name
        assert set(t[name]["title_id"]) <= titles, name
    shown = t["impressions"][["title_id", "variant_id"]].drop_duplicates()
    assert len(shown.merge(t["artwork_variants"])) == len(shown)
    assert set(t["delivery_chunks"]["session_id"]) == set(t["playback_sessions"]["session_id"])
    # Every session streams an actual view: same member, title and start time.
    views = t["viewing_events"][["member_id", "title_id", "ts", "device"]]
    assert len(t["playback_sessions"].merge(views)) == len(t["playback_sessions"])


def test_vocabularies_and_member_attributes(small_world, small_config):
    members, titles = small_world.tables["members"], small_world.tables["titles"]

    assert set(members["country"]) == set(COUNTRIES) - {"unknown"}
    assert set(members["connection_type"]) <= set(CONNECTIONS) - {"unknown"}
    assert members["country"].value_counts(normalize=True).max() > 0.2  # not uniform
    for devices in members["devices"]:
        owned = devices.split(",")
        assert owned and owned == [d for d in DEVICES if d in owned]
    assert (members["signup_date"] < small_config.start).all()
    for genres in titles["genres"]:
        picked = genres.split("|")
        assert 1 <= len(picked) <= 3 and set(picked) <= set(GENRES) - {"unknown"}
    assert set(small_world.tables["artwork_variants"]["theme"]) <= set(THEMES)
    per_title = small_world.tables["artwork_variants"].groupby("title_id").size()
    assert per_title.between(3, 6).all() and len(per_title) == len(titles)


def test_titles_release_before_or_during_the_period(small_world, small_config):
    titles = small_world.tables["titles"]
    release = pd.to_datetime(titles["release_date"])
    start = pd.Timestamp(small_config.start)

    assert (release.dt.year == titles["release_year"]).all()
    assert ((release >= start) & (release <= pd.Timestamp(small_config.end))).sum() >= 3
    assert (release < start).mean() > 0.8


def test_event_times_fall_inside_the_period_and_after_release(small_world, small_config):
    start = pd.Timestamp(small_config.start)
    end = start + timedelta(days=small_config.days)
    titles = small_world.tables["titles"][["title_id", "release_date"]]
    for name in ("viewing_events", "impressions", "playback_sessions"):
        events = small_world.tables[name]
        assert events["ts"].between(start, end, inclusive="left").all(), name
        released = pd.to_datetime(events.merge(titles)["release_date"])
        assert (events.merge(titles)["ts"] >= released).all(), name


def test_views_and_impressions_are_consistent(small_world):
    t = small_world.tables
    views = t["viewing_events"].merge(t["titles"][["title_id", "runtime_min"]])
    imps = t["impressions"]

    assert views["completion"].between(0.01, 1.0).all() and views["rating"].isna().all()
    np.testing.assert_allclose(
        views["seconds_watched"], views["completion"] * views["runtime_min"] * 60, atol=0.5
    )
    assert (imps.loc[~imps["played"], "completion"] == 0).all()
    assert imps.loc[imps["played"], "completion"].between(0.01, 1.0).all()
    assert imps["propensity"].between(0, 1, inclusive="right").all()
    # Each played impression has its view a few seconds later; search views come on top.
    assert imps["played"].sum() < len(views)
    played = imps[imps["played"]].merge(
        t["viewing_events"], on=["member_id", "title_id"], suffixes=("", "_view")
    )
    lag = (played["ts_view"] - played["ts"]).dt.total_seconds()
    assert ((lag >= 3) & (lag <= 46)).groupby(played["impression_id"]).any().all()


def test_no_member_plays_a_title_twice_in_a_day(small_world):
    views = small_world.tables["viewing_events"]

    day = views["ts"].dt.floor("D")
    assert not pd.concat([views[["member_id", "title_id"]], day], axis=1).duplicated().any()


def test_every_session_has_48_ordered_chunks(small_world):
    chunks = small_world.tables["delivery_chunks"].merge(
        small_world.tables["playback_sessions"][["session_id", "ts"]],
        on="session_id",
        suffixes=("", "_session"),
    )

    indices = chunks.groupby("session_id")["chunk_index"].agg(list)
    assert all(i == list(range(48)) for i in indices)
    first = chunks[chunks["chunk_index"] == 0]
    assert (first["ts"] == first["ts_session"]).all()
    assert (chunks.groupby("session_id")["ts"].diff().dropna() > pd.Timedelta(0)).all()
    assert set(chunks["bitrate_kbps"]) <= {300, 750, 1200, 1850, 2850, 4300}
    np.testing.assert_allclose(
        chunks["throughput_mbps"], chunks["chunk_bytes"] * 8 / 1e6 / chunks["download_s"]
    )
