"""The lake: raw tables as parquet, one file per day, each day replaced atomically."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

PART_FILE = "part-0.parquet"


def table_dir(lake_dir: Path, table: str) -> Path:
    """Folder holding every day partition of one raw table."""
    return lake_dir / "raw" / table


def partition_path(lake_dir: Path, table: str, day: date) -> Path:
    """The parquet file that holds one day of one raw table."""
    return table_dir(lake_dir, table) / f"day={day.isoformat()}" / PART_FILE


def write_partition(lake_dir: Path, table: str, day: date, data: pa.Table) -> Path:
    """Replace one day of ``table`` with ``data``.

    The file is written beside its final name and renamed over it, so a reader (or a
    crash) sees either the old partition or the new one, never half of either. Writing
    the same data twice gives byte-identical files.
    """
    final = partition_path(lake_dir, table, day)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{PART_FILE}.{uuid.uuid4().hex}.tmp")
    try:
        pq.write_table(data, tmp, compression="zstd", write_statistics=True)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def delete_partition(lake_dir: Path, table: str, day: date) -> bool:
    """Remove one day of ``table``; returns whether there was one."""
    path = partition_path(lake_dir, table, day)
    if not path.exists():
        return False
    path.unlink()
    path.parent.rmdir()
    return True


def partitions(lake_dir: Path, table: str) -> Iterator[tuple[date, Path]]:
    """Every (day, file) of a raw table, oldest first."""
    root = table_dir(lake_dir, table)
    if not root.exists():
        return
    for folder in sorted(root.glob("day=*")):
        path = folder / PART_FILE
        if path.exists():
            yield date.fromisoformat(folder.name.removeprefix("day=")), path
