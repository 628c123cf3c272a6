"""Small worlds shared by the world tests; generating one takes well under a second."""

import pytest

from reelops.world import World, WorldConfig, generate_world


@pytest.fixture(scope="session")
def small_config() -> WorldConfig:
    return WorldConfig(n_members=300, n_titles=120, days=7, sessions_per_day=30)


@pytest.fixture(scope="session")
def small_world(small_config) -> World:
    return generate_world(small_config)


@pytest.fixture(scope="session")
def medium_world() -> World:
    """Enough impressions and sessions for behavioural signals to stand out of the noise."""
    return generate_world(WorldConfig(n_members=800, n_titles=200, days=10, sessions_per_day=80))
