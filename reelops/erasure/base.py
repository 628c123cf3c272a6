"""What every store is: find, export and erase one member; file stores searched file by file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from reelops.config import Settings
from reelops.erasure import matching
from reelops.erasure.identity import Member

# The serving package (a higher layer) writes this table; its files are append-only
# parts, not the lake's one checked file per day, so they are handled on their own.
SERVING_LOGS = "serving_logs"
RECOMMENDATION, DELIVERY, MONITORING = "recommendation", "delivery", "monitoring"
TABLE_PURPOSES = {
    "members": [RECOMMENDATION, DELIVERY, MONITORING],
    "viewing_events": [RECOMMENDATION, MONITORING],
    "impressions": [RECOMMENDATION, MONITORING],
    "playback_sessions": [DELIVERY, MONITORING],
    "delivery_chunks": [DELIVERY],
    SERVING_LOGS: [MONITORING],
}
MEMBER_COLUMNS = ("member_key", "member_id", "session_id")


@dataclass(frozen=True)
class Found:
    """Rows about one member in one table (or file) of one store."""

    store: str
    table: str
    rows: int


class Store:
    """One place that may hold a member's data (subclasses implement the three methods)."""

    name = ""
    purposes: tuple[str, ...] = ()
    description = ""

    def __init__(self, settings: Settings, source: str):
        self.settings = settings
        self.source = source

    def find(self, member: Member) -> list[Found]:
        """Tables holding the member's rows, with counts (empty when none)."""
        raise NotImplementedError

    def export(self, member: Member) -> dict[str, list[dict[str, Any]]]:
        """The member's rows, by table."""
        raise NotImplementedError

    def erase(self, member: Member) -> int:
        """Remove the member's rows; returns how many were removed."""
        raise NotImplementedError


def records(data: pa.Table) -> list[dict[str, Any]]:
    return data.to_pylist()


class FileStore(Store):
    """Parquet, CSV and text files under some folders, searched file by file."""

    suffixes = (".parquet", ".csv", *matching.TEXT_SUFFIXES)
    keep_rows = False  # True: unlink the member's rows in place instead of dropping them

    def roots(self) -> list[Path]:
        raise NotImplementedError

    def files(self) -> Iterator[Path]:
        seen: set[Path] = set()
        for root in self.roots():
            if not root.exists():
                continue
            for path in sorted(root.rglob("*")):
                real = path.resolve()
                if (
                    path.suffix in self.suffixes
                    and path.is_file()
                    and not path.name.startswith(".")
                    and real not in seen
                ):
                    seen.add(real)
                    yield path

    def _label(self, path: Path) -> str:
        for root in self.roots():
            if path.is_relative_to(root):
                return str(path.relative_to(root))
        return str(path)

    def _count(self, path: Path, member: Member) -> int:
        if path.suffix in matching.TEXT_SUFFIXES:
            return matching.text_hits(path, member)
        return matching.matching_rows(matching.read_file(path), member).num_rows

    def find(self, member: Member) -> list[Found]:
        found = []
        for path in self.files():
            n = self._count(path, member)
            if n:
                found.append(Found(self.name, self._label(path), n))
        return found

    def export(self, member: Member) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for path in self.files():
            if path.suffix in matching.TEXT_SUFFIXES:
                hits = matching.text_hits(path, member)
                if hits:
                    out[self._label(path)] = [{"mentions_of_member_key": hits}]
                continue
            rows = matching.matching_rows(matching.read_file(path), member)
            if rows.num_rows:
                out[self._label(path)] = records(rows)
        return out

    def erase(self, member: Member) -> int:
        removed = 0
        for path in self.files():
            if path.suffix in matching.TEXT_SUFFIXES:
                removed += matching.scrub_text(path, member)
                continue
            data = matching.read_file(path)
            change = matching.unlinked if self.keep_rows else matching.without_member
            kept, n = change(data, member)
            if n:
                matching.write_table(path, kept)
                removed += n
        return removed


class Folders(FileStore):
    """A :class:`FileStore` over given folders."""

    def __init__(
        self, settings: Settings, source: str, name: str, folders: list[Path], *, keep_rows: bool
    ):
        super().__init__(settings, source)
        self.name = name
        self._roots = folders
        self.keep_rows = keep_rows

    def roots(self) -> list[Path]:
        return self._roots
