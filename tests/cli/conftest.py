"""The small world the CLI tests share: land, dbt, Feast, and one version in the registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from small_world import small_world

from reelops.registry import Registry


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> tuple[Path, str]:
    """``(REELOPS_HOME, version)``: a small world and a ranker version saved as training saves it.

    The home's name has a space, so every shell quoting on the way must hold.
    """
    home = tmp_path_factory.mktemp("cli") / "reelops home"
    with small_world(home) as settings:
        files = home.parent / "model"
        files.mkdir()
        (files / "model.json").write_text("{}")
        version = Registry(settings).save("ranker", files, metrics={"ndcg": 0.5}, lineage={})
    return home, version.version
