"""What is held about one member: the scan (counts per store) and the export (the rows)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from reelops.config import Settings
from reelops.erasure.base import TABLE_PURPOSES, Found
from reelops.erasure.file_stores import LakeStore
from reelops.erasure.identity import Member
from reelops.erasure.stores import stores
from reelops.registry import Registry

EXPORT_FORMAT = "reelops-member-export/1"


def with_sessions(settings: Settings, member: Member) -> Member:
    """The member with the session ids their playback rows carry in the lake."""
    return member.with_sessions(LakeStore(settings, member.source).sessions(member))


def scan(settings: Settings, member: Member) -> dict[str, list[Found]]:
    """Every store of the member's source, with what it holds about them (empty: nothing)."""
    return {store.name: store.find(member) for store in stores(settings, member.source)}


def scan_summary(found: dict[str, list[Found]]) -> dict[str, int]:
    """Rows found per store (0 for a clean store): what an audit entry records."""
    return {name: sum(f.rows for f in items) for name, items in found.items()}


def activity_span(lake_rows: dict[str, list[dict[str, Any]]]) -> tuple[datetime, datetime] | None:
    times = [
        row["ts"]
        for rows in lake_rows.values()
        for row in rows
        if isinstance(row.get("ts"), datetime)
    ]
    return (min(times), max(times)) if times else None


def trained_on(settings: Settings, source: str, span: tuple[datetime, datetime] | None) -> list:
    """Model versions whose training data interval covers some of the member's activity.

    Models cannot forget a member; they are listed (export, erasure audit) so that an
    operator can retrain and retire them.
    """
    if span is None:
        return []
    first, last = (t.replace(tzinfo=None) for t in span)
    out = []
    for version in Registry(settings).list():
        lineage = version.lineage
        interval = lineage.get("data_interval")
        if lineage.get("source") != source or not interval:
            continue
        start, end = (datetime.fromisoformat(str(v)).replace(tzinfo=None) for v in interval)
        if start <= last and first <= end:
            out.append(
                {
                    "model": version.name,
                    "version": version.version,
                    "stage": version.stage,
                    "source": source,
                    "data_interval": [str(v) for v in interval],
                    "feature_service": lineage.get("feature_service"),
                }
            )
    return out


def export(settings: Settings, member: Member) -> dict[str, Any]:
    """Everything held about one member, by store and table, with purposes and lineage.

    The shape is documented in the README (section *Members' privacy*).
    """
    member = with_sessions(settings, member)
    out_stores = []
    lake_rows: dict[str, list[dict[str, Any]]] = {}
    for store in stores(settings, member.source):
        tables = store.export(member)
        if store.name == "lake":
            lake_rows = tables
        out_stores.append(
            {
                "store": store.name,
                "description": store.description,
                "purposes": list(store.purposes),
                "tables": [
                    {
                        "table": table,
                        "purposes": TABLE_PURPOSES.get(table, list(store.purposes)),
                        "rows": rows,
                    }
                    for table, rows in sorted(tables.items())
                ],
            }
        )
    return {
        "format": EXPORT_FORMAT,
        "member_id": member.member_id,
        "member_key": member.member_key,
        "source": member.source,
        "stores": out_stores,
        "models_trained_on_your_data": trained_on(
            settings, member.source, activity_span(lake_rows)
        ),
    }


def write_export(document: dict[str, Any], out: Path) -> Path:
    """Write an export as JSON (times and other values as strings), owner-only."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2, default=str) + "\n")
    out.chmod(0o600)
    return out


def found_as_dicts(found: dict[str, list[Found]]) -> dict[str, list[dict[str, Any]]]:
    """The scan as plain data (for JSON)."""
    return {name: [asdict(f) for f in items] for name, items in found.items()}
