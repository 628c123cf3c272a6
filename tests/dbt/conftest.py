"""Fixtures for the dbt tests: hand-made lakes and their warehouses, built once per session."""

from __future__ import annotations

import pytest
from dbt_lake import write_lake

from reelops.config import Settings
from reelops.warehouse import BuildResult, build


@pytest.fixture(scope="session")
def local_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Local settings whose `full` and `movielens_like` lakes hold the hand-made data."""
    settings = Settings(home=tmp_path_factory.mktemp("reelops"), profile="local")
    write_lake(settings.lake_dir("full"))
    write_lake(settings.lake_dir("movielens_like"), delivery=False)
    return settings


@pytest.fixture(scope="session")
def duckdb_full(local_settings: Settings) -> BuildResult:
    """One DuckDB build of the full lake, shared by every test that reads its marts."""
    return build(local_settings, "full")


@pytest.fixture(scope="session")
def duckdb_movielens_like(local_settings: Settings) -> BuildResult:
    """One DuckDB build of the lake without impressions, sessions or chunks."""
    return build(local_settings, "movielens_like")
