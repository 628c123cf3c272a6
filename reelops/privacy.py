"""Members' privacy: keyed pseudonyms at ingestion and the one restricted id -> key map."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from reelops.config import Settings

KEY_FILE = "pseudonym.key"
VAULT_FILE = "member_keys.sqlite"
KEY_HEX_CHARS = 32  # 128 bits of the HMAC: collisions are not a practical concern


def _private_dir(settings: Settings) -> Path:
    folder = settings.private_dir
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def load_key(settings: Settings) -> bytes:
    """The pseudonymization key: ``REELOPS_PSEUDONYM_KEY``, else a local owner-only key file.

    The file is created on first use with mode 0600; it never leaves ``REELOPS_HOME``.
    """
    if settings.pseudonym_key is not None:
        value = settings.pseudonym_key.get_secret_value()
        if len(value) < 16:
            raise ValueError("REELOPS_PSEUDONYM_KEY is too short: use at least 16 characters")
        return value.encode()
    path = _private_dir(settings) / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32))
    return path.read_bytes().strip()


def pseudonym(member_id: str, key: bytes) -> str:
    """The pseudonymous key of one raw member id (HMAC-SHA256, hex)."""
    digest = hmac.new(key, member_id.encode(), hashlib.sha256).hexdigest()
    return digest[:KEY_HEX_CHARS]


def pseudonymize(member_ids: Iterable[str], key: bytes) -> dict[str, str]:
    """Map every distinct raw id to its pseudonym."""
    return {mid: pseudonym(mid, key) for mid in set(member_ids)}


def drop_erased(
    data: pa.Table, keys: dict[str, str], erased: set[str], sessions: set[str]
) -> tuple[pa.Table, dict[str, str]]:
    """A landing's rows and pseudonyms without the members erased before (tombstones).

    Rows keyed by an erased member's raw id are dropped; their session ids are added to
    ``sessions`` and rows of those sessions (per-chunk telemetry, which carries no member
    column) are dropped too, from this table and from those landed after it.

    Returns:
        The remaining rows, and the pseudonyms of the members who remain.
    """
    if "member_id" in data.column_names:
        gone_ids = pa.array([m for m, k in keys.items() if k in erased], pa.string())
        gone = pc.is_in(data.column("member_id"), gone_ids)
        if "session_id" in data.column_names:
            sessions.update(data.filter(gone).column("session_id").to_pylist())
        data = data.filter(pc.invert(gone))
        keys = {m: k for m, k in keys.items() if k not in erased}
    if sessions and "session_id" in data.column_names:
        dropped = pc.is_in(data.column("session_id"), pa.array(sorted(sessions), pa.string()))
        data = data.filter(pc.invert(dropped))
    return data, keys


class MemberKeyVault:
    """The raw id -> pseudonym mapping, kept only under ``REELOPS_HOME/private`` (mode 0600).

    It exists so that a member's data can be found (and later erased) on request; nothing
    else in the platform stores a raw member id.
    """

    def __init__(self, settings: Settings):
        self.path = _private_dir(settings) / VAULT_FILE
        fresh = not self.path.exists()
        self._conn = sqlite3.connect(self.path)
        if fresh:
            os.chmod(self.path, 0o600)
        self._conn.execute(
            "create table if not exists member_keys ("
            " source text not null, member_id text not null, member_key text not null,"
            " primary key (source, member_id))"
        )
        # Erased members, by pseudonym only: landing drops their rows, so re-ingesting an
        # upstream source that still holds them does not bring them back.
        self._conn.execute(
            "create table if not exists tombstones ("
            " source text not null, member_key text not null, primary key (source, member_key))"
        )

    def record(self, source: str, mapping: dict[str, str]) -> None:
        """Remember the pseudonyms of ``source``'s members (idempotent)."""
        with self._conn:
            self._conn.executemany(
                "insert or ignore into member_keys (source, member_id, member_key) values (?,?,?)",
                [(source, mid, key) for mid, key in mapping.items()],
            )

    def key_of(self, source: str, member_id: str) -> str | None:
        """The pseudonym of a raw member id, or None if that member was never ingested."""
        row = self._conn.execute(
            "select member_key from member_keys where source = ? and member_id = ?",
            (source, member_id),
        ).fetchone()
        return row[0] if row else None

    def raw_ids(self, source: str, member_keys: Iterable[str]) -> dict[str, str]:
        """Pseudonym -> raw id for the given keys (for outputs that must use source ids)."""
        keys = list(member_keys)
        out: dict[str, str] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"select member_key, member_id from member_keys "
                f"where source = ? and member_key in ({marks})",
                (source, *chunk),
            )
            out.update(dict(rows.fetchall()))
        return out

    def forget(self, source: str, member_key: str) -> None:
        """Erase one member: a tombstone for their pseudonym, and their raw id mapping removed.

        Idempotent; the tombstone and the removal are one transaction.
        """
        with self._conn:
            self._conn.execute(
                "insert or ignore into tombstones (source, member_key) values (?,?)",
                (source, member_key),
            )
            self._conn.execute(
                "delete from member_keys where source = ? and member_key = ?", (source, member_key)
            )

    def mappings_of(self, source: str, member_key: str) -> int:
        """How many raw-id mappings the vault holds for a pseudonym (0 once erased)."""
        row = self._conn.execute(
            "select count(*) from member_keys where source = ? and member_key = ?",
            (source, member_key),
        ).fetchone()
        return int(row[0])

    def is_erased(self, source: str, member_key: str) -> bool:
        """Whether the member with this pseudonym was erased from ``source``."""
        row = self._conn.execute(
            "select 1 from tombstones where source = ? and member_key = ?", (source, member_key)
        ).fetchone()
        return row is not None

    def erased(self, source: str) -> set[str]:
        """The pseudonyms of every member erased from ``source``."""
        rows = self._conn.execute("select member_key from tombstones where source = ?", (source,))
        return {key for (key,) in rows.fetchall()}

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> MemberKeyVault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
