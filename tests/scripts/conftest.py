"""Fixtures: the hand-written Fountain screenplay and short play of tests/scripts/fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def fountain_file() -> Path:
    return FIXTURES / "night_shift.fountain"


@pytest.fixture
def play_file() -> Path:
    return FIXTURES / "short_play.txt"
