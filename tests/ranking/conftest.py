"""The tiny synthetic world as ranking inputs (member_id renamed member_key), and its split."""

from __future__ import annotations

import pandas as pd
import pytest

from reelops.ranking.split import TemporalSplit, temporal_split
from reelops.world import World, WorldConfig, generate_world


@pytest.fixture(scope="session")
def tiny_world() -> World:
    return generate_world(WorldConfig.tiny())


@pytest.fixture(scope="session")
def interactions(tiny_world) -> pd.DataFrame:
    return tiny_world.tables["viewing_events"].rename(columns={"member_id": "member_key"})


@pytest.fixture(scope="session")
def titles(tiny_world) -> pd.DataFrame:
    return tiny_world.tables["titles"]


@pytest.fixture(scope="session")
def members(tiny_world) -> pd.DataFrame:
    return tiny_world.tables["members"].rename(columns={"member_id": "member_key"})


@pytest.fixture(scope="session")
def tastes(tiny_world) -> pd.DataFrame:
    return tiny_world.truth["member_tastes"].rename(columns={"member_id": "member_key"})


@pytest.fixture(scope="session")
def split(interactions) -> TemporalSplit:
    return temporal_split(interactions, test_share=0.2)
