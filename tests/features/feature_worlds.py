"""Helpers for the feature-store tests: tiny warehouses per profile and mart look-ups."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from reelops.config import Settings
from reelops.schema import RAW_TABLES

START = datetime(2026, 1, 1)
DAYS = 6
END = START + timedelta(days=DAYS)  # daily rows carry event_timestamp up to END
T1 = datetime(2026, 1, 5)
T2 = END


@dataclass(frozen=True)
class Warehouse:
    """A built warehouse for one source on one profile."""

    settings: Settings
    source: str


def unreachable(settings: Settings) -> str | None:
    """Why the production backends cannot be used, or None when both answer."""
    import psycopg2
    import redis

    try:
        psycopg2.connect(settings.pg_dsn(), connect_timeout=3).close()
    except psycopg2.OperationalError as error:
        return f"PostgreSQL at {settings.pg_host}:{settings.pg_port} unreachable: {error}"
    try:
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        return f"Redis at {settings.redis_url} unreachable: {error}"
    return None


def build_warehouse(settings: Settings) -> Warehouse:
    """Generate a tiny world, land it and build its warehouse.

    On the production profile the world is stored under a source name unique to this
    run, so its PostgreSQL schemas, Feast project and Redis keys clash with nobody's.
    """
    from reelops.ingest import land_interval
    from reelops.sources import read_source_table, write_source
    from reelops.warehouse import build
    from reelops.world.generator import WorldConfig
    from reelops.world.synthetic_source import generate_source

    generate_source(settings, WorldConfig.tiny(days=DAYS))
    source = "world"
    if settings.profile == "production":
        source = f"pytest_feat_{uuid.uuid4().hex[:10]}"
        tables = {t: read_source_table(settings, "world", t).to_pandas() for t in RAW_TABLES}
        write_source(settings, source, "synthetic", tables)
    land_interval(settings, source, START, END)
    build(settings, source)
    return Warehouse(settings, source)


def drop_warehouse(warehouse: Warehouse) -> None:
    """Remove what the warehouse put in PostgreSQL (production only)."""
    if warehouse.settings.profile != "production":
        return
    import psycopg2
    from psycopg2 import sql

    from reelops.warehouse import raw_pg_schema

    settings, source = warehouse.settings, warehouse.source
    conn = psycopg2.connect(settings.pg_dsn())
    try:
        with conn, conn.cursor() as cur:
            for schema in (settings.pg_schema(source), raw_pg_schema(settings, source)):
                cur.execute(
                    sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema))
                )
    finally:
        conn.close()


def mart(warehouse: Warehouse, name: str) -> pd.DataFrame:
    from reelops.warehouse import read_mart

    frame = read_mart(warehouse.settings, warehouse.source, name)
    if "event_timestamp" in frame:
        frame["event_timestamp"] = pd.to_datetime(frame["event_timestamp"])
    return frame


def as_of(
    rows: pd.DataFrame,
    key: str,
    times: pd.Series,
    source: pd.DataFrame,
    ttl: timedelta,
    columns: list[str],
) -> pd.DataFrame:
    """Each row's source values as of its time: the newest row no later, within ttl.

    Computed with pandas alone, independently of Feast. Also returns ``__ts`` (the
    event time of the row used) and ``__next_<column>`` (the value of the next, later
    row for the same key, to find rows where the value changes after the label).
    """
    stamps = pd.to_datetime(times).to_numpy().astype("datetime64[ns]")
    left = pd.DataFrame({key: rows[key].to_numpy(), "__t": stamps})
    left["__i"] = np.arange(len(left))
    right = source[[key, "event_timestamp", *columns]].sort_values("event_timestamp")
    right = right.rename(columns={"event_timestamp": "__ts"})
    right["__ts"] = right["__ts"].astype("datetime64[ns]")
    nxt = right.groupby(key)[columns].shift(-1).add_prefix("__next_")
    right = pd.concat([right, nxt], axis=1)
    merged = pd.merge_asof(
        left.sort_values("__t"),
        right,
        left_on="__t",
        right_on="__ts",
        by=key,
        direction="backward",
        tolerance=pd.Timedelta(ttl) if ttl else None,
    )
    return merged.sort_values("__i").reset_index(drop=True)


def same(a, b) -> np.ndarray:
    """Element-wise equality where NaN/None equals NaN/None (numbers compared exactly)."""
    a = pd.Series(a, dtype="object").reset_index(drop=True)
    b = pd.Series(b, dtype="object").reset_index(drop=True)
    both_missing = a.isna().to_numpy() & b.isna().to_numpy()
    equal = []
    for x, y in zip(a, b, strict=True):
        if isinstance(x, (int, float, np.number)) and isinstance(y, (int, float, np.number)):
            equal.append(bool(np.isclose(float(x), float(y), rtol=1e-12, atol=0)))
        else:
            equal.append(x == y)
    return both_missing | np.array(equal, dtype=bool)
