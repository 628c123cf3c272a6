"""One small world with a production ranker, shared by the privacy tests."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from small_world import small_world

from reelops.config import Settings

SERVING_FIXTURES = Path(__file__).parents[1] / "serving" / "conftest.py"


def _serving_fixtures():
    # The serving tests' own recipes (a conftest is not importable by name: `serving` is
    # also the project's service folder).
    spec = importlib.util.spec_from_file_location("serving_fixtures", SERVING_FIXTURES)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_serving = _serving_fixtures()
served_production = _serving.served_production  # the small world on PostgreSQL and Redis


@dataclass(frozen=True)
class World:
    settings: Settings
    members: list[str]  # raw ids of members with viewing history, most active first


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    from reelops.privacy import MemberKeyVault
    from reelops.registry import Registry
    from reelops.warehouse import read_mart

    with small_world(tmp_path_factory.mktemp("privacy")) as settings:
        version = _serving._train_ranker(settings)
        Registry(settings).promote("ranker", version, actor="pytest", reason="privacy tests")
        views = read_mart(settings, "world", "fct_viewing_events")
        keys = views["member_key"].value_counts().index.tolist()
        with MemberKeyVault(settings) as vault:
            raw = vault.raw_ids("world", keys)
        yield World(settings, [raw[k] for k in keys])
