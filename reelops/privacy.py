"""Members' privacy: keyed pseudonyms at ingestion and the one restricted id -> key map."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
from collections.abc import Iterable
from pathlib import Path

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

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> MemberKeyVault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
