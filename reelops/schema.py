"""The raw tables' contract: what every source provides and what lands in the lake.

A *source* (the synthetic world, a MovieLens import) holds these tables with raw
``member_id`` values. Landing them in the lake replaces ``member_id`` by the
pseudonymous ``member_key``; nothing downstream of the lake ever sees a raw id.

``snapshot`` tables are dimensions: each landed interval writes a full snapshot
partition dated by the interval's last day. ``event`` tables are facts: each day
of the interval gets the partition of the events whose ``ts`` falls on that day.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

# One genre vocabulary for every source: MovieLens' own list, so imports map 1:1.
GENRES: tuple[str, ...] = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)

COUNTRIES: tuple[str, ...] = ("US", "GB", "DE", "BR", "IN", "JP", "NG", "NO", "unknown")
AGE_BANDS: tuple[str, ...] = ("<18", "18-24", "25-34", "35-44", "45-54", "55+", "unknown")
PLANS: tuple[str, ...] = ("basic", "standard", "premium", "unknown")
DEVICES: tuple[str, ...] = ("tv", "mobile", "tablet", "web")
CONNECTIONS: tuple[str, ...] = ("fibre", "cable", "dsl", "mobile", "unknown")


@dataclass(frozen=True)
class RawTable:
    """One raw table: its kind and its columns."""

    name: str
    kind: str  # "snapshot" or "event"
    schema: pa.Schema
    key: tuple[str, ...]

    @property
    def has_member(self) -> bool:
        return "member_id" in self.schema.names


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(name, dtype) for name, dtype in fields])


TS = pa.timestamp("us")

RAW_TABLES: dict[str, RawTable] = {
    t.name: t
    for t in (
        RawTable(
            "members",
            "snapshot",
            _schema(
                ("member_id", pa.string()),
                ("signup_date", pa.date32()),
                ("country", pa.string()),
                ("age_band", pa.string()),
                ("gender", pa.string()),  # "F", "M" or "unknown"
                ("plan", pa.string()),
                ("devices", pa.string()),  # comma-separated subset of DEVICES
                ("connection_type", pa.string()),
            ),
            ("member_id",),
        ),
        RawTable(
            "titles",
            "snapshot",
            _schema(
                ("title_id", pa.string()),
                ("name", pa.string()),
                ("genres", pa.string()),  # "|"-separated subset of GENRES
                ("release_year", pa.int32()),
                ("release_date", pa.date32()),
                ("maturity", pa.string()),
                ("runtime_min", pa.int32()),
                ("synopsis", pa.string()),
            ),
            ("title_id",),
        ),
        RawTable(
            "artwork_variants",
            "snapshot",
            _schema(
                ("title_id", pa.string()),
                ("variant_id", pa.string()),
                ("theme", pa.string()),
            ),
            ("title_id", "variant_id"),
        ),
        RawTable(
            "viewing_events",
            "event",
            _schema(
                ("event_id", pa.string()),
                ("member_id", pa.string()),
                ("title_id", pa.string()),
                ("ts", TS),
                ("device", pa.string()),
                ("seconds_watched", pa.int32()),
                ("completion", pa.float64()),  # share of the runtime watched, 0..1
                ("rating", pa.float64()),  # explicit rating if the source has one, else null
            ),
            ("event_id",),
        ),
        RawTable(
            "impressions",
            "event",
            _schema(
                ("impression_id", pa.string()),
                ("member_id", pa.string()),
                ("title_id", pa.string()),
                ("variant_id", pa.string()),
                ("ts", TS),
                ("row_index", pa.int32()),
                ("position", pa.int32()),
                ("propensity", pa.float64()),  # probability the logging policy showed this
                ("played", pa.bool_()),
                ("completion", pa.float64()),  # 0 when not played
            ),
            ("impression_id",),
        ),
        RawTable(
            "playback_sessions",
            "event",
            _schema(
                ("session_id", pa.string()),
                ("member_id", pa.string()),
                ("title_id", pa.string()),
                ("ts", TS),
                ("device", pa.string()),
                ("country", pa.string()),
                ("connection_type", pa.string()),
                ("trace_id", pa.string()),
            ),
            ("session_id",),
        ),
        RawTable(
            "delivery_chunks",
            "event",
            _schema(
                ("session_id", pa.string()),
                ("chunk_index", pa.int32()),
                ("ts", TS),  # when the chunk request was made
                ("level", pa.int32()),
                ("bitrate_kbps", pa.int32()),
                ("chunk_bytes", pa.int64()),
                ("download_s", pa.float64()),
                ("throughput_mbps", pa.float64()),
                ("buffer_s", pa.float64()),  # buffer level when the request was made
                ("rebuffer_s", pa.float64()),
            ),
            ("session_id", "chunk_index"),
        ),
    )
}

# Tables the platform derives itself and writes into a source's lake beside the landed
# ones (never part of a source, never landed from one): dbt reads them like raw tables.
DERIVED_TABLES: dict[str, RawTable] = {
    t.name: t
    for t in (
        RawTable(
            # The Content Genome, long: one row per title per tag, a full snapshot per
            # build (reelops.content.genome.publish_genomes), dated by the build's day.
            "title_genome",
            "snapshot",
            _schema(
                ("title_id", pa.string()),
                ("arc_shape", pa.string()),
                ("tag", pa.string()),
                ("value", pa.float64()),
                ("built_at", TS),
            ),
            ("title_id", "tag"),
        ),
    )
}

LAKE_TABLES: dict[str, RawTable] = {**RAW_TABLES, **DERIVED_TABLES}
"""Every table dbt reads from a source's lake: the landed raw tables and the derived ones."""
