"""One small world with a production ranker and bitrate model, shared by the serving tests.

The world goes through the real pipeline (lake, dbt, Feast materialization); both models
are trained by the same functions their DAGs call and promoted in the registry directly
(the gates have their own tests). The ranker's files are saved twice, so a test can
promote a second version while requests are in flight.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from reelops.config import PROJECT_ROOT, Settings, get_settings

HERE = Path(__file__).parent
RANKER_SPEC = HERE.parent / "ranking" / "ranker_small.yaml"
BITRATE_SPEC = HERE / "bitrate_small.yaml"
START, END = datetime(2026, 1, 1), datetime(2026, 1, 11)


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


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Served:
    from reelops.delivery.train import train_candidate
    from reelops.features.materialize import materialize
    from reelops.ingest import land_interval
    from reelops.registry import Registry
    from reelops.serving.recommend import example_member
    from reelops.warehouse import build
    from reelops.world.generator import WorldConfig
    from reelops.world.synthetic_source import generate_source

    home = tmp_path_factory.mktemp("serving")
    patch = pytest.MonkeyPatch()
    patch.setenv("REELOPS_HOME", str(home))
    patch.setenv("REELOPS_PROFILE", "local")
    patch.setenv("BENTOML_HOME", str(home / "bentoml"))
    patch.delenv("REELOPS_PSEUDONYM_KEY", raising=False)
    patch.delenv("REELOPS_API_KEYS", raising=False)
    patch.syspath_prepend(str(PROJECT_ROOT))  # the thin `serving` folder
    get_settings.cache_clear()
    settings = get_settings()
    generate_source(settings, WorldConfig.tiny(n_members=400, days=10, sessions_per_day=5))
    land_interval(settings, "world", START, END)
    build(settings, "world")
    materialize(settings, start=START, end=END, source="world")

    registry = Registry(settings)
    first = _train_ranker(settings)
    files = registry.files("ranker", first)
    second = registry.save("ranker", files, metrics={}, lineage={"copy_of": first}).version
    registry.promote("ranker", first, actor="pytest", reason="serving tests")
    bitrate = train_candidate(settings, "serving-tests", spec=str(BITRATE_SPEC))["version"]
    registry.promote("bitrate", bitrate, actor="pytest", reason="serving tests")
    yield Served(settings, (first, second), bitrate, example_member(settings))
    patch.undo()
    sys.modules.pop("serving.service", None)
    get_settings.cache_clear()
