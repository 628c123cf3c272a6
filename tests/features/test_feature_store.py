"""The feature repository: definitions by role, per-profile YAML, apply only when changed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from reelops.config import Settings
from reelops.features.environment import (
    REPO_DIR,
    FeatureStoreError,
    feast_environ,
    project_name,
    redis_connection_string,
)
from reelops.features.materialize import ORIGIN, plan_window

D = datetime(2026, 1, 10)


def test_repository_is_split_by_role_with_one_yaml_per_profile():
    names = {p.name for p in REPO_DIR.iterdir()}
    assert {"entities.py", "data_sources.py", "members.py", "titles.py", "networks.py"} <= names
    assert {"on_demand.py", "feature_services.py", ".feastignore"} <= names
    for profile in ("local", "production"):
        text = (REPO_DIR / profile / "feature_store.yaml").read_text()
        assert "project: ${REELOPS_FEAST_PROJECT}" in text
        # No machine path, host or secret is written in the files, only ${VARIABLES}.
        assert not re.search(r"(/tmp|/home|/work|127\.0\.0\.1|localhost|password: \w)", text)
    python = "".join(p.read_text() for p in REPO_DIR.glob("*.py"))
    assert "/tmp" not in python and "/work" not in python and ".reelops" not in python


def test_environment_points_each_profile_at_its_backends(tmp_path):
    local = feast_environ(Settings(home=tmp_path, profile="local"), "world")
    assert local["REELOPS_FEAST_PROJECT"] == "reelops_world"
    assert local["REELOPS_FEAST_REGISTRY"] == str(tmp_path / "feast/world/registry.db")
    assert local["REELOPS_FEAST_ONLINE_PATH"] == str(tmp_path / "feast/world/online.db")
    assert local["REELOPS_FEAST_MARTS_DIR"] == str(tmp_path / "warehouse/world/marts")

    settings = Settings(
        home=tmp_path, profile="production", pg_password="p@ss:w/rd", pg_host="db.internal"
    )
    prod = feast_environ(settings, "movielens")
    assert prod["REELOPS_FEAST_PG_SCHEMA"] == "reelops_movielens"
    assert prod["REELOPS_FEAST_REGISTRY"].startswith(
        "postgresql+psycopg://postgres:p%40ss%3Aw%2Frd@db.internal:5432/"
    )
    assert prod["REELOPS_FEAST_PG_PASSWORD"] == '"p@ss:w/rd"'
    assert "reelops_movielens.dim_titles" in prod["REELOPS_FEAST_CATALOGUE_QUERY"]


def test_names_and_connection_strings():
    assert project_name("My-Import.2") == "reelops_my_import_2"
    timeout = "socket_connect_timeout=0.5,socket_timeout=0.5,retry=null"
    assert redis_connection_string("redis://127.0.0.1:6379/0") == f"127.0.0.1:6379,db=0,{timeout}"
    assert (
        redis_connection_string("rediss://:s3cret@cache:6380/2")
        == f"cache:6380,db=2,password=s3cret,ssl=true,{timeout}"
    )
    with pytest.raises(FeatureStoreError, match="redis://host:port/db"):
        redis_connection_string("cache:6379")


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_closed_redis_port_fails_one_lookup_within_the_serving_budget():
    import time

    from feast.infra.online_stores.redis import RedisOnlineStore
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    port = _closed_port()
    nodes, params = RedisOnlineStore._parse_connection_string(
        redis_connection_string(f"redis://127.0.0.1:{port}/0")
    )
    client = Redis(host=nodes[0]["host"], port=nodes[0]["port"], **params)  # as Feast does
    started = time.perf_counter()
    with pytest.raises(RedisConnectionError):
        client.get("member:1")
    assert time.perf_counter() - started < 1.0  # was 7.9 s: three hidden retries with backoff


def test_materialize_with_redis_down_fails_with_one_line_naming_the_store(tmp_path):
    from types import SimpleNamespace

    from redis import Redis

    from reelops.features.materialize import materialize

    port = _closed_port()
    settings = Settings(
        home=tmp_path, profile="production", redis_url=f"redis://:s3cret@127.0.0.1:{port}/4"
    )
    client = Redis(port=port, socket_connect_timeout=0.5, retry=None)

    def write_rows(**_window):  # as Feast's Redis online store writes a view's rows
        client.hset("network:US", "throughput_p50_7d", 1.0)

    view = SimpleNamespace(name="network_throughput", online=True, ttl=timedelta(days=7), tags={})
    store = SimpleNamespace(list_feature_views=lambda allow_cache: [], materialize=write_rows)
    repo = SimpleNamespace(
        settings=settings,
        source="world",
        store=store,
        definitions=SimpleNamespace(feature_views=[view]),
    )
    with pytest.raises(FeatureStoreError) as failed:
        materialize(settings, end=D, repo=repo)
    message = str(failed.value)
    assert (
        f"Redis at 127.0.0.1:{port}/4) did not answer while materializing 'network_throughput'"
        in message
    )
    assert "\n" not in message and "s3cret" not in message and "REELOPS_REDIS_URL" in message


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # First run: back to the ttl before the end (older values would be stale anyway).
        ({"ttl": timedelta(days=2), "static": False, "watermark": None, "start": D},
         (D + timedelta(days=-1), D + timedelta(days=1), "initial")),
        ({"ttl": timedelta(0), "static": False, "watermark": None, "start": D},
         (ORIGIN, D + timedelta(days=1), "initial")),
        # The next day: from the watermark.
        ({"ttl": timedelta(days=2), "static": False, "watermark": D, "start": D},
         (D, D + timedelta(days=1), "incremental")),
        # A run after missed days still starts at the watermark.
        ({"ttl": timedelta(days=2), "static": False, "watermark": D - timedelta(days=3),
          "start": D}, (D - timedelta(days=3), D + timedelta(days=1), "incremental")),
        # A re-run of the last interval, and a backfill: refresh up to the watermark.
        ({"ttl": timedelta(days=2), "static": False, "watermark": D + timedelta(days=1),
          "start": D}, (D, D + timedelta(days=1), "refresh")),
        ({"ttl": timedelta(days=2), "static": False, "watermark": D + timedelta(days=9),
          "start": D}, (D, D + timedelta(days=9), "refresh")),
        # Static views: everything, every time.
        ({"ttl": timedelta(0), "static": True, "watermark": D + timedelta(days=9), "start": D},
         (ORIGIN, D + timedelta(days=9), "full")),
    ],
)  # fmt: skip
def test_materialization_windows(kwargs, expected):
    window = plan_window(end=D + timedelta(days=1), **kwargs)
    assert (window.start, window.end, window.mode) == expected


@pytest.mark.slow
def test_definitions_are_applied_once_and_a_changed_view_starts_over(repo, warehouse):
    import dataclasses

    from feast import Field
    from feast.types import Float64

    from reelops.features.materialize import materialize, watermarks
    from reelops.features.store import Definitions, apply_if_changed, open_store

    assert repo.applied
    again = open_store(warehouse.settings, warehouse.source)
    assert not again.applied
    materialize(repo.settings, end=datetime(2026, 1, 5), repo=repo)

    # A new feature in one view: that view is re-created without a watermark, the
    # others keep theirs; the next materialization rewrites it in full.
    views = []
    for view in repo.definitions.feature_views:
        if view.name == "member_activity":
            view = view.__copy__()
            view.features = [*view.features, Field(name="aff_drama", dtype=Float64)]
        views.append(view)
    changed = dataclasses.replace(repo, definitions=Definitions(
        entities=repo.definitions.entities, data_sources=repo.definitions.data_sources,
        feature_views=views, on_demand_views=repo.definitions.on_demand_views,
        services=repo.definitions.services,
    ))  # fmt: skip
    assert apply_if_changed(changed)
    marks = watermarks(repo)
    assert marks["member_activity"] is None
    assert marks["member_genre_affinity"] == datetime(2026, 1, 5)
    assert not apply_if_changed(changed)


def test_feature_service_version_is_stable_and_per_service(tmp_path):
    from reelops.features.store import FeatureRepo, load_definitions
    from reelops.features.versions import feature_service_version

    settings = Settings(home=tmp_path, profile="local")

    def repo():
        return FeatureRepo(settings, "world", None, load_definitions(settings, "world"))

    ranker = feature_service_version(repo(), "ranker_v1")
    assert ranker == feature_service_version(repo(), "ranker_v1")  # fresh load, same hash
    assert ranker != feature_service_version(repo(), "bitrate_v1")
    with pytest.raises(FeatureStoreError, match="ranker_v1"):
        feature_service_version(repo(), "no_such_service")
