"""Fixtures for the feature-store tests: one tiny warehouse per profile, built once."""

from __future__ import annotations

import pytest
from feature_worlds import Warehouse, build_warehouse, drop_warehouse, unreachable

from reelops.config import Settings

PROFILES = [
    "local",
    pytest.param("production", marks=[pytest.mark.production]),
]


@pytest.fixture(scope="session", params=PROFILES)
def warehouse(request, tmp_path_factory) -> Warehouse:
    """A tiny world's warehouse on each profile (production skipped when unreachable)."""
    from reelops.features.store import teardown

    profile = request.param
    settings = Settings(home=tmp_path_factory.mktemp(f"features_{profile}"), profile=profile)
    if profile == "production":
        reason = unreachable(settings)
        if reason:
            print(reason)
            pytest.skip(reason)
    built = build_warehouse(settings)
    yield built
    teardown(built.settings, built.source)
    drop_warehouse(built)


@pytest.fixture
def repo(warehouse):
    """A freshly opened feature store: definitions applied, nothing materialized.

    The previous test's store is torn down first; the session's finalizer removes the last.
    """
    from reelops.features.store import open_store, teardown

    teardown(warehouse.settings, warehouse.source)
    return open_store(warehouse.settings, warehouse.source)
