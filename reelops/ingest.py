"""Ingestion: land one interval of the active source in the lake, pseudonymized."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from reelops import lake
from reelops.config import Settings
from reelops.privacy import MemberKeyVault, drop_erased, load_key, pseudonymize
from reelops.schema import RAW_TABLES
from reelops.sources import read_source_table


@dataclass
class LandingResult:
    """What one landing wrote: rows and partitions per table."""

    source: str
    start: datetime
    end: datetime
    rows: dict[str, int] = field(default_factory=dict)
    partitions: dict[str, int] = field(default_factory=dict)
    lake_dir: Path | None = None


def days_in(start: datetime, end: datetime) -> list[date]:
    """Calendar days touched by the half-open interval [start, end)."""
    if end <= start:
        raise ValueError(f"interval end {end} must be after its start {start}")
    first, last = start.date(), (end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _pseudonymize_table(data: pa.Table, keys: dict[str, str]) -> pa.Table:
    idx = data.schema.get_field_index("member_id")
    member_keys = pa.array([keys[m] for m in data.column("member_id").to_pylist()], pa.string())
    return data.set_column(idx, pa.field("member_key", pa.string()), member_keys)


def land_interval(settings: Settings, source: str, start: datetime, end: datetime) -> LandingResult:
    """Land ``[start, end)`` of ``source`` in its lake.

    Event tables get one partition per day of the interval (a day with no events loses
    any partition it had), snapshot tables one full snapshot dated by the interval's
    last day. Every partition is replaced atomically, so landing an interval twice
    leaves identical files. Raw member ids are replaced by keyed pseudonyms here and
    recorded only in the private vault.
    """
    days = days_in(start, end)
    lake_dir = settings.lake_dir(source)
    key = load_key(settings)
    result = LandingResult(source=source, start=start, end=end, lake_dir=lake_dir)
    with MemberKeyVault(settings) as vault:
        erased, erased_sessions = vault.erased(source), set()
        for name, spec in RAW_TABLES.items():
            if spec.kind == "snapshot":
                data = read_source_table(settings, source, name)
                data = _snapshot_as_of(name, data, end)
            else:
                data = read_source_table(settings, source, name, start, end)
            keys = {}
            if spec.has_member:
                keys = pseudonymize(data.column("member_id").to_pylist(), key)
            if erased:  # members who asked to be forgotten stay out of the lake
                data, keys = drop_erased(data, keys, erased, erased_sessions)
            if spec.has_member:
                vault.record(source, keys)
                data = _pseudonymize_table(data, keys)
            result.rows[name] = data.num_rows
            if spec.kind == "snapshot":
                lake.write_partition(lake_dir, name, days[-1], data)
                result.partitions[name] = 1
                continue
            day_of = pc.cast(data.column("ts"), pa.date32()) if data.num_rows else None
            written = 0
            for day in days:
                if day_of is None:
                    part = data
                else:
                    part = data.filter(pc.equal(day_of, pa.scalar(day, pa.date32())))
                if part.num_rows:
                    lake.write_partition(lake_dir, name, day, _sorted(name, part))
                    written += 1
                else:
                    lake.delete_partition(lake_dir, name, day)
            result.partitions[name] = written
    return result


def _sorted(name: str, data: pa.Table) -> pa.Table:
    keys = [(k, "ascending") for k in RAW_TABLES[name].key]
    return data.sort_by(keys)


def _snapshot_as_of(name: str, data: pa.Table, end: datetime) -> pa.Table:
    """The dimension as it stood at ``end``: members who had signed up by then."""
    if name == "members" and data.num_rows:
        signed_up = pc.less(data.column("signup_date"), pa.scalar(end.date(), pa.date32()))
        data = data.filter(pc.fill_null(signed_up, True))
    return _sorted(name, data)
