"""One small world with a production ranker and bitrate model, shared by the serving tests.

The world goes through the real pipeline (lake, dbt, Feast materialization); both models
are trained by the same functions their DAGs call and promoted in the registry directly
(the gates have their own tests). The ranker's files are saved twice, so a test can
promote a second version while requests are in flight.

``served_production`` is the same world on the production profile (PostgreSQL database
and Redis database of its own), for tests that need the Redis online store.
"""

from __future__ import annotations

import secrets
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from small_world import END, START, small_world

from reelops.config import PROJECT_ROOT, Settings, get_settings

HERE = Path(__file__).parent
RANKER_SPEC = HERE.parent / "ranking" / "ranker_small.yaml"
BITRATE_SPEC = HERE / "bitrate_small.yaml"


@dataclass(frozen=True)
class Served:
    settings: Settings
    ranker_versions: tuple[str, str]
    bitrate_version: str
    known_member: str  # a raw member id with history


def _train_ranker(settings: Settings) -> str:
    from reelops.ranking import train
    from reelops.specs import load_spec

    spec = load_spec(RANKER_SPEC)
    workdir = train.run_dir(settings, "serving-tests")
    prepared = train.prepare(settings, spec, workdir)
    results = [train.search_point(settings, spec, workdir, prepared["grid"][0], 0)]
    train.train(settings, spec, workdir, results)
    train.evaluate(settings, spec, workdir)
    return train.save_candidate(settings, spec, workdir)["version"]


def _promoted(settings: Settings) -> Served:
    """Both models trained on the world and promoted (the ranker saved twice)."""
    from reelops.bitrate.train import train_candidate
    from reelops.registry import Registry
    from reelops.serving.recommend import example_member

    registry = Registry(settings)
    first = _train_ranker(settings)
    files = registry.files("ranker", first)
    second = registry.save("ranker", files, metrics={}, lineage={"copy_of": first}).version
    registry.promote("ranker", first, actor="pytest", reason="serving tests")
    bitrate = train_candidate(settings, "serving-tests", spec=str(BITRATE_SPEC))["version"]
    registry.promote("bitrate", bitrate, actor="pytest", reason="serving tests")
    return Served(settings, (first, second), bitrate, example_member(settings))


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Served:
    sys.path.insert(0, str(PROJECT_ROOT))  # the thin `serving` folder
    with small_world(tmp_path_factory.mktemp("serving")) as settings:
        yield _promoted(settings)
    sys.path.remove(str(PROJECT_ROOT))
    sys.modules.pop("serving.service", None)


PRODUCTION_REDIS_DB = 11  # no other test writes there; the project's rows are removed after


@pytest.fixture(scope="module")
def served_production(tmp_path_factory) -> Served:
    """The small world on the production profile: a PostgreSQL database of its own
    (dropped after), Redis database 11 (the project's rows removed after).

    `small_world` pins the local profile, so its steps are repeated here with the
    production one (API keys are required there).
    """
    import psycopg2
    import redis

    from reelops.features.materialize import materialize
    from reelops.features.store import teardown
    from reelops.ingest import land_interval
    from reelops.warehouse import build, create_database, drop_database
    from reelops.world.generator import WorldConfig
    from reelops.world.synthetic_source import generate_source

    home = tmp_path_factory.mktemp("serving_production")
    patch = pytest.MonkeyPatch()
    patch.setenv("REELOPS_HOME", str(home))
    patch.setenv("REELOPS_PROFILE", "production")
    patch.setenv("BENTOML_HOME", str(home / "bentoml"))
    patch.setenv("REELOPS_PG_DATABASE", f"reelops_pytest_{uuid.uuid4().hex[:10]}")
    patch.setenv("REELOPS_REDIS_URL", f"redis://127.0.0.1:6379/{PRODUCTION_REDIS_DB}")
    patch.setenv("REELOPS_API_KEYS", secrets.token_urlsafe(24))
    patch.delenv("REELOPS_PSEUDONYM_KEY", raising=False)
    get_settings.cache_clear()
    settings = get_settings()
    try:
        create_database(settings)
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3).ping()
    except (psycopg2.Error, redis.RedisError) as error:
        patch.undo()
        get_settings.cache_clear()
        pytest.skip(f"production backends unreachable: {error}")
    sys.path.insert(0, str(PROJECT_ROOT))
    try:
        generate_source(settings, WorldConfig.tiny(n_members=400, days=10, sessions_per_day=5))
        land_interval(settings, "world", START, END)
        build(settings, "world")
        materialize(settings, start=START, end=END, source="world")
        try:
            yield _promoted(settings)
        finally:
            teardown(settings, "world")
    finally:
        sys.path.remove(str(PROJECT_ROOT))
        sys.modules.pop("serving.service", None)
        drop_database(settings)
        patch.undo()
        get_settings.cache_clear()
