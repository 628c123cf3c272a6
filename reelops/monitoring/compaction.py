"""Serving-log compaction: a day's many small prediction-log files rewritten as one.

The prediction log adds one file per flush (every few seconds per service process), so
a busy day holds thousands. :func:`compact_day` reads them all, writes their rows as one
file beside them, checks that the new file holds exactly the rows read (count and a
digest of every row, in order), renames it into place and only then removes the small
files. Before the rename it writes a manifest naming the files the compacted one
replaces and its digest: a crash between the rename and the removals (rows briefly
twice, never none) is finished by the next run, which removes the listed files when
the compacted file's digest is the manifest's, and forgets the manifest otherwise.
Files written while it runs are left for the next run.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from reelops.lake import table_dir

TABLE = "serving_logs"
COMPACTED = "part-0-compacted.parquet"  # sorts before part-<ns>-... of every flush
MANIFEST = ".compaction.json"


class CompactionError(RuntimeError):
    """The compacted file does not hold the rows it was made from; nothing was replaced."""


@dataclass(frozen=True)
class Compaction:
    """What compacting one day did."""

    day: date
    files_before: int
    rows: int
    path: Path | None

    def describe(self) -> str:
        if self.path is None:
            return f"{self.day}: nothing to compact ({self.files_before} file(s))"
        return f"{self.day}: {self.files_before} files -> 1 ({self.rows:,} rows) at {self.path}"


def day_folder(lake_dir: Path, day: date) -> Path:
    return table_dir(lake_dir, TABLE) / f"day={day.isoformat()}"


def day_files(lake_dir: Path, day: date) -> list[Path]:
    """The day's log files, the compacted one first, then flushes in write order."""
    return sorted(day_folder(lake_dir, day).glob("part-*.parquet"))


def _digest(table: pa.Table) -> str:
    """A digest of every row in order (the IPC bytes of the table)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks())
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def compact_day(lake_dir: Path, day: date) -> Compaction:
    """Rewrite the day's prediction-log files as one, losing no row.

    Raises:
        CompactionError: the written file's rows differ from those read (the small
            files are kept and the written file removed).
    """
    _finish_interrupted(lake_dir, day)
    files = day_files(lake_dir, day)
    if len(files) < 2:
        return Compaction(day, len(files), 0, None)
    # Files written before a column existed (``arm``, ``request_id``) get it empty.
    rows = pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")
    folder = day_folder(lake_dir, day)
    tmp = folder / f".{COMPACTED}.{uuid.uuid4().hex}.tmp"
    try:
        pq.write_table(rows, tmp, compression="zstd")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        written = pq.read_table(tmp)
        if written.num_rows != rows.num_rows or _digest(written) != _digest(rows):
            raise CompactionError(
                f"{tmp}: wrote {written.num_rows} rows for {rows.num_rows} read, or their "
                "values differ; the day's files are left as they were"
            )
        manifest = {"replaces": [f.name for f in files if f.name != COMPACTED]}
        manifest["digest"] = _digest(written)
        _write_json(folder / MANIFEST, manifest)
        os.replace(tmp, folder / COMPACTED)
    finally:
        tmp.unlink(missing_ok=True)
    _finish_interrupted(lake_dir, day)
    return Compaction(day, len(files), rows.num_rows, folder / COMPACTED)


def _write_json(path: Path, value: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value))
    os.replace(tmp, path)


def _finish_interrupted(lake_dir: Path, day: date) -> None:
    """Remove the files a compaction replaced, if its compacted file is in place."""
    folder = day_folder(lake_dir, day)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return
    manifest = json.loads(manifest_path.read_text())
    compacted = folder / COMPACTED
    if compacted.is_file() and _digest(pq.read_table(compacted)) == manifest["digest"]:
        for name in manifest["replaces"]:
            (folder / name).unlink(missing_ok=True)
    manifest_path.unlink()


def log_days(lake_dir: Path) -> list[date]:
    """Every day with prediction-log files."""
    root = table_dir(lake_dir, TABLE)
    return sorted(date.fromisoformat(p.name.removeprefix("day=")) for p in root.glob("day=*"))
