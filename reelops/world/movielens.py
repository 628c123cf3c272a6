"""Importer for the MovieLens 100K layout (u.data, u.item, u.user) onto the raw tables."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd

from reelops.config import Settings
from reelops.schema import GENRES
from reelops.sources import SourceInfo, write_source

SOURCE = "movielens"
NOMINAL_RUNTIME_MIN = 100  # MovieLens has no runtimes; a rating counts as one full view
AGE_RANGE = (0, 120)
# Ratings outside this window cannot be real (MovieLens began in 1997); the warehouse's
# tests (dbt macro plausible_timestamp) use the same window.
FIRST_UNIX_TIME = 631_152_000  # 1990-01-01
END_UNIX_TIME = 4_102_444_800  # 2100-01-01


class ImportFormatError(ValueError):
    """A file of an import is malformed; the message names the file, line and expectation."""


def _lines(path: Path, encoding: str) -> list[tuple[int, str]]:
    if not path.exists():
        raise ImportFormatError(f"{path}: file not found (a MovieLens 100K folder has it)")
    raw = path.read_bytes()
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise ImportFormatError(
            f"{path} line {line}: expected {encoding} text, found NUL bytes (UTF-16 or binary?)"
        )
    out = []
    for number, chunk in enumerate(raw.split(b"\n"), start=1):
        chunk = chunk.rstrip(b"\r")
        if not chunk.strip():
            continue
        try:
            out.append((number, chunk.decode(encoding)))
        except UnicodeDecodeError as exc:
            raise ImportFormatError(
                f"{path} line {number}: expected {encoding} text, "
                f"byte {chunk[exc.start]:#04x} at column {exc.start + 1} is not"
            ) from exc
    return out


def _int(path: Path, line: int, what: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ImportFormatError(
            f"{path} line {line}: expected an integer {what}, got {value!r}"
        ) from None


def _fields(path: Path, line: int, text: str, sep: str, n: int, names: str) -> list[str]:
    parts = text.split(sep) if sep != "ws" else text.split()
    if len(parts) != n:
        shown = "tab" if sep == "\t" else repr(sep) if sep != "ws" else "whitespace"
        raise ImportFormatError(
            f"{path} line {line}: expected {n} {shown}-separated fields ({names}), got {len(parts)}"
        )
    return parts


def _unique_id(path: Path, line: int, what: str, value: str, seen: dict[str, int]) -> str:
    # A repeated id would import and then fail the warehouse's unique tests.
    ident = str(_int(path, line, what, value))
    if ident in seen:
        raise ImportFormatError(
            f"{path} line {line}: {what} {ident} is already on line {seen[ident]};"
            " ids must be unique"
        )
    seen[ident] = line
    return ident


def _age_band(age: int) -> str:
    for upper, band in ((18, "<18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54")):
        if age < upper:
            return band
    return "55+"


def read_users(path: Path) -> pd.DataFrame:
    rows, seen = [], {}
    for line, text in _lines(path, "utf-8"):
        uid, age, gender, occupation, zipcode = _fields(
            path, line, text, "|", 5, "id|age|gender|occupation|zip"
        )
        member_id = _unique_id(path, line, "user id", uid, seen)
        age_value = _int(path, line, "age", age)
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
    rows, seen = [], {}
    header = "id|title|release date|video release date|IMDb URL|19 genre flags"
    for line, text in _lines(path, "latin-1"):
        parts = _fields(path, line, text, "|", 5 + 19, header)
        title_id = _unique_id(path, line, "item id", parts[0], seen)
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
        genres = [g for g, f in zip(GENRES, flags, strict=True) if f == "1"] or ["unknown"]
        rows.append(
            {
                "title_id": title_id,
                "name": parts[1],
                "genres": "|".join(genres),
                "release_year": release.year if release else None,
                "release_date": release,
                "maturity": "unknown",
                "runtime_min": NOMINAL_RUNTIME_MIN,
                "synopsis": "",
            }
        )
    return pd.DataFrame(rows)


def read_ratings(path: Path, users: set[str], items: set[str]) -> pd.DataFrame:
    rows, rated = [], {}
    for line, text in _lines(path, "utf-8"):
        user, item, rating, stamp = _fields(path, line, text, "ws", 4, "user item rating unix_time")
        user_id = str(_int(path, line, "user id", user))
        item_id = str(_int(path, line, "item id", item))
        value = _int(path, line, "rating", rating)
        if not 1 <= value <= 5:
            raise ImportFormatError(f"{path} line {line}: expected a rating 1..5, got {value}")
        if user_id not in users:
            raise ImportFormatError(f"{path} line {line}: user {user_id} is not in u.user")
        if item_id not in items:
            raise ImportFormatError(f"{path} line {line}: item {item_id} is not in u.item")
        unix_time = _int(path, line, "unix_time", stamp)
        if not FIRST_UNIX_TIME <= unix_time < END_UNIX_TIME:
            raise ImportFormatError(
                f"{path} line {line}: expected a unix_time in seconds from {FIRST_UNIX_TIME}"
                f" (1990-01-01) to before {END_UNIX_TIME} (2100-01-01), got {unix_time}"
            )
        if (user_id, item_id) in rated:
            raise ImportFormatError(
                f"{path} line {line}: user {user_id} rated item {item_id} already on line "
                f"{rated[user_id, item_id]}; a user rates an item once"
            )
        rated[user_id, item_id] = line
        rows.append((user_id, item_id, float(value), unix_time))
    return pd.DataFrame(rows, columns=["member_id", "title_id", "rating", "unix_time"])


def check_genre_file(path: Path) -> None:
    """``u.genre``, when present, must list the 19 genres in the order the flags use."""
    if not path.exists():
        return
    names = [text.split("|")[0] for _, text in _lines(path, "latin-1")]
    if names != list(GENRES):
        raise ImportFormatError(
            f"{path}: expected the 19 MovieLens genres in order {list(GENRES)}, got {names}"
        )


def load_movielens(folder: Path) -> dict[str, pd.DataFrame]:
    """Parse a MovieLens 100K folder into raw tables (members, titles, viewing_events).

    Raises:
        ImportFormatError: for the first malformed line, naming file, line and expectation.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ImportFormatError(f"{folder}: not a folder (expected u.data, u.item, u.user in it)")
    check_genre_file(folder / "u.genre")
    users = read_users(folder / "u.user")
    items = read_items(folder / "u.item")
    ratings = read_ratings(folder / "u.data", set(users.member_id), set(items.title_id))
    if ratings.empty:
        raise ImportFormatError(f"{folder / 'u.data'}: no ratings")
    ratings["ts"] = pd.to_datetime(ratings.unix_time, unit="s").astype("datetime64[us]")
    first_seen = ratings.groupby("member_id").ts.min().dt.date
    members = users.assign(
        signup_date=users.member_id.map(first_seen),
        plan="unknown",
        devices="web",
        connection_type="unknown",
    )
    # Event ids must not embed the raw user id: number the ratings in a stable order.
    ratings = ratings.sort_values(["unix_time", "member_id", "title_id"], ignore_index=True)
    events = pd.DataFrame(
        {
            "event_id": [f"ml-{i:07d}" for i in range(len(ratings))],
            "member_id": ratings.member_id,
            "title_id": ratings.title_id,
            "ts": ratings.ts,
            "device": "web",
            "seconds_watched": NOMINAL_RUNTIME_MIN * 60,
            "completion": 1.0,
            "rating": ratings.rating,
        }
    )
    return {
        "members": members[
            [
                "member_id",
                "signup_date",
                "country",
                "age_band",
                "gender",
                "plan",
                "devices",
                "connection_type",
            ]
        ],
        "titles": items,
        "viewing_events": events,
    }


def import_movielens(settings: Settings, folder: Path) -> SourceInfo:
    """Import a MovieLens 100K folder as the active source; nothing is written on error."""
    return write_source(settings, SOURCE, "movielens", load_movielens(folder))
