"""The MovieLens 100K layout: u.user, u.item (19 genre flags), u.data, u.genre when present."""

from __future__ import annotations

from datetime import date, datetime
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

FILES = ("u.data", "u.item", "u.user")
AGE_RANGE = (0, 120)


def _fields(path: Path, line: int, text: str, sep: str, n: int, names: str) -> list[str]:
    parts = text.split(sep) if sep != "ws" else text.split()
    if len(parts) != n:
        shown = "tab" if sep == "\t" else repr(sep) if sep != "ws" else "whitespace"
        raise ImportFormatError(
            f"{path} line {line}: expected {n} {shown}-separated fields ({names}), got {len(parts)}"
        )
    return parts


def _age_band(age: int) -> str:
    for upper, band in ((18, "<18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54")):
        if age < upper:
            return band
    return "55+"


def read_users(path: Path) -> pd.DataFrame:
    """``u.user`` (``id|age|gender|occupation|zip``) as ``member_id, age_band, gender, country``."""
    rows, seen = [], {}
    for line, text in lines(path, "utf-8"):
        uid, age, gender, occupation, zipcode = _fields(
            path, line, text, "|", 5, "id|age|gender|occupation|zip"
        )
        member_id = unique_id(path, line, "user id", uid, seen)
        age_value = integer(path, line, "age", age)
        if not AGE_RANGE[0] <= age_value <= AGE_RANGE[1]:
            raise ImportFormatError(
                f"{path} line {line}: expected an age {AGE_RANGE[0]}..{AGE_RANGE[1]},"
                f" got {age_value}"
            )
        if gender not in ("M", "F"):
            raise ImportFormatError(f"{path} line {line}: expected gender M or F, got {gender!r}")
        rows.append(
            {
                "member_id": member_id,
                "age_band": _age_band(age_value),
                "gender": gender,
                "country": "US" if zipcode.isdigit() else "unknown",
            }
        )
    return pd.DataFrame(rows)


def read_items(path: Path) -> pd.DataFrame:
    """``u.item`` (Latin-1; id, title, release date, video date, URL, 19 flags) as titles."""
    rows, seen = [], {}
    header = "id|title|release date|video release date|IMDb URL|19 genre flags"
    for line, text in lines(path, "latin-1"):
        parts = _fields(path, line, text, "|", 5 + 19, header)
        title_id = unique_id(path, line, "item id", parts[0], seen)
        flags = parts[5:]
        if any(f not in ("0", "1") for f in flags):
            raise ImportFormatError(f"{path} line {line}: expected 19 genre flags of 0 or 1")
        release: date | None = None
        if parts[2]:
            try:
                release = datetime.strptime(parts[2], "%d-%b-%Y").date()
            except ValueError:
                raise ImportFormatError(
                    f"{path} line {line}: expected a release date like 01-Jan-1995, "
                    f"got {parts[2]!r}"
                ) from None
        genres = [g for g, f in zip(GENRES, flags, strict=True) if f == "1"]
        rows.append(title_row(title_id, parts[1], genres, release))
    return pd.DataFrame(rows)


def read_ratings(path: Path, users: set[str], items: set[str]) -> pd.DataFrame:
    """``u.data`` (``user item rating unix_time``, whitespace-separated) as ratings."""
    rows, rated = [], {}
    for line, text in lines(path, "utf-8"):
        user, item, rating, stamp = _fields(path, line, text, "ws", 4, "user item rating unix_time")
        user_id = str(integer(path, line, "user id", user))
        item_id = str(integer(path, line, "item id", item))
        value = integer(path, line, "rating", rating)
        if not 1 <= value <= 5:
            raise ImportFormatError(f"{path} line {line}: expected a rating 1..5, got {value}")
        unix_time = integer(path, line, "unix_time", stamp)
        check_rating_row(path, line, user_id, item_id, unix_time, (users, items, "u.item"), rated)
        rows.append((user_id, item_id, float(value), unix_time))
    return pd.DataFrame(rows, columns=RATING_COLUMNS)


def check_genre_file(path: Path) -> None:
    """``u.genre``, when present, must list the 19 genres in the order the flags use."""
    if not path.exists():
        return
    names = [text.split("|")[0] for _, text in lines(path, "latin-1")]
    if names != list(GENRES):
        raise ImportFormatError(
            f"{path}: expected the 19 MovieLens genres in order {list(GENRES)}, got {names}"
        )


def load_100k(folder: Path) -> dict[str, pd.DataFrame]:
    """Parse a MovieLens 100K folder into raw tables (members, titles, viewing_events).

    Raises:
        ImportFormatError: for the first malformed line, naming file, line and expectation.
    """
    check_genre_file(folder / "u.genre")
    users = read_users(folder / "u.user")
    items = read_items(folder / "u.item")
    ratings = read_ratings(folder / "u.data", set(users.member_id), set(items.title_id))
    if ratings.empty:
        raise ImportFormatError(f"{folder / 'u.data'}: no ratings")
    return raw_tables(users, items, ratings)
