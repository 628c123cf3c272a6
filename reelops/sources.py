"""Sources: the upstream data the platform ingests (synthetic world, imports), one active."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from reelops.config import Settings
from reelops.schema import RAW_TABLES

ACTIVE_FILE = "ACTIVE"
META_FILE = "source.json"
HOLDOUT_DIR = "holdout"
HOLDOUT_TRACES_FILE = "traces.parquet"
HOLDOUT_SEGMENTS_FILE = "segments.parquet"
HOLDOUT_META_FILE = "holdout.json"
HOLDOUT_SEGMENT_COLUMNS = ("trace_id", "split", "country", "connection", "device")


class SourceError(ValueError):
    """A source is missing or its tables do not match the raw-table contract."""


@dataclass(frozen=True)
class SourceInfo:
    """What a stored source holds."""

    name: str
    kind: str
    first_ts: datetime | None
    last_ts: datetime | None
    rows: dict[str, int]
    path: Path
    generation: str | None = None  # new on every write: derived stores compare it


@dataclass(frozen=True, eq=False)
class PublishedHoldout:
    """Evaluation traces a source publishes beside its raw tables, never trained on.

    Attributes:
        traces: One row per trace sample: ``trace_id``, ``time_s``, ``mbps`` (see
            :func:`reelops.abr.traces.traces_to_frame`).
        segments: One row per trace, in the order to evaluate them: the columns of
            :data:`HOLDOUT_SEGMENT_COLUMNS` (``split`` is validation or test).
        meta: How the traces were made (seed, traces per segment, ...).
    """

    traces: pd.DataFrame
    segments: pd.DataFrame
    meta: dict

    def write(self, folder: Path) -> Path:
        """Write the three files into ``folder``."""
        missing = [c for c in HOLDOUT_SEGMENT_COLUMNS if c not in self.segments.columns]
        if missing:
            raise SourceError(f"hold-out segments lack column(s) {missing}")
        folder.mkdir(parents=True, exist_ok=True)
        self.traces.to_parquet(folder / HOLDOUT_TRACES_FILE, index=False)
        self.segments.to_parquet(folder / HOLDOUT_SEGMENTS_FILE, index=False)
        (folder / HOLDOUT_META_FILE).write_text(json.dumps(self.meta, indent=2) + "\n")
        return folder

    @classmethod
    def read(cls, folder: Path) -> PublishedHoldout:
        """Read what :meth:`write` wrote.

        Raises:
            FileNotFoundError: A file is missing.
        """
        for name in (HOLDOUT_TRACES_FILE, HOLDOUT_SEGMENTS_FILE, HOLDOUT_META_FILE):
            if not (folder / name).is_file():
                raise FileNotFoundError(
                    f"{folder / name}: not found; expected a saved hold-out folder"
                )
        return cls(
            pd.read_parquet(folder / HOLDOUT_TRACES_FILE),
            pd.read_parquet(folder / HOLDOUT_SEGMENTS_FILE),
            json.loads((folder / HOLDOUT_META_FILE).read_text()),
        )


def to_arrow(table: str, frame: pd.DataFrame) -> pa.Table:
    """Check ``frame`` against the contract of raw table ``table`` and convert it.

    Raises:
        SourceError: naming the table and the missing, extra or mistyped column.
    """
    schema = RAW_TABLES[table].schema
    missing = [c for c in schema.names if c not in frame.columns]
    extra = [c for c in frame.columns if c not in schema.names]
    if missing or extra:
        raise SourceError(
            f"table {table!r}: columns do not match the contract "
            f"(missing: {missing or 'none'}, unexpected: {extra or 'none'})"
        )
    arrays = []
    for field in schema:
        try:
            arrays.append(pa.array(frame[field.name], type=field.type, from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            raise SourceError(
                f"table {table!r}, column {field.name!r}: expected {field.type}, {exc}"
            ) from exc
    return pa.Table.from_arrays(arrays, schema=schema)


def source_dir(settings: Settings, name: str) -> Path:
    return settings.sources_dir / name


def write_source(
    settings: Settings,
    name: str,
    kind: str,
    tables: dict[str, pd.DataFrame],
    extras: dict[str, pd.DataFrame] | None = None,
    holdout: PublishedHoldout | None = None,
) -> SourceInfo:
    """Store a complete source atomically and make it the active one.

    Every raw table of the contract is validated first; a table the source lacks is
    stored empty. ``extras`` (such as the world's hidden ground truth) are kept in a
    ``truth/`` folder apart from the raw tables; ``holdout`` (evaluation traces the
    source publishes, such as the world's) in a ``holdout/`` folder. Either the whole
    source is replaced or, on any error, the previous one is left exactly as it was.
    """
    unknown = set(tables) - set(RAW_TABLES)
    if unknown:
        raise SourceError(f"unknown raw tables {sorted(unknown)}; expected {sorted(RAW_TABLES)}")
    converted = {
        t: to_arrow(t, tables[t]) if t in tables else RAW_TABLES[t].schema.empty_table()
        for t in RAW_TABLES
    }
    _owner_only_dir(settings.sources_dir)
    final = source_dir(settings, name)
    tmp = settings.sources_dir / f".{name}.{uuid.uuid4().hex}.tmp"
    old = settings.sources_dir / f".{name}.{uuid.uuid4().hex}.old"
    try:
        tmp.mkdir()
        for table, data in converted.items():
            pq.write_table(data, tmp / f"{table}.parquet", compression="zstd")
        if extras:
            (tmp / "truth").mkdir()
            for extra, frame in extras.items():
                frame.to_parquet(tmp / "truth" / f"{extra}.parquet", index=False)
        if holdout is not None:
            holdout.write(tmp / HOLDOUT_DIR)
        ts = [c.column("ts") for c in converted.values() if "ts" in c.column_names]
        ts = [x for x in ts if len(x)]
        first = min(pc.min(x).as_py() for x in ts) if ts else None
        last = max(pc.max(x).as_py() for x in ts) if ts else None
        meta = {
            "name": name,
            "kind": kind,
            "first_ts": first.isoformat() if first else None,
            "last_ts": last.isoformat() if last else None,
            "rows": {t: d.num_rows for t, d in converted.items()},
            "generation": uuid.uuid4().hex,
        }
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2))
        _owner_only_tree(tmp)
        replacing = final.exists()
        if replacing:
            final.rename(old)
        tmp.rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    if replacing:
        reset_derived(settings, name)
    set_active(settings, name)
    return source_info(settings, name)


def append_events(settings: Settings, name: str, tables: dict[str, pd.DataFrame]) -> SourceInfo:
    """Append later events to a stored source, keeping what it held byte for byte.

    For sources that grow (the live world's traffic): each event table gets the new
    rows after its old ones; snapshot tables and the hidden truth are kept. The
    source keeps its ``generation``, so derived stores (the lake's earlier days, the
    Feast project) stay valid and the next ``pipeline run`` lands only the new days.
    Each table is written beside its file and renamed over it, the metadata last.

    Raises:
        SourceError: a table is not an event table, or does not match the contract.
    """
    folder = source_dir(settings, name)
    meta = json.loads((folder / META_FILE).read_text())
    for table in tables:
        if table not in RAW_TABLES or RAW_TABLES[table].kind != "event":
            raise SourceError(f"only event tables can be appended, got {table!r}")
    written = {}
    for table, frame in tables.items():
        old = pq.read_table(folder / f"{table}.parquet")
        data = pa.concat_tables([old, to_arrow(table, frame)])
        tmp = folder / f".{table}.{uuid.uuid4().hex}.tmp"
        pq.write_table(data, tmp, compression="zstd")
        os.chmod(tmp, 0o600)
        written[table] = (tmp, data)
    for table, (tmp, data) in written.items():
        os.replace(tmp, folder / f"{table}.parquet")
        meta["rows"][table] = data.num_rows
        if data.num_rows:
            last = pc.max(data["ts"]).as_py()
            if meta["last_ts"] is None or last > datetime.fromisoformat(meta["last_ts"]):
                meta["last_ts"] = last.isoformat()
    tmp_meta = folder / f".{META_FILE}.tmp"
    tmp_meta.write_text(json.dumps(meta, indent=2))
    os.chmod(tmp_meta, 0o600)
    os.replace(tmp_meta, folder / META_FILE)
    return source_info(settings, name)


def _owner_only_dir(folder: Path) -> None:
    # Raw sources hold raw member ids: only the owner may list or read them.
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)


def _owner_only_tree(folder: Path) -> None:
    os.chmod(folder, 0o700)
    for path in folder.rglob("*"):
        os.chmod(path, 0o700 if path.is_dir() else 0o600)


def reset_derived(settings: Settings, name: str) -> None:
    """Drop everything derived from a source that was just replaced.

    Day partitions and marts of the old version would otherwise mix with the new one (a
    regenerated world reuses event ids). All of it is rebuilt from the new source by the
    next pipeline run; the source itself is never touched here. The Feast project is
    reset by the feature store itself the next time it opens the source, because the
    source's ``generation`` no longer matches the one it was built from (see
    :func:`reelops.features.store.open_store`).
    """
    for folder in (
        settings.lake_dir(name),
        settings.warehouse_dir / name,
        settings.home / "dbt" / name,
    ):
        shutil.rmtree(folder, ignore_errors=True)


def source_info(settings: Settings, name: str) -> SourceInfo:
    path = source_dir(settings, name)
    meta_path = path / META_FILE
    if not meta_path.exists():
        raise SourceError(f"no source named {name!r} under {settings.sources_dir}")
    meta = json.loads(meta_path.read_text())
    parse = lambda v: datetime.fromisoformat(v) if v else None  # noqa: E731
    return SourceInfo(
        name=meta["name"],
        kind=meta["kind"],
        first_ts=parse(meta["first_ts"]),
        last_ts=parse(meta["last_ts"]),
        rows=meta["rows"],
        path=path,
        generation=meta.get("generation"),
    )


def set_active(settings: Settings, name: str) -> None:
    marker = settings.sources_dir / ACTIVE_FILE
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(name + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, marker)


def active_source(settings: Settings) -> str:
    """Name of the source the daily DAG lands from.

    Raises:
        SourceError: when there is none yet, saying how to create one.
    """
    marker = settings.sources_dir / ACTIVE_FILE
    if not marker.exists():
        raise SourceError(
            f"no data source in {settings.sources_dir}: run `reelops world generate` "
            "or `reelops import movielens DIR` first"
        )
    return marker.read_text().strip()


def read_source_table(
    settings: Settings,
    name: str,
    table: str,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pa.Table:
    """One raw table of a source, restricted to ``start <= ts < end`` for event tables."""
    data = pq.read_table(source_dir(settings, name) / f"{table}.parquet")
    if RAW_TABLES[table].kind == "event" and (start or end):
        mask = pc.and_(
            pc.greater_equal(data["ts"], pa.scalar(start or datetime.min, data["ts"].type)),
            pc.less(data["ts"], pa.scalar(end or datetime.max, data["ts"].type)),
        )
        data = data.filter(mask)
    return data


def read_holdout(settings: Settings, name: str) -> PublishedHoldout | None:
    """The hold-out traces source ``name`` publishes, or None if it publishes none."""
    folder = source_dir(settings, name) / HOLDOUT_DIR
    return PublishedHoldout.read(folder) if folder.is_dir() else None


def read_truth(settings: Settings, name: str, extra: str) -> pd.DataFrame:
    """A piece of a source's hidden ground truth (for tests and evaluation only)."""
    return pd.read_parquet(source_dir(settings, name) / "truth" / f"{extra}.parquet")
