"""Materialization and online lookups: online equals offline, re-runs, recovery, staleness."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from feature_worlds import START, T1, T2, mart, same

pytestmark = pytest.mark.slow

N_MEMBERS = 6


def _keys(warehouse) -> tuple[list[str], list[str], list[str]]:
    members = sorted(mart(warehouse, "fct_member_daily")["member_key"].unique())
    rng = np.random.default_rng(8)
    members = list(rng.choice(members, size=N_MEMBERS, replace=False))
    titles = sorted(mart(warehouse, "dim_titles")["title_id"])
    networks = sorted(mart(warehouse, "fct_network_daily")["network_key"].unique())
    return members, titles, networks


def _online(repo, members, titles, networks, at: datetime) -> dict:
    """Everything the online store serves for these keys, flattened to (key, feature) -> value."""
    from reelops.features.online import OnlineLookup

    lookup = OnlineLookup(repo)
    out: dict = {}
    for network in networks:
        result = lookup.lookup(members[0], [], network, at)
        for name, value in result.network.values.items():
            out[(network, name)] = value
    for member in members:
        result = lookup.lookup(member, titles, None, at)
        for name, value in result.member.values.items():
            out[(member, name)] = value
        for row in result.titles.to_dict("records"):
            for name, value in row.items():
                if name != "title_id":
                    key = (
                        (member, row["title_id"], name)
                        if "__genre_" in name
                        else (row["title_id"], name)
                    )
                    out[key] = value
    return out


def _offline(repo, members, titles, networks, at: datetime) -> dict:
    """The same keys through Feast's point-in-time join as of ``at``."""
    from reelops.features.training import build_training_set

    pairs = pd.DataFrame(
        [(m, t) for m in members for t in titles], columns=["member_key", "title_id"]
    )
    pairs["event_timestamp"] = at
    ranker = build_training_set(repo.settings, pairs, "ranker_v1", repo=repo)
    nets = pd.DataFrame({"network_key": networks, "event_timestamp": at})
    bitrate = build_training_set(repo.settings, nets, "bitrate_v1", repo=repo)
    out: dict = {}
    for row in ranker.to_dict("records"):
        for name, value in row.items():
            if name.startswith(("member_activity__", "member_genre_affinity__")):
                out[(row["member_key"], name)] = value
            elif name.startswith("member_title_affinity__"):
                out[(row["member_key"], row["title_id"], name)] = value
            elif "__" in name:
                out[(row["title_id"], name)] = value
    for row in bitrate.to_dict("records"):
        for name, value in row.items():
            if name.startswith("network_throughput__"):
                out[(row["network_key"], name)] = value
    return out


def _assert_same(online: dict, offline: dict) -> None:
    served = {k: v for k, v in online.items() if k in offline}
    assert set(served) == set(offline)
    keys = sorted(offline, key=str)
    equal = same([online[k] for k in keys], [offline[k] for k in keys])
    differing = [(k, online[k], offline[k]) for k, ok in zip(keys, equal, strict=True) if not ok]
    assert not differing, differing[:10]
    assert sum(v is not None and v == v for v in served.values()) > 0.5 * len(served)


def _watermarks(repo) -> dict:
    from reelops.features.materialize import watermarks

    return watermarks(repo)


def test_online_equals_offline_after_t1_and_after_an_incremental_run_to_t2(repo, warehouse):
    from reelops.features.materialize import materialize

    members, titles, networks = _keys(warehouse)
    first = materialize(repo.settings, start=START, end=T1, repo=repo)
    assert {v.mode for v in first.views} == {"initial", "full"}
    assert set(_watermarks(repo).values()) == {T1}
    at_t1 = _online(repo, members, titles, networks, T1)
    _assert_same(at_t1, _offline(repo, members, titles, networks, T1))

    second = materialize(repo.settings, start=T1, end=T2, repo=repo)
    modes = {v.view: v.mode for v in second.views}
    assert modes["member_activity"] == "incremental" and modes["title_catalogue"] == "full"
    assert all(v.start == T1 and v.end == T2 for v in second.views if v.mode == "incremental")
    assert set(_watermarks(repo).values()) == {T2}
    at_t2 = _online(repo, members, titles, networks, T2)
    _assert_same(at_t2, _offline(repo, members, titles, networks, T2))
    moved = sum(not same([at_t1[k]], [at_t2[k]])[0] for k in at_t1)
    assert moved > 100  # the incremental run really brought new values


def test_rerunning_an_interval_changes_nothing_and_an_older_one_regresses_nothing(repo, warehouse):
    from reelops.features.materialize import materialize

    members, titles, networks = _keys(warehouse)
    materialize(repo.settings, start=START, end=T1, repo=repo)
    materialize(repo.settings, start=T1, end=T2, repo=repo)
    before = _online(repo, members, titles, networks, T2)
    marks = _watermarks(repo)

    again = materialize(repo.settings, start=T1, end=T2, repo=repo)
    assert {v.mode for v in again.views} == {"refresh", "full"}
    assert _watermarks(repo) == marks
    after = _online(repo, members, titles, networks, T2)
    assert after.keys() == before.keys()
    assert all(same([after[k]], [before[k]])[0] for k in before)

    # A backfill of an earlier day must not put older values back.
    backfill = materialize(repo.settings, start=START + timedelta(days=1), end=T1, repo=repo)
    assert all(v.end == T2 for v in backfill.views)
    assert _watermarks(repo) == marks
    again_after = _online(repo, members, titles, networks, T2)
    assert all(same([again_after[k]], [before[k]])[0] for k in before)


def test_an_interrupted_materialization_keeps_watermarks_honest_and_a_rerun_repairs_it(
    repo, warehouse, monkeypatch
):
    from reelops.features.materialize import materialize

    members, titles, networks = _keys(warehouse)
    materialize(repo.settings, start=START, end=T1, repo=repo)
    online_store = repo.store._get_provider().online_store
    original = type(online_store).online_write_batch
    seen: list[str] = []

    def flaky_write(self, config, table, data, progress):
        seen.append(table.name)
        if len(seen) == 2:
            # Half of the second view's rows reach the store, then the process dies.
            original(self, config, table, data[: len(data) // 2], progress)
            raise ConnectionError("online store went away mid-write")
        return original(self, config, table, data, progress)

    monkeypatch.setattr(type(online_store), "online_write_batch", flaky_write)
    with pytest.raises(ConnectionError):
        materialize(repo.settings, start=T1, end=T2, repo=repo)
    marks = _watermarks(repo)
    assert marks[seen[0]] == T2  # finished before the failure
    assert all(marks[name] == T1 for name in marks if name != seen[0])  # not past unwritten data

    monkeypatch.setattr(type(online_store), "online_write_batch", original)
    rerun = materialize(repo.settings, start=T1, end=T2, repo=repo)
    assert {v.view: v.mode for v in rerun.views}[seen[0]] == "refresh"
    assert set(_watermarks(repo).values()) == {T2}
    _assert_same(
        _online(repo, members, titles, networks, T2),
        _offline(repo, members, titles, networks, T2),
    )


def test_values_older_than_the_ttl_are_served_as_missing(repo, warehouse):
    from reelops.features.materialize import materialize
    from reelops.features.online import MISSING, PRESENT, STALE, OnlineLookup

    members, titles, _ = _keys(warehouse)
    network_days = mart(warehouse, "fct_network_daily")
    networks = list(network_days.loc[network_days["event_timestamp"] == T2, "network_key"])
    materialize(repo.settings, start=START, end=T2, repo=repo)
    lookup = OnlineLookup(repo)

    fresh = lookup.lookup(members[0], titles[:5], networks[0], T2 + timedelta(days=1))
    assert set(fresh.member.status.values()) == {PRESENT}
    assert set(fresh.network.status.values()) == {PRESENT}
    assert (fresh.title_status.drop(columns="title_id") == PRESENT).all().all()

    # Member and title views keep 2 days, the network view 3; the catalogue never expires.
    late = lookup.lookup(members[0], titles[:5], networks[0], T2 + timedelta(days=2, hours=1))
    assert set(late.member.status.values()) == {STALE}
    assert late.member.missing == list(late.member.values)
    assert all(value is None for value in late.member.values.values())
    assert set(late.network.status.values()) == {PRESENT}
    assert (late.title_status["title_popularity__plays_7d"] == STALE).all()
    assert late.titles["title_popularity__plays_7d"].isna().all()
    assert (late.title_status["member_title_affinity__genre_affinity"] == STALE).all()
    assert (late.title_status["title_freshness__hours_since_release"] == PRESENT).all()
    expected_hours = (
        (T2 + timedelta(days=2, hours=1))
        - pd.to_datetime(
            mart(warehouse, "dim_titles").set_index("title_id").loc[titles[:5], "release_date"]
        )
    ).dt.total_seconds().to_numpy() / 3600
    np.testing.assert_allclose(late.titles["title_freshness__hours_since_release"], expected_hours)

    later = lookup.lookup(members[0], [], networks[0], T2 + timedelta(days=3, hours=1))
    assert set(later.network.status.values()) == {STALE}

    unknown = lookup.lookup("0" * 32, ["no-such-title"], "XX:none", T2)
    assert set(unknown.member.status.values()) == {MISSING}
    assert set(unknown.network.status.values()) == {MISSING}
    assert unknown.member.event_times == {"member_activity": None, "member_genre_affinity": None}
    assert (unknown.title_status.drop(columns="title_id") == MISSING).all().all()


def test_lookup_keeps_the_order_and_duplicates_of_the_candidates(repo, warehouse):
    from reelops.features.materialize import materialize
    from reelops.features.online import OnlineLookup

    members, titles, networks = _keys(warehouse)
    materialize(repo.settings, start=START, end=T2, repo=repo)
    asked = [titles[3], titles[1], titles[3], titles[0]]
    result = OnlineLookup(repo).lookup(members[1], asked, None, T2)
    assert list(result.titles["title_id"]) == asked
    assert result.network is None
    first, again = result.titles.iloc[0], result.titles.iloc[2]
    assert same(first.to_numpy(), again.to_numpy()).all()
    frame = result.ranking_frame()
    assert len(frame) == 4
    assert frame["member_activity__views_7d"].nunique() == 1


def test_cached_titles_follow_a_new_materialization(repo, warehouse):
    from reelops.features.materialize import materialize
    from reelops.features.online import OnlineLookup

    members, titles, _ = _keys(warehouse)
    materialize(repo.settings, start=START, end=T1, repo=repo)
    cached = OnlineLookup(repo, revalidate_seconds=0)
    before = cached.lookup(members[0], titles, None, T1).titles
    materialize(repo.settings, start=T1, end=T2, repo=repo)
    after = cached.lookup(members[0], titles, None, T2).titles
    direct = OnlineLookup(repo, cache_titles=False).lookup(members[0], titles, None, T2).titles
    pd.testing.assert_frame_equal(after, direct)
    assert not after["title_popularity__plays_7d"].equals(before["title_popularity__plays_7d"])
