"""Importer for MovieLens onto the raw tables: the 100K layout or the current CSV layout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reelops.config import Settings
from reelops.sources import SourceInfo, write_source
from reelops.world import movielens_100k, movielens_csv
from reelops.world.movielens_format import ImportFormatError

SOURCE = "movielens"
LAYOUTS = {"100k": movielens_100k.FILES, "csv": movielens_csv.FILES}


@dataclass(frozen=True)
class MovieLensFolder:
    """A parsed MovieLens folder.

    Attributes:
        layout: ``100k`` (u.data, u.item, u.user) or ``csv`` (ratings.csv, movies.csv).
        tables: The raw tables: members, titles, viewing_events.
        notes: What the user should know about the mapping (genres dropped, no
            demographics...).
    """

    layout: str
    tables: dict[str, pd.DataFrame]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class MovieLensImport:
    """What an import stored (``info``) and what it had to say (``layout``, ``notes``)."""

    info: SourceInfo
    layout: str
    notes: tuple[str, ...]


def detect_layout(folder: Path) -> str:
    """``100k`` or ``csv``, by the files present.

    Raises:
        ImportFormatError: the folder is missing, holds neither layout, or both.
    """
    if not folder.is_dir():
        raise ImportFormatError(f"{folder}: not a folder (expected u.data, u.item, u.user in it)")
    present = [name for name, files in LAYOUTS.items() if any((folder / f).exists() for f in files)]
    if len(present) == 1:
        return present[0]
    wanted = " or ".join(f"{', '.join(files)} ({name} layout)" for name, files in LAYOUTS.items())
    found = "files of both layouts" if present else "no MovieLens files"
    raise ImportFormatError(f"{folder}: {found}; expected {wanted}")


def load_movielens(folder: Path) -> MovieLensFolder:
    """Parse a MovieLens folder of either layout into raw tables.

    Raises:
        ImportFormatError: for the first malformed line, naming file, line and expectation.
    """
    folder = Path(folder)
    layout = detect_layout(folder)
    if layout == "csv":
        tables, notes = movielens_csv.load_csv(folder)
        return MovieLensFolder(layout, tables, tuple(notes))
    return MovieLensFolder(layout, movielens_100k.load_100k(folder))


def import_movielens(settings: Settings, folder: Path) -> MovieLensImport:
    """Import a MovieLens folder as the active source; nothing is written on error."""
    parsed = load_movielens(folder)
    info = write_source(settings, SOURCE, "movielens", parsed.tables)
    return MovieLensImport(info, parsed.layout, parsed.notes)


__all__ = ["ImportFormatError", "MovieLensImport", "import_movielens", "load_movielens"]
