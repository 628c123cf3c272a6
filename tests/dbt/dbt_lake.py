"""A tiny hand-made lake (3 days, 3 members, 3 titles) whose mart values are computed by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from reelops import lake
from reelops.warehouse import lake_schema

DAY1, DAY2, DAY3 = date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)
M1, M2, M3 = "1" * 32, "2" * 32, "3" * 32


def _member(key: str, plan: str, country: str = "US") -> dict:
    return {
        "member_key": key,
        "signup_date": date(2023, 1, 1),
        "country": country,
        "age_band": "25-34",
        "gender": "F",
        "plan": plan,
        "devices": "tv,mobile",
        "connection_type": "fibre",
    }


def _title(title_id: str, genres: str, release_date: date) -> dict:
    return {
        "title_id": title_id,
        "name": f"Title {title_id}",
        "genres": genres,
        "release_year": release_date.year,
        "release_date": release_date,
        "maturity": "PG",
        "runtime_min": 100,
        "synopsis": "",
    }


def _view(event_id: str, member: str, title: str, ts: datetime, seconds: int, completion: float):
    return {
        "event_id": event_id,
        "member_key": member,
        "title_id": title,
        "ts": ts,
        "device": "tv",
        "seconds_watched": seconds,
        "completion": completion,
        "rating": None,
    }


def _impression(impression_id: str, member: str, title: str, variant: str, ts, played, completion):
    return {
        "impression_id": impression_id,
        "member_key": member,
        "title_id": title,
        "variant_id": variant,
        "ts": ts,
        "row_index": 0,
        "position": 1,
        "propensity": 0.5,
        "played": played,
        "completion": completion,
    }


def _session(session_id: str, member: str, title: str, ts, device, country, connection):
    return {
        "session_id": session_id,
        "member_key": member,
        "title_id": title,
        "ts": ts,
        "device": device,
        "country": country,
        "connection_type": connection,
        "trace_id": "trace-1",
    }


def _chunk(session_id: str, index: int, start: datetime, throughput: float, rebuffer: float):
    # 3000 kbit/s for 4 s of video: 1.5 MB per chunk.
    return {
        "session_id": session_id,
        "chunk_index": index,
        "ts": start.replace(second=4 * index),
        "level": 2,
        "bitrate_kbps": 3000,
        "chunk_bytes": 1_500_000,
        "download_s": 12.0 / throughput,
        "throughput_mbps": throughput,
        "buffer_s": 4.0 * index,
        "rebuffer_s": rebuffer,
    }


# Rows per mart of the full lake, counted by hand.
FULL_MART_ROWS = {
    "dim_members": 3,
    "dim_titles": 3,
    "fct_member_daily": 7,  # M1 and M3 from DAY1 (3 days each), M2 from DAY3
    "fct_title_daily": 8,  # t1, t2 over 3 days; t3 from its release on DAY2
    "fct_network_daily": 4,  # US:fibre on 3 days, GB:mobile on DAY3
    "fct_ranking_interactions": 4,
    "fct_viewing_events": 5,
    "fct_delivery_samples": 6,
    "dim_artwork_variants": 4,
    "fct_artwork_impressions": 4,
    "fct_artwork_variant_daily": 11,  # t1's 2 variants and t2's 1 over 3 days, t3's from DAY2
    "fct_member_theme_daily": 7,  # M1 action from DAY1, M1 faces from DAY2, M2's 2 on DAY3
    "dim_title_genome": 0,  # no genome built into this lake: an empty mart, not an error
}

SNAPSHOTS: dict[str, dict[date, list[dict]]] = {
    "members": {
        DAY2: [_member(M1, "basic")],  # an older snapshot: staging must ignore it
        DAY3: [_member(M1, "premium"), _member(M2, "basic", "GB"), _member(M3, "standard")],
    },
    "titles": {
        DAY3: [
            _title("t1", "Action|Comedy", date(2020, 1, 1)),
            _title("t2", "Children's|Sci-Fi", date(2019, 6, 1)),
            _title("t3", "Drama", DAY2),  # released mid-data: its daily rows start on DAY2
        ]
    },
    "artwork_variants": {
        DAY3: [
            {"title_id": "t1", "variant_id": "v1", "theme": "action"},
            {"title_id": "t1", "variant_id": "v2", "theme": "faces"},
            {"title_id": "t2", "variant_id": "v1", "theme": "faces"},
            {"title_id": "t3", "variant_id": "v1", "theme": "moody"},
        ]
    },
}

VIEWS = [
    _view("e1", M1, "t1", datetime(2024, 3, 1, 10), 3600, 0.95),
    _view("e2", M1, "t2", datetime(2024, 3, 2, 20), 1800, 0.5),
    _view("e3", M2, "t3", datetime(2024, 3, 3, 9), 600, 0.1),
    _view("e4", M1, "t1", datetime(2024, 3, 3, 21), 1200, 0.92),
    _view("e5", M3, "t2", datetime(2024, 3, 1, 12), 900, 0.3),
]

IMPRESSIONS = [
    _impression("i1", M1, "t1", "v1", datetime(2024, 3, 1, 9), True, 0.95),
    _impression("i2", M1, "t2", "v1", datetime(2024, 3, 2, 19), True, 0.5),
    _impression("i3", M2, "t3", "v1", datetime(2024, 3, 3, 8), False, 0.0),
    _impression("i4", M2, "t1", "v2", datetime(2024, 3, 3, 8), False, 0.0),
]

S1_START, S2_START = datetime(2024, 3, 1, 10), datetime(2024, 3, 3, 9)
SESSIONS = [
    _session("s1", M1, "t1", S1_START, "tv", "US", "fibre"),
    _session("s2", M2, "t3", S2_START, "mobile", "GB", "mobile"),
]
CHUNKS = [
    _chunk("s1", 0, S1_START, 10.0, 0.0),
    _chunk("s1", 1, S1_START, 20.0, 0.0),
    _chunk("s1", 2, S1_START, 30.0, 1.0),
    _chunk("s1", 3, S1_START, 40.0, 0.0),
    _chunk("s2", 0, S2_START, 2.0, 0.5),
    _chunk("s2", 1, S2_START, 4.0, 0.0),
]


def write_partition(lake_dir: Path, table: str, day: date, rows: list[dict]) -> Path:
    """Write one partition the way landing does, typed by the lake contract (member_key)."""
    return lake.write_partition(
        lake_dir, table, day, pa.Table.from_pylist(rows, schema=lake_schema(table))
    )


def write_events(lake_dir: Path, table: str, rows: list[dict]) -> None:
    for day in sorted({row["ts"].date() for row in rows}):
        write_partition(lake_dir, table, day, [r for r in rows if r["ts"].date() == day])


def write_lake(lake_dir: Path, *, delivery: bool = True) -> None:
    """The hand-made lake; without ``delivery`` it looks like a MovieLens import.

    MovieLens-like: no impressions folder at all, one zero-row playback_sessions
    partition, no delivery_chunks folder.
    """
    for table, partitions in SNAPSHOTS.items():
        for day, rows in partitions.items():
            write_partition(lake_dir, table, day, rows)
    write_events(lake_dir, "viewing_events", VIEWS)
    if delivery:
        write_events(lake_dir, "impressions", IMPRESSIONS)
        write_events(lake_dir, "playback_sessions", SESSIONS)
        write_events(lake_dir, "delivery_chunks", CHUNKS)
    else:
        write_partition(lake_dir, "playback_sessions", DAY3, [])


# The day of the duplicate session written by :func:`write_half_failing_change`.
DUPLICATE_SESSION_DAY = DAY1 + timedelta(days=5)
# The dbt test that fails on it.
HALF_FAILING_TEST = "unique_stg_lake__playback_sessions_session_id"


def write_half_failing_change(lake_dir: Path) -> None:
    """New views (they change fct_viewing_events) and a duplicate session, which fails the
    build halfway: marts that do not depend on sessions are rebuilt before the test fails.
    Deleting the ``playback_sessions`` partition of ``DUPLICATE_SESSION_DAY`` repairs it."""
    write_partition(
        lake_dir,
        "viewing_events",
        DAY1 + timedelta(days=1),
        [*VIEWS[1:2], {**VIEWS[0], "event_id": "e-new", "ts": VIEWS[1]["ts"]}],
    )
    write_partition(
        lake_dir,
        "playback_sessions",
        DUPLICATE_SESSION_DAY,
        [{**SESSIONS[0], "ts": S1_START + timedelta(days=5)}],
    )
