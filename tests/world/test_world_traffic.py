"""The live world: members answer what they were served by the hidden truth."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from reelops.config import Settings
from reelops.sources import append_events, read_source_table, source_info
from reelops.world.generator import WorldConfig, generate_world
from reelops.world.members import COUNTRY_LIST
from reelops.world.synthetic_source import generate_source
from reelops.world.traffic import LiveWorld, parse_change, simulate_day

CONFIG = WorldConfig.tiny(n_members=300, days=7, sessions_per_day=10)
DAY = CONFIG.start.replace(day=CONFIG.start.day + CONFIG.days)


@pytest.fixture(scope="module")
def world():
    return generate_world(CONFIG)


def _live(world) -> LiveWorld:
    return LiveWorld.from_tables(world.tables, world.truth)


def _favourites_or_not(live: LiveWorld, favourite: bool):
    """A recommender that serves each member the titles of their favourite (or least
    liked) genre."""

    def recommend(visit):
        m = int(np.flatnonzero(live.member_ids == visit.member_id)[0])
        genre = np.argmax(live.taste[m]) if favourite else np.argmin(live.taste[m])
        titles = np.flatnonzero((live.genres == genre).any(axis=1))[:18]
        return [str(t) for t in live.title_ids[titles]]

    return recommend


def _constant_level(payload: dict, at: datetime) -> int:
    assert payload["session"] and payload["device"] and payload["country"]
    return 2


def test_members_play_what_fits_their_hidden_taste(world):
    rates = {}
    for favourite in (True, False):
        live = _live(world)
        live.watched.clear()  # no rewatches: the taste alone decides
        day = simulate_day(
            live,
            DAY,
            np.random.default_rng(1),
            _favourites_or_not(live, favourite),
            _constant_level,
            sessions_per_day=10,
        )
        rates[favourite] = day.tables["impressions"]["played"].mean()
        assert day.visits > 50 and day.bitrate_calls == 10 * 47
        assert len(day.tables["delivery_chunks"]) == 10 * 48
    assert rates[True] > 2 * rates[False], rates


def test_taste_shift_network_degradation_and_broken_column(world):
    country = "US"
    changes = [
        parse_change("taste", f"{country}@{DAY}"),
        parse_change("network", f"{country}@{DAY}"),
        parse_change("broken", f"viewing_events.completion:{country}@{DAY}"),
    ]
    out = {}
    for name, applied in (("quiet", []), ("changed", changes)):
        live = _live(world)
        day = simulate_day(
            live,
            DAY,
            np.random.default_rng(2),
            _favourites_or_not(live, True),
            _constant_level,
            changes=applied,
            sessions_per_day=60,
        )
        out[name] = (live, day.tables)
    live, quiet = out["quiet"]
    _, changed = out["changed"]
    ids = set(live.member_ids[live.country == COUNTRY_LIST.index(country)])
    us = lambda t: t["member_id"].isin(ids)  # noqa: E731
    imp_q, imp_c = quiet["impressions"], changed["impressions"]
    # Served their old favourites, shifted members play less; others are untouched.
    assert imp_c[us(imp_c)]["played"].mean() < 0.6 * imp_q[us(imp_q)]["played"].mean()
    assert imp_c[~us(imp_c)]["played"].mean() == pytest.approx(imp_q[~us(imp_q)]["played"].mean())
    views = changed["viewing_events"]
    assert (views[us(views)]["completion"] == 0).all()
    assert (views[~us(views)]["completion"] > 0).all()
    sessions = changed["playback_sessions"]
    chunks = changed["delivery_chunks"].merge(sessions[["session_id", "country"]])
    quiet_chunks = quiet["delivery_chunks"].merge(
        quiet["playback_sessions"][["session_id", "country"]]
    )
    here = chunks[chunks["country"] == country]["throughput_mbps"].mean()
    before = quiet_chunks[quiet_chunks["country"] == country]["throughput_mbps"].mean()
    assert here < 0.6 * before


def test_bad_changes_are_refused():
    with pytest.raises(ValueError, match="country"):
        parse_change("taste", f"XX@{DAY}")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_change("network", "US@tomorrow")
    with pytest.raises(ValueError, match="numeric column"):
        parse_change("broken", f"viewing_events.title_id:US@{DAY}")


def test_appended_days_keep_the_source_and_its_generation(tmp_path, world):
    settings = Settings(home=tmp_path / "home")
    info = generate_source(settings, CONFIG)
    live = _live(world)
    day = simulate_day(
        live, DAY, np.random.default_rng(3), _favourites_or_not(live, True), _constant_level
    )
    after = append_events(settings, "world", day.tables)
    assert after.generation == info.generation
    assert after.last_ts.date() == DAY
    for table, frame in day.tables.items():
        assert after.rows[table] == info.rows[table] + len(frame)
        stored = read_source_table(settings, "world", table, start=datetime(2000, 1, 1))
        assert stored.num_rows == after.rows[table]
    assert source_info(settings, "world").rows == after.rows
