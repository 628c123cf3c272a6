"""One small world with a production ranker and bitrate model, shared by the serving tests.

The world goes through the real pipeline (lake, dbt, Feast materialization); both models
are trained by the same functions their DAGs call and promoted in the registry directly
(the gates have their own tests). The ranker's files are saved twice, so a test can
promote a second version while requests are in flight.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from small_world import small_world

from reelops.config import PROJECT_ROOT, Settings

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


def _bridge_moved_feature_service_version() -> None:
    """Training still imports ``feature_service_version`` from ``features.store`` (it moved
    to ``features.versions`` in dd0a4b1); bridge it here until the training code follows.
    """
    import reelops.features.store as store
    from reelops.features.versions import feature_service_version

    if not hasattr(store, "feature_service_version"):
        store.feature_service_version = feature_service_version


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Served:
    from reelops.bitrate.train import train_candidate
    from reelops.registry import Registry
    from reelops.serving.recommend import example_member

    _bridge_moved_feature_service_version()
    sys.path.insert(0, str(PROJECT_ROOT))  # the thin `serving` folder
    with small_world(tmp_path_factory.mktemp("serving")) as settings:
        registry = Registry(settings)
        first = _train_ranker(settings)
        files = registry.files("ranker", first)
        second = registry.save("ranker", files, metrics={}, lineage={"copy_of": first}).version
        registry.promote("ranker", first, actor="pytest", reason="serving tests")
        bitrate = train_candidate(settings, "serving-tests", spec=str(BITRATE_SPEC))["version"]
        registry.promote("bitrate", bitrate, actor="pytest", reason="serving tests")
        yield Served(settings, (first, second), bitrate, example_member(settings))
    sys.path.remove(str(PROJECT_ROOT))
    sys.modules.pop("serving.service", None)
