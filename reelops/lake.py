"""The lake: raw tables as parquet, one file per day, each day replaced atomically."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

PART_FILE = "part-0.parquet"
# Beside every partition: the SHA-256 of its bytes, so a file damaged after landing
# (disk, copy, hand edit) is refused by name instead of read as absurd values.
CHECKSUM_FILE = "part-0.sha256"


class LakeIntegrityError(RuntimeError):
    """A lake partition does not match the checksum written with it, or has none."""


def table_dir(lake_dir: Path, table: str) -> Path:
    """Folder holding every day partition of one raw table."""
    return lake_dir / "raw" / table


def partition_path(lake_dir: Path, table: str, day: date) -> Path:
    """The parquet file that holds one day of one raw table."""
    return table_dir(lake_dir, table) / f"day={day.isoformat()}" / PART_FILE


def write_partition(lake_dir: Path, table: str, day: date, data: pa.Table) -> Path:
    """Replace one day of ``table`` with ``data``, and its checksum beside it.

    The file is written beside its final name and renamed over it, so a reader (or a
    crash) sees either the old partition or the new one, never half of either. Writing
    the same data twice gives byte-identical files. Both files are complete on disk
    before either is renamed; a crash between the two renames leaves a pair that
    :func:`verify_partition` refuses by name (landing the day again repairs it).
    """
    final = partition_path(lake_dir, table, day)
    final.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    tmp = final.with_name(f".{PART_FILE}.{token}.tmp")
    tmp_sum = final.with_name(f".{CHECKSUM_FILE}.{token}.tmp")
    try:
        pq.write_table(data, tmp, compression="zstd", write_statistics=True)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        with open(tmp_sum, "w") as fh:
            fh.write(f"{file_sha256(tmp)}  {PART_FILE}\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        os.replace(tmp_sum, final.with_name(CHECKSUM_FILE))
    finally:
        tmp.unlink(missing_ok=True)
        tmp_sum.unlink(missing_ok=True)
    return final


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_partition(path: Path) -> None:
    """Check one partition file against the checksum written beside it.

    Raises:
        LakeIntegrityError: The checksum is missing or differs, or another parquet
            file sits in the partition's folder; the message names the file.
    """
    folder = path.parent
    strays = sorted(p.name for p in folder.glob("*.parquet") if p.name != PART_FILE)
    if strays:
        raise LakeIntegrityError(
            f"{folder}: unexpected parquet file(s) {strays} beside {PART_FILE}; the warehouse"
            " would read them too. Remove them, then land the day again."
        )
    checksum = folder / CHECKSUM_FILE
    if not checksum.exists():
        raise LakeIntegrityError(
            f"{path}: no checksum {CHECKSUM_FILE} beside it, so its content cannot be trusted;"
            " land this day again (reelops pipeline run over its interval)"
        )
    expected = next(iter(checksum.read_text().split()), "")
    actual = file_sha256(path)
    if actual != expected:
        raise LakeIntegrityError(
            f"{path}: SHA-256 {actual} differs from {expected or 'an empty checksum'} written"
            f" when it was landed ({checksum}); the file is corrupt. Land this day again"
            " (reelops pipeline run over its interval) or restore it from a backup."
        )


def verify_table(lake_dir: Path, table: str) -> int:
    """Verify every partition of one raw table; returns how many there are.

    Raises:
        LakeIntegrityError: For the first partition that fails :func:`verify_partition`.
    """
    return sum(1 for _ in partitions(lake_dir, table))


def delete_partition(lake_dir: Path, table: str, day: date) -> bool:
    """Remove one day of ``table``; returns whether there was one."""
    path = partition_path(lake_dir, table, day)
    if not path.exists():
        return False
    path.unlink()
    (path.parent / CHECKSUM_FILE).unlink(missing_ok=True)
    path.parent.rmdir()
    return True


def partitions(lake_dir: Path, table: str, *, verify: bool = True) -> Iterator[tuple[date, Path]]:
    """Every (day, file) of a raw table, oldest first, each checked against its checksum.

    Raises:
        LakeIntegrityError: With ``verify``, for a partition whose bytes changed since
            it was landed (see :func:`verify_partition`).
    """
    root = table_dir(lake_dir, table)
    if not root.exists():
        return
    for folder in sorted(root.glob("day=*")):
        path = folder / PART_FILE
        if verify and (path.exists() or any(folder.glob("*.parquet"))):
            verify_partition(path)
        if path.exists():
            yield date.fromisoformat(folder.name.removeprefix("day=")), path
