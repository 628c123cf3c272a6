"""The current MovieLens CSV layout (ml-latest-small style): ratings.csv and movies.csv.

No demographics: members get ``unknown`` country, age band and gender, which the
ranker's segments and the bias gate report as skipped. Genres are mapped onto
:data:`reelops.schema.GENRES` explicitly; the few outside it are dropped and counted.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pandas as pd

from reelops.schema import GENRES
from reelops.world.movielens_format import (
    RATING_COLUMNS,
    ImportFormatError,
    check_rating_row,
    integer,
    lines,
    raw_tables,
    title_row,
    unique_id,
)

FILES = ("ratings.csv", "movies.csv")
RATINGS_HEADER = ("userId", "movieId", "rating", "timestamp")
MOVIES_HEADER = ("movieId", "title", "genres")
NO_GENRES = "(no genres listed)"
# The CSV layout's names for genres of the vocabulary.
GENRE_ALIASES = {"Children": "Children's", NO_GENRES: "unknown"}
# CSV-layout genres with no counterpart in the vocabulary, and why they are dropped.
DROPPED_GENRES = {"IMAX": "a screen format, not a genre"}
RATINGS = {x / 2 for x in range(1, 11)}  # 0.5 to 5.0 stars in half stars
YEAR_SUFFIX = re.compile(r"\((\d{4})\)\s*$")
YEARS = range(1870, 2101)  # the warehouse's plausible release years


def _titles(n: int) -> str:
    return f"{n:,} title" + ("" if n == 1 else "s")


def _rows(path: Path, header: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    """Data rows of a CSV file whose first line is ``header``, with their line numbers."""
    found = lines(path, "utf-8")
    shown = ",".join(header)
    first = found[0][1].lstrip("\ufeff").split(",") if found else []
    if tuple(first) != header:
        raise ImportFormatError(f"{path} line 1: expected the header {shown}, got {first}")
    out = []
    for line, text in found[1:]:
        try:
            # csv only where a field is quoted (titles with commas): ratings are plain.
            fields = next(csv.reader([text], strict=True)) if '"' in text else text.split(",")
        except csv.Error as exc:
            raise ImportFormatError(f"{path} line {line}: malformed CSV ({exc})") from None
        if len(fields) != len(header):
            raise ImportFormatError(
                f"{path} line {line}: expected {len(header)} comma-separated fields ({shown};"
                f" quote a field holding commas), got {len(fields)}"
            )
        out.append((line, fields))
    return out


def read_movies(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """``movies.csv`` as titles, and notes on the genres mapped or dropped.

    The release year is the title's "(YYYY)" suffix; the layout has no release date, so
    it is 1 January of that year (none without a year).
    """
    rows, seen = [], {}
    mapped, dropped, emptied = Counter(), Counter(), 0
    for line, (movie, title, genre_field) in _rows(path, MOVIES_HEADER):
        title_id = unique_id(path, line, "movieId", movie, seen)
        if not genre_field:
            raise ImportFormatError(
                f"{path} line {line}: expected genres like Comedy|Drama or {NO_GENRES}, got ''"
            )
        genres = []
        for name in genre_field.split("|"):
            if name in GENRE_ALIASES:
                mapped[name] += 1
            genre = GENRE_ALIASES.get(name, name)
            if genre in GENRES:
                genres.append(genre)
            else:
                dropped[name] += 1
        emptied += not genres and genre_field != NO_GENRES
        year = YEAR_SUFFIX.search(title)
        # A "(YYYY)" outside the plausible years is part of the title, not a release year.
        release = date(int(year.group(1)), 1, 1) if year and int(year.group(1)) in YEARS else None
        rows.append(title_row(title_id, title, genres, release))
    notes = [
        f"genre {name!r} mapped to {GENRE_ALIASES[name]!r} on {_titles(n)}"
        for name, n in sorted(mapped.items())
    ]
    notes += [
        f"genre {name!r} dropped from {_titles(n)}"
        f" ({DROPPED_GENRES.get(name, 'not in the genre vocabulary')})"
        for name, n in sorted(dropped.items())
    ]
    if emptied:
        notes.append(f"{_titles(emptied)} had only dropped genres: genre 'unknown'")
    return pd.DataFrame(rows), notes


def read_ratings(path: Path, items: set[str]) -> pd.DataFrame:
    """``ratings.csv`` (``userId,movieId,rating,timestamp``; half-star ratings) as ratings."""
    rows, rated = [], {}
    for line, (user, movie, rating, stamp) in _rows(path, RATINGS_HEADER):
        user_id = str(integer(path, line, "userId", user))
        item_id = str(integer(path, line, "movieId", movie))
        try:
            value = float(rating)
        except ValueError:
            value = float("nan")
        if value not in RATINGS:
            raise ImportFormatError(
                f"{path} line {line}: expected a rating 0.5..5.0 in half stars, got {rating!r}"
            )
        unix_time = integer(path, line, "timestamp", stamp)
        check_rating_row(
            path, line, user_id, item_id, unix_time, (None, items, "movies.csv"), rated
        )
        rows.append((user_id, item_id, value, unix_time))
    return pd.DataFrame(rows, columns=RATING_COLUMNS)


def load_csv(folder: Path) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Parse a MovieLens CSV-layout folder into raw tables, with notes for the user.

    Raises:
        ImportFormatError: for the first malformed line, naming file, line and expectation.
    """
    titles, notes = read_movies(folder / "movies.csv")
    ratings = read_ratings(folder / "ratings.csv", set(titles.title_id))
    if ratings.empty:
        raise ImportFormatError(f"{folder / 'ratings.csv'}: no ratings")
    ids = sorted(ratings.member_id.unique(), key=int)
    users = pd.DataFrame(
        {"member_id": ids, "age_band": "unknown", "gender": "unknown", "country": "unknown"}
    )
    notes.insert(
        0,
        "no demographics in the CSV layout: every member's country, age band and gender is"
        " 'unknown', so segment metrics and the bias gate skip those segments",
    )
    return raw_tables(users, titles, ratings), notes
