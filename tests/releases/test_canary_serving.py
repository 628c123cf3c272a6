"""Canary and shadow on the serving skeleton: stable arms, the share, shadow never shown,
version switches under load without a failed request, and what the log records."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime

import canary_world as world
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reelops.quality.release import start_release
from reelops.registry import Registry, in_share
from reelops.serving.prediction_log import PredictionLog, read_logs


@pytest.fixture
def spec(tmp_path):
    return world.write_spec(tmp_path, share=0.2)


@pytest.fixture
def lake_dir(settings):
    return settings.lake_dir("world")


def _production(settings, spec, kind="fair") -> str:
    version = world.save(settings, kind, spec=spec)
    Registry(settings).promote(world.MODEL, version, actor="pytest", reason="first")
    return version


def test_the_share_is_a_stable_hash_of_the_member_and_the_release():
    keys = world.members(20_000)
    first = [in_share("salt-a", k, 0.1) for k in keys]
    assert first == [in_share("salt-a", k, 0.1) for k in keys]  # stable, call after call
    assert abs(sum(first) / len(keys) - 0.1) < 0.01  # binomial sd 0.002: 5 sd of room
    other = [in_share("salt-b", k, 0.1) for k in keys]  # another release, other members
    both = sum(a and b for a, b in zip(first, other, strict=True)) / len(keys)
    assert abs(both - 0.01) < 0.004
    assert not in_share("salt-a", None, 1.0) and not in_share("salt-a", "", 0.5)
    assert all(in_share("salt-a", k, 1.0) for k in keys[:100])


def test_a_member_always_gets_the_same_arm_and_the_canary_serves_its_share(
    settings, spec, lake_dir
):
    production = _production(settings, spec)
    canary = world.save(settings, "good", spec=spec)
    log = PredictionLog(lake_dir, flush_seconds=60)
    endpoint = world.ToyRanker(settings, prediction_log=log, poll_seconds=0)
    started = start_release(settings, world.MODEL, canary, actor="pytest", reason="try it")
    assert started["mode"] == "canary" and started["share"] == 0.2  # from the spec
    assert endpoint.models.refresh()
    release = Registry(settings).live_release(world.MODEL)

    keys = world.members(3000)
    arms: dict[str, set[tuple[str, str]]] = {}
    for _ in range(2):
        for key in random.Random(1).sample(keys, len(keys)):
            answer = endpoint(key)
            arms.setdefault(key, set()).add((answer["arm"], answer["version"]))
    assert all(len(seen) == 1 for seen in arms.values()), "the same member, the same arm"
    on_canary = {k for k, seen in arms.items() if seen == {("canary", canary)}}
    assert on_canary == {k for k in keys if release.includes(k)}
    assert abs(len(on_canary) / len(keys) - 0.2) < 0.03  # sd 0.0073
    assert all(arms[k] == {("production", production)} for k in keys if k not in on_canary)

    log.close()
    rows = read_logs(lake_dir).to_pandas()
    assert len(rows) == 2 * len(keys) and set(rows["arm"]) == {"production", "canary"}
    assert (rows.loc[rows["arm"] == "canary", "model_version"] == canary).all()
    assert (rows.loc[rows["arm"] == "production", "model_version"] == production).all()
    assert rows["request_id"].is_unique
    assert endpoint.info()["release"]["version"] == canary
    endpoint.close()


def test_a_shadow_is_scored_and_logged_for_its_share_and_never_returned(settings, tmp_path):
    spec = world.write_spec(tmp_path, shadow_share=0.5)
    production = _production(settings, spec)
    shadow = world.save(settings, "shuffled", spec=spec)
    lake_dir = settings.lake_dir("world")
    log = PredictionLog(lake_dir, flush_seconds=60)
    endpoint = world.ToyRanker(settings, prediction_log=log, poll_seconds=0)
    start_release(settings, world.MODEL, shadow, actor="pytest", reason="watch", mode="shadow")
    assert endpoint.models.refresh()
    release = Registry(settings).live_release(world.MODEL)
    assert release.mode == "shadow" and Registry(settings).get(world.MODEL, shadow).stage == (
        "shadow"
    )

    keys = world.members(400)
    answers = {key: endpoint(key) for key in keys}
    assert {(a["arm"], a["version"]) for a in answers.values()} == {("production", production)}
    assert all(a["titles"] == world.rank("fair", k) for k, a in answers.items())
    assert endpoint.shadow.drain()
    log.close()

    rows = read_logs(lake_dir).to_pandas()
    served, shadowed = rows[rows["arm"] == "production"], rows[rows["arm"] == "shadow"]
    assert len(served) == len(keys)
    # A full queue skips a shadow call (counted) rather than slow the answers: on a busy
    # machine some are skipped, and every member in the share was either scored or skipped.
    in_share = {k for k in keys if release.includes(k)}
    assert set(shadowed["member_key"]) <= in_share and len(shadowed) >= len(in_share) // 2
    assert len(shadowed) + endpoint.shadow.skipped == len(in_share)
    assert (shadowed["model_version"] == shadow).all() and len(shadowed) == endpoint.shadow.scored
    # Each shadow row pairs with the answered row of its request, and holds its own answer.
    pairs = shadowed.merge(served, on="request_id", suffixes=("_shadow", "_served"))
    assert len(pairs) == len(shadowed)
    assert (pairs["member_key_shadow"] == pairs["member_key_served"]).all()
    assert (pairs["output_shadow"] != pairs["output_served"]).any()

    from reelops.releases.canary import read_shadow, shadow_agreement

    agreement = shadow_agreement(read_shadow(lake_dir, release))
    assert agreement["requests"] == len(shadowed) and agreement["overlap@10"] < 0.5
    endpoint.close()


def test_a_failing_shadow_never_fails_or_slows_a_request(settings, tmp_path):
    spec = world.write_spec(tmp_path)  # a shadow scores every member by default
    production = _production(settings, spec)
    start_release(
        settings, world.MODEL, world.save(settings, "good", spec=spec), actor="pytest",
        reason="watch", mode="shadow",
    )  # fmt: skip

    class Broken(world.ToyRanker):
        def _online(self, request, loaded, member_key):
            if loaded.arm == "shadow":
                raise RuntimeError("the shadow model is broken")
            return super()._online(request, loaded, member_key)

    endpoint = Broken(settings, poll_seconds=0)
    answers = [endpoint(key) for key in world.members(50)]
    assert {a["version"] for a in answers} == {production}
    assert endpoint.shadow.drain() and endpoint.shadow.failed == 50
    endpoint.close()


def test_canary_start_promotion_and_rollback_under_load_never_fail_a_request(
    settings, spec, lake_dir
):
    registry = Registry(settings)
    production = _production(settings, spec)
    log = PredictionLog(lake_dir, flush_seconds=0.2)
    endpoint = world.ToyRanker(settings, prediction_log=log, poll_seconds=0.01)
    keys = world.members(500)
    answers: list[tuple[str, str, str]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def stream(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            key = rng.choice(keys)
            try:
                answer = endpoint(key)
            except BaseException as error:  # pragma: no cover - the assertion reports it
                errors.append(error)
                continue
            answers.append((key, answer["arm"], answer["version"]))

    def wait_for(check, what: str) -> None:
        for _ in range(1000):
            if check():
                return
            threading.Event().wait(0.01)
        raise AssertionError(f"never saw {what}")

    workers = [threading.Thread(target=stream, args=(i,)) for i in range(4)]
    for worker in workers:
        worker.start()
    try:
        wait_for(lambda: len(answers) > 50, "answers")
        canary = world.save(settings, "good", spec=spec)
        start_release(settings, world.MODEL, canary, actor="pytest", reason="canary 1")
        wait_for(
            lambda: answers[-200:] and ("canary" in {a[1] for a in answers[-200:]}), "a canary"
        )
        registry.promote(world.MODEL, canary, actor="pytest", reason="it won")
        wait_for(lambda: {a[2] for a in answers[-100:]} == {canary}, "the promoted canary")
        second = world.save(settings, "shuffled", spec=spec)
        start_release(settings, world.MODEL, second, actor="pytest", reason="canary 2")
        wait_for(lambda: second in {a[2] for a in answers[-200:]}, "the second canary")
        registry.end_release(world.MODEL, "rolled_back", actor="pytest", reason="worse")
        mark = len(answers)
        wait_for(lambda: len(answers) > mark + 50, "answers after the rollback")
        wait_for(lambda: {a[2] for a in answers[-100:]} == {canary}, "production for all")
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    endpoint.close()
    log.close()

    assert not errors, errors[:3]
    releases = registry.releases(world.MODEL)
    for key, arm, version in answers:  # a canary answer only ever reached its share
        if arm == "canary":
            release = next(r for r in releases if r.version == version)
            assert release.includes(key)
        else:
            assert version in (production, canary)
    assert {(a[1], a[2]) for a in answers} >= {
        ("production", production),
        ("canary", canary),
        ("production", canary),
        ("canary", second),
    }
    assert read_logs(lake_dir).num_rows == len(answers), "every answered request is logged"


def test_log_files_written_before_arms_read_back_with_null_arms(settings, lake_dir):
    from reelops.serving.prediction_log import SCHEMA, TABLE, conform

    old_schema = pa.schema([f for f in SCHEMA if f.name not in ("arm", "request_id")])
    folder = lake_dir / "raw" / TABLE / "day=2026-01-01"
    folder.mkdir(parents=True)
    row = {
        "logged_at": datetime(2026, 1, 1, tzinfo=UTC),
        "endpoint": "/recommend",
        "model_name": "ranker",
        "model_version": "v1",
        "member_key": "abc",
        "features": "{}",
        "output": "{}",
        "latency_ms": 1.0,
        "fallback": False,
    }
    pq.write_table(pa.Table.from_pylist([row], schema=old_schema), folder / "part-1-a.parquet")
    table = read_logs(lake_dir)
    assert table.schema == SCHEMA and table.column("arm").to_pylist() == [None]
    assert conform(table).equals(table)
