"""Feature-store figures for `make bench`: materialization, online lookups, training sets.

* Materialization throughput (entity rows written per second) for the demo world and
  the 10,000-member world, on SQLite (local) and Redis (production): the first run up to
  the day before the last, then one daily incremental run.
* Online lookup latency, p50 and p99, for one member, 500 candidate titles and a network
  context (the request a ranking makes), on SQLite and Redis.
* Point-in-time training-set build time for 1,000,000 labelled impressions (local;
  production for 100,000, its PostgreSQL retrieval being row by row in Python).

The production rows run only when PostgreSQL and Redis answer. The production offline
store reads the marts the local build wrote, copied into a PostgreSQL schema of their
own, so the figures time Feast rather than dbt. Run ``python -m benchmarks.features``.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from reelops.config import Settings
from reelops.features.store import FeatureRepo

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
FEATURE_MARTS = (
    "dim_members",
    "dim_titles",
    "fct_member_daily",
    "fct_title_daily",
    "fct_network_daily",
)
LOOKUP_TITLES = 500
LOOKUP_CALLS = 200
TRAINING_ROWS = {"local": 1_000_000, "production": 100_000}


def _peak_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_world(home: Path, size: str) -> tuple[Settings, datetime, datetime]:
    """Generate a preset world, land all of it and build its warehouse (local profile)."""
    from reelops.ingest import land_interval
    from reelops.warehouse import build
    from reelops.world.generator import WorldConfig
    from reelops.world.synthetic_source import generate_source

    settings = Settings(home=home, profile="local")
    config = {"demo": WorldConfig.demo, "large": WorldConfig.large}[size]()
    generate_source(settings, config)
    start = datetime.combine(config.start, datetime.min.time())
    end = start + timedelta(days=config.days)
    land_interval(settings, "world", start, end)
    build(settings, "world")
    return settings, start, end


def production_copy(local: Settings, home: Path) -> tuple[Settings, str] | None:
    """The local marts in a PostgreSQL schema of their own; None when a server is down."""
    import psycopg2
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    import redis
    from psycopg2 import sql

    settings = Settings(home=home, profile="production")
    try:
        psycopg2.connect(settings.pg_dsn(), connect_timeout=3).close()
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3).ping()
    except (psycopg2.OperationalError, redis.RedisError) as exc:
        _log(f"production rows skipped: {exc}")
        return None
    source = f"bench_{uuid.uuid4().hex[:8]}"
    schema = settings.pg_schema(source)
    types = {"string": "text", "int32": "integer", "int64": "bigint", "double": "double precision",
             "date32[day]": "date", "timestamp[us]": "timestamp", "bool": "boolean"}  # fmt: skip
    conn = psycopg2.connect(settings.pg_dsn())
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
            for mart in FEATURE_MARTS:
                table = pq.read_table(local.marts_dir("world") / f"{mart}.parquet")
                columns = sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(types[str(f.type)]))
                    for f in table.schema
                )
                relation = sql.Identifier(schema, mart)
                cur.execute(sql.SQL("create table {} ({})").format(relation, columns))
                buffer = io.BytesIO()
                pacsv.write_csv(table, buffer)
                buffer.seek(0)
                cur.copy_expert(
                    sql.SQL("copy {} from stdin with (format csv, header true)")
                    .format(relation)
                    .as_string(cur),
                    buffer,
                )
    finally:
        conn.close()
    return settings, source


def drop_production_copy(settings: Settings, source: str) -> None:
    import psycopg2
    from psycopg2 import sql

    from reelops.features.store import teardown

    teardown(settings, source)
    conn = psycopg2.connect(settings.pg_dsn())
    try:
        with conn, conn.cursor() as cur:
            schema = sql.Identifier(settings.pg_schema(source))
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(schema))
    finally:
        conn.close()


def rows_written(local: Settings, repo: FeatureRepo, result) -> tuple[int, int]:
    """Entity rows and feature values a materialization wrote (counted from the marts)."""
    join_keys = {e.name: e.join_key for e in repo.definitions.entities}
    marts = local.marts_dir("world")
    rows = values = 0
    for run in result.views:
        view = repo.feature_view(run.view)
        if view.batch_source.name == "title_catalogue":
            n = pd.read_parquet(marts / "dim_titles.parquet", columns=["title_id"]).shape[0]
        else:
            key = join_keys[view.entities[0]]
            frame = pd.read_parquet(
                marts / f"{view.batch_source.name}.parquet",
                columns=[key, "event_timestamp"],
            )
            inside = frame["event_timestamp"].between(run.start, run.end)
            n = frame.loc[inside, key].nunique()
        rows += n
        values += n * len(view.features)
    return rows, values


def bench_materialization(
    local: Settings, settings: Settings, source: str, size: str, end: datetime
) -> tuple[list[dict], FeatureRepo]:
    from reelops.features.materialize import materialize
    from reelops.features.store import open_store, teardown

    store = "SQLite" if settings.profile == "local" else "Redis"
    teardown(settings, source)
    repo = open_store(settings, source)
    out = []
    day_before = end - timedelta(days=1)
    for label, start, stop in (
        ("first run up to the last day", None, day_before),
        ("one daily incremental run", day_before, end),
    ):
        started = time.perf_counter()
        result = materialize(settings, start=start, end=stop, repo=repo)
        wall = time.perf_counter() - started
        rows, values = rows_written(local, repo, result)
        out.append(
            {
                "step": f"materialize {size} world to {store}: {label} ({rows:,} rows)",
                "wall_s": round(wall, 2),
                "peak_rss_mib": _peak_mib(),
                "rows": rows,
                "rows_per_s": round(rows / wall),
                "values_per_s": round(values / wall),
            }
        )
        _log(out[-1]["step"] + f": {out[-1]['rows_per_s']:,} rows/s")
    return out, repo


def bench_lookup(local: Settings, repo: FeatureRepo, end: datetime) -> list[dict]:
    """p50/p99 of one ranking request's lookup, reading titles every time and cached."""
    from reelops.features.online import OnlineLookup

    store = "SQLite" if repo.settings.profile == "local" else "Redis"
    members = pd.read_parquet(local.marts_dir("world") / "fct_member_daily.parquet")
    member = members.loc[members["event_timestamp"] == members["event_timestamp"].max()]
    member_keys = sorted(member["member_key"])[:LOOKUP_CALLS]
    titles = sorted(pd.read_parquet(local.marts_dir("world") / "dim_titles.parquet")["title_id"])
    titles = titles[:LOOKUP_TITLES]
    network = pd.read_parquet(local.marts_dir("world") / "fct_network_daily.parquet")
    network_key = sorted(network["network_key"].unique())[0]
    request_time = end - timedelta(hours=6)
    rows = []
    for cached, label in ((False, "titles read"), (True, "titles cached")):
        lookup = OnlineLookup(repo, cache_titles=cached)
        for member_key in member_keys[:5]:
            result = lookup.lookup(member_key, titles, network_key, request_time)
        assert not result.member.missing and len(result.titles) == len(titles)
        times = []
        for i in range(LOOKUP_CALLS):
            started = time.perf_counter()
            lookup.lookup(member_keys[i % len(member_keys)], titles, network_key, request_time)
            times.append(time.perf_counter() - started)
        p50, p99 = np.percentile(times, [50, 99]) * 1e6
        rows.append(
            {
                "step": f"lookup 1 member + {len(titles)} titles + network, {store}, {label}",
                "wall_s": round(sum(times), 2),
                "peak_rss_mib": _peak_mib(),
                "p50_us": round(p50),
                "p99_us": round(p99),
            }
        )
        _log(rows[-1]["step"] + f": p50 {p50 / 1000:.1f} ms, p99 {p99 / 1000:.1f} ms")
    return rows


def bench_training(local: Settings, repo: FeatureRepo) -> dict:
    from reelops.features.training import build_training_set

    n = TRAINING_ROWS[repo.settings.profile]
    labels = pd.read_parquet(
        local.marts_dir("world") / "fct_ranking_interactions.parquet",
        columns=["impression_id", "member_key", "title_id", "ts", "label"],
    )
    labels = labels.sample(n=n, replace=n > len(labels), random_state=0)
    started = time.perf_counter()
    frame = build_training_set(repo.settings, labels, "ranker_v1", timestamp_column="ts", repo=repo)
    wall = time.perf_counter() - started
    store = "DuckDB over parquet" if repo.settings.profile == "local" else "PostgreSQL"
    row = {
        "step": f"training set, ranker_v1, {n:,} labels ({store})",
        "wall_s": round(wall, 1),
        "peak_rss_mib": _peak_mib(),
        "rows": len(frame),
        "rows_per_s": round(len(frame) / wall),
    }
    _log(row["step"] + f": {wall:.1f} s")
    return row


def run(work: Path, sizes: tuple[str, ...] = ("demo", "large")) -> list[dict]:
    """Every feature-store figure; writes ``work/features.json``; returns the rows.

    Rows have ``step``, ``wall_s`` and ``peak_rss_mib`` (the process's peak so far);
    materialization and training rows add ``rows_per_s``, lookups ``p50_us``/``p99_us``.
    """
    rows: list[dict] = []
    for size in sizes:
        started = time.perf_counter()
        local, _, end = build_world(Path(work) / f"features-{size}", size)
        _log(f"{size} world built in {time.perf_counter() - started:.0f} s")
        targets = [(local, "world")]
        copy = production_copy(local, Path(work) / f"features-{size}-pg")
        if copy is not None:
            targets.append(copy)
        try:
            for settings, source in targets:
                materialized, repo = bench_materialization(local, settings, source, size, end)
                rows += materialized
                if size == "large":
                    rows += bench_lookup(local, repo, end)
                    rows.append(bench_training(local, repo))
        finally:
            if copy is not None:
                drop_production_copy(*copy)
    Path(work).mkdir(parents=True, exist_ok=True)
    (Path(work) / "features.json").write_text(json.dumps(rows, indent=2) + "\n")
    return rows


def print_table(rows: list[dict]) -> None:
    """The feature-store figures as a readable table."""
    print(f"\n  {'step':<78} {'wall s':>7} {'rows/s':>10} {'p50 ms':>7} {'p99 ms':>7}")
    for row in rows:
        rate = f"{row['rows_per_s']:,}" if "rows_per_s" in row else ""
        p50 = f"{row['p50_us'] / 1000:.1f}" if "p50_us" in row else ""
        p99 = f"{row['p99_us'] / 1000:.1f}" if "p99_us" in row else ""
        print(f"  {row['step']:<78} {row['wall_s']:>7} {rate:>10} {p50:>7} {p99:>7}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", nargs="+", default=["demo", "large"], choices=["demo", "large"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reelops-bench-features-") as tmp:
        rows = run(Path(tmp), tuple(args.sizes))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "features.json").write_text(json.dumps(rows, indent=2) + "\n")
    print_table(rows)
    print(f"\nwritten to {RESULTS / 'features.json'}")


if __name__ == "__main__":
    main()
