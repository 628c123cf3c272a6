"""The small seeded world that model and serving tests train on, in a home of its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest

from reelops.config import Settings, get_settings

START, END = datetime(2026, 1, 1), datetime(2026, 1, 11)


@contextmanager
def small_world(home: Path) -> Iterator[Settings]:
    """A 400-member, 10-day world through land, dbt build and materialization.

    ``REELOPS_HOME`` (and BentoML's home) point at ``home`` while the block runs, so
    code that reads the settings itself (the CLI, services) sees this world.
    """
    from reelops.features.materialize import materialize
    from reelops.ingest import land_interval
    from reelops.warehouse import build
    from reelops.world.generator import WorldConfig
    from reelops.world.synthetic_source import generate_source

    patch = pytest.MonkeyPatch()
    patch.setenv("REELOPS_HOME", str(home))
    patch.setenv("REELOPS_PROFILE", "local")
    patch.setenv("BENTOML_HOME", str(home / "bentoml"))
    patch.delenv("REELOPS_PSEUDONYM_KEY", raising=False)
    patch.delenv("REELOPS_API_KEYS", raising=False)
    get_settings.cache_clear()
    try:
        settings = get_settings()
        generate_source(settings, WorldConfig.tiny(n_members=400, days=10, sessions_per_day=5))
        land_interval(settings, "world", START, END)
        build(settings, "world")
        materialize(settings, start=START, end=END, source="world")
        yield settings
    finally:
        patch.undo()
        get_settings.cache_clear()
