"""What both MovieLens layouts share: line reading, checks that name file and line, raw tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

NOMINAL_RUNTIME_MIN = 100  # MovieLens has no runtimes; a rating counts as one full view
# Ratings outside this window cannot be real (MovieLens began in 1997); the warehouse's
# tests (dbt macro plausible_timestamp) use the same window.
FIRST_UNIX_TIME = 631_152_000  # 1990-01-01
END_UNIX_TIME = 4_102_444_800  # 2100-01-01
RATING_COLUMNS = ["member_id", "title_id", "rating", "unix_time"]


class ImportFormatError(ValueError):
    """A file of an import is malformed; the message names the file, line and expectation."""


def lines(path: Path, encoding: str) -> list[tuple[int, str]]:
    """Non-blank lines of ``path`` with their 1-based numbers, decoded line by line.

    Raises:
        ImportFormatError: the file is missing, holds NUL bytes, or a line is not
            ``encoding`` text.
    """
    if not path.exists():
        raise ImportFormatError(f"{path}: file not found (a folder of this layout has it)")
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


def integer(path: Path, line: int, what: str, value: str) -> int:
    """``value`` as an int, or an error naming file, line and what was expected."""
    try:
        return int(value)
    except ValueError:
        raise ImportFormatError(
            f"{path} line {line}: expected an integer {what}, got {value!r}"
        ) from None


def unique_id(path: Path, line: int, what: str, value: str, seen: dict[str, int]) -> str:
    """An integer id as text, refused when already on an earlier line of the file."""
    # A repeated id would import and then fail the warehouse's unique tests.
    ident = str(integer(path, line, what, value))
    if ident in seen:
        raise ImportFormatError(
            f"{path} line {line}: {what} {ident} is already on line {seen[ident]};"
            " ids must be unique"
        )
    seen[ident] = line
    return ident


def check_rating_row(
    path: Path,
    line: int,
    user_id: str,
    item_id: str,
    unix_time: int,
    known: tuple[set[str] | None, set[str], str],
    rated: dict[tuple[str, str], int],
) -> None:
    """The checks every rating passes whatever the layout: known ids, time, one per pair.

    Args:
        known: Known user ids (None when the layout has no user file), known item ids,
            and the name of the item file for the message.
        rated: ``(user, item) -> line`` of the ratings seen so far; updated.
    """
    users, items, item_file = known
    if users is not None and user_id not in users:
        raise ImportFormatError(f"{path} line {line}: user {user_id} is not in u.user")
    if item_id not in items:
        raise ImportFormatError(f"{path} line {line}: item {item_id} is not in {item_file}")
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


def title_row(title_id: str, name: str, genres: list[str], release) -> dict:
    """One ``titles`` row; MovieLens knows no maturity, runtime or synopsis."""
    return {
        "title_id": title_id,
        "name": name,
        "genres": "|".join(genres or ["unknown"]),
        "release_year": release.year if release else None,
        "release_date": release,
        "maturity": "unknown",
        "runtime_min": NOMINAL_RUNTIME_MIN,
        "synopsis": "",
    }


def raw_tables(
    users: pd.DataFrame, titles: pd.DataFrame, ratings: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """The raw tables (members, titles, viewing_events) from parsed users, titles, ratings.

    Args:
        users: ``member_id, age_band, gender, country`` per user.
        titles: The ``titles`` table.
        ratings: :data:`RATING_COLUMNS` per rating; each becomes one completed view.
    """
    ratings = ratings.copy()
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
    columns = ["member_id", "signup_date", "country", "age_band", "gender", "plan", "devices"]
    return {
        "members": members[[*columns, "connection_type"]],
        "titles": titles,
        "viewing_events": events,
    }
