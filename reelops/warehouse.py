"""Build the dbt warehouse (lake -> staging -> marts) in process, on DuckDB or PostgreSQL."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import psycopg2
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from psycopg2 import sql

from reelops.config import Settings, temporary_environ
from reelops.lake import LakeIntegrityError, partitions, verify_table
from reelops.schema import LAKE_TABLES

if TYPE_CHECKING:
    import pandas as pd

# Every mart and the columns that identify one of its rows.
MART_KEYS: dict[str, tuple[str, ...]] = {
    "dim_members": ("member_key",),
    "dim_titles": ("title_id",),
    "fct_member_daily": ("member_key", "feature_date"),
    "fct_title_daily": ("title_id", "feature_date"),
    "fct_network_daily": ("network_key", "feature_date"),
    "fct_ranking_interactions": ("impression_id",),
    "fct_viewing_events": ("event_id",),
    "fct_delivery_samples": ("session_id", "chunk_index"),
    "dim_artwork_variants": ("title_id", "variant_id"),
    "fct_artwork_impressions": ("impression_id",),
    "fct_artwork_variant_daily": ("title_id", "variant_id", "feature_date"),
    "fct_member_theme_daily": ("member_key", "theme", "feature_date"),
    "dim_title_genome": ("title_id",),
}
MARTS: tuple[str, ...] = tuple(MART_KEYS)

# Type names that mean the same in DuckDB and PostgreSQL; dbt's source YAML uses them too.
SQL_TYPES: dict[pa.DataType, str] = {
    pa.string(): "varchar",
    pa.date32(): "date",
    pa.int32(): "integer",
    pa.int64(): "bigint",
    pa.float64(): "double precision",
    pa.bool_(): "boolean",
    pa.timestamp("us"): "timestamp",
}


class WarehouseBuildError(RuntimeError):
    """dbt could not build the warehouse, or a model or test failed."""


@dataclass(frozen=True)
class BuildResult:
    """What one ``dbt build`` did."""

    source: str
    target: str
    models_built: list[str]
    tests_passed: int
    tests_failed: int
    tests_warned: int
    unit_tests_passed: int
    elapsed_s: float
    mart_rows: dict[str, int]
    run_results: Path


def lake_schema(table: str) -> pa.Schema:
    """A raw table's columns as landed: the contract with member_key in place of member_id."""
    fields = [
        pa.field("member_key", pa.string()) if f.name == "member_id" else f
        for f in LAKE_TABLES[table].schema
    ]
    return pa.schema(fields)


def lake_columns(table: str) -> list[tuple[str, str]]:
    """(name, SQL type) of a raw table's lake columns, without the partition column ``day``."""
    return [(f.name, SQL_TYPES[f.type]) for f in lake_schema(table)]


def dbt_vars(settings: Settings, source: str, marts_dir: Path | None = None) -> dict[str, str]:
    """The project vars that point dbt at one source's lake and a marts folder.

    ``marts_dir`` defaults to the published marts; a build writes to a staging folder.
    """
    return {
        "lake_dir": str(settings.lake_dir(source)),
        "marts_dir": str(marts_dir or settings.marts_dir(source)),
    }


# The DuckDB marts of a source: every build writes a complete set into its own folder
# under ``marts.d/`` and then one rename swaps the ``marts`` link to it, so readers see
# the previous set or the new one, never a mix (a failed or killed build publishes
# nothing). The previous set is kept for readers still on it.
VERSIONS_DIR = "marts.d"
KEEP_VERSIONS = 2


def _versions_dir(settings: Settings, source: str) -> Path:
    return settings.marts_dir(source).parent / VERSIONS_DIR


def stage_marts(settings: Settings, source: str, *, carry_over: bool) -> Path:
    """A fresh folder for one build's marts; with ``carry_over``, seeded with the published set.

    A build of a selection rewrites only some marts: the others are copied, so the set
    it publishes is still complete.
    """
    staging = _versions_dir(settings, source) / f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    published = settings.marts_dir(source)
    if carry_over and published.is_dir():
        for mart in published.glob("*.parquet"):
            shutil.copy2(mart, staging / mart.name)
    return staging


def publish_marts(settings: Settings, source: str, staging: Path) -> Path:
    """Make ``staging`` the published marts of ``source`` with one atomic rename.

    Returns:
        The published marts folder (``settings.marts_dir(source)``, a link).
    """
    link = settings.marts_dir(source)
    if link.is_dir() and not link.is_symlink():
        # Marts published before versioning: move them aside once, then link.
        link.rename(_versions_dir(settings, source) / f"0-legacy-{uuid.uuid4().hex[:8]}")
    tmp = link.with_name(f".{link.name}.{uuid.uuid4().hex}.tmp")
    os.symlink(Path(VERSIONS_DIR) / staging.name, tmp)
    try:
        os.replace(tmp, link)
    finally:
        tmp.unlink(missing_ok=True)
    _drop_old_versions(settings, source, current=staging.name)
    return link


def _drop_old_versions(settings: Settings, source: str, current: str) -> None:
    # Version names start with a nanosecond clock, so they sort oldest first.
    others = sorted(p for p in _versions_dir(settings, source).iterdir() if p.name != current)
    for old in others[: max(len(others) - (KEEP_VERSIONS - 1), 0)]:
        shutil.rmtree(old, ignore_errors=True)


# The PostgreSQL marts of a source: a build writes every model into a staging schema
# (``<schema>__build``), and one transaction renames it over ``<schema>``, so readers see
# the previous marts or the new ones, never a mix. A build that fails drops its staging
# schema; one that was killed leaves it, and the next build drops it first.
PG_STAGING_SUFFIX = "__build"
PG_PREVIOUS_SUFFIX = "__previous"


def staging_pg_schema(settings: Settings, source: str) -> str:
    """The schema a PostgreSQL build writes into before it is published."""
    return settings.pg_schema(source) + PG_STAGING_SUFFIX


def stage_pg_schema(settings: Settings, source: str, *, carry_over: bool) -> str:
    """A fresh, empty staging schema; with ``carry_over``, holding copies of the published
    marts (a build of a selection rewrites only some of them)."""
    staging = staging_pg_schema(settings, source)
    published = settings.pg_schema(source)
    _drop_pg_schemas(settings, [staging])
    with _pg_transaction(settings) as cur:
        cur.execute(sql.SQL("create schema {}").format(sql.Identifier(staging)))
        if carry_over:
            cur.execute(
                "select table_name from information_schema.tables"
                " where table_schema = %s and table_type = 'BASE TABLE' order by 1",
                (published,),
            )
            for (table,) in cur.fetchall():
                cur.execute(
                    sql.SQL("create table {} as table {}").format(
                        sql.Identifier(staging, table), sql.Identifier(published, table)
                    )
                )
    return staging


def publish_pg_schema(settings: Settings, source: str) -> str:
    """Rename the staging schema over the published one, in one transaction.

    Returns:
        The published schema's name.
    """
    published = settings.pg_schema(source)
    previous = published + PG_PREVIOUS_SUFFIX
    with _pg_transaction(settings) as cur:
        cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(previous)))
        cur.execute(
            "select 1 from information_schema.schemata where schema_name = %s", (published,)
        )
        if cur.fetchone():
            cur.execute(
                sql.SQL("alter schema {} rename to {}").format(
                    sql.Identifier(published), sql.Identifier(previous)
                )
            )
        cur.execute(
            sql.SQL("alter schema {} rename to {}").format(
                sql.Identifier(staging_pg_schema(settings, source)), sql.Identifier(published)
            )
        )
        cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(previous)))
    return published


def _drop_pg_schemas(settings: Settings, schemas: list[str]) -> None:
    with _pg_transaction(settings) as cur:
        for schema in schemas:
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))


@contextlib.contextmanager
def _pg_transaction(settings: Settings):
    """A cursor in one transaction on the warehouse database (committed at the end)."""
    conn = psycopg2.connect(settings.pg_dsn(), connect_timeout=10)
    try:
        with conn, conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def dbt_environ(settings: Settings, source: str) -> dict[str, str]:
    """Environment read by ``dbt/profiles.yml`` (and dbt itself) for one source."""
    return {
        "REELOPS_DBT_TARGET": settings.dbt_target,
        "REELOPS_DUCKDB_PATH": str(settings.duckdb_path(source)),
        "REELOPS_PG_HOST": settings.pg_host,
        "REELOPS_PG_PORT": str(settings.pg_port),
        "REELOPS_PG_USER": settings.pg_user,
        "REELOPS_PG_PASSWORD": settings.pg_password.get_secret_value(),
        "REELOPS_PG_DATABASE": settings.pg_database,
        "REELOPS_PG_SCHEMA": settings.pg_schema(source),
        # dbt_project.yml's vars; a build passes its staging folder as marts_dir.
        "REELOPS_DBT_LAKE_DIR": str(settings.lake_dir(source)),
        "REELOPS_DBT_MARTS_DIR": str(settings.marts_dir(source)),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }


def dbt_run_dir(settings: Settings, source: str) -> Path:
    """Where dbt's target and log folders go for one source (outside the checkout)."""
    return settings.home / "dbt" / source


def create_database(settings: Settings) -> None:
    """Create ``settings.pg_database`` on its server unless it exists.

    Raises:
        psycopg2.Error: The server cannot be reached or refuses.
    """

    def create(cur, name: str) -> None:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')

    _on_server(settings, create)


def drop_database(settings: Settings) -> None:
    """Drop ``settings.pg_database`` (its open connections too) if it exists."""
    _on_server(
        settings, lambda cur, name: cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    )


def _on_server(settings: Settings, work) -> None:
    # On the server's ``postgres`` database, with autocommit: CREATE and DROP DATABASE
    # cannot run in a transaction.

    conn = psycopg2.connect(settings.pg_dsn().rsplit("/", 1)[0] + "/postgres", connect_timeout=3)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            work(cur, settings.pg_database)
    finally:
        conn.close()


def raw_pg_schema(settings: Settings, source: str) -> str:
    """The PostgreSQL schema that holds the loaded lake (dbt's source schema)."""
    return f"{settings.pg_schema(source)}_raw"


def load_lake_into_postgres(settings: Settings, source: str) -> dict[str, int]:
    """Replace every raw table in ``<schema>_raw`` with the lake's partitions, in one transaction.

    A table with no partitions is created empty with the contract's columns, so dbt
    builds the same way for a source without, say, impressions.

    Returns:
        Rows loaded per raw table.
    """

    schema = raw_pg_schema(settings, source)
    lake_dir = settings.lake_dir(source)
    counts: dict[str, int] = {}
    conn = psycopg2.connect(settings.pg_dsn())
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
            for table in LAKE_TABLES:
                counts[table] = _replace_pg_table(cur, schema, table, lake_dir)
    finally:
        conn.close()
    return counts


def _replace_pg_table(cur, schema: str, table: str, lake_dir: Path) -> int:

    columns = [*lake_columns(table), ("day", "date")]
    names = [name for name, _ in columns]
    relation = sql.Identifier(schema, table)
    cur.execute(
        "select column_name from information_schema.columns"
        " where table_schema = %s and table_name = %s order by ordinal_position",
        (schema, table),
    )
    if [row[0] for row in cur.fetchall()] == names:
        # Truncate rather than drop: dbt's staging views depend on the table.
        cur.execute(sql.SQL("truncate table {}").format(relation))
    else:
        cur.execute(sql.SQL("drop table if exists {} cascade").format(relation))
        cur.execute(
            sql.SQL("create table {} ({})").format(
                relation,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(sql_type))
                    for name, sql_type in columns
                ),
            )
        )
    copy = sql.SQL("copy {} ({}) from stdin with (format csv, header true)").format(
        relation, sql.SQL(", ").join(map(sql.Identifier, names))
    )
    rows = 0
    for day, path in partitions(lake_dir, table):
        data = _read_partition(path, table)
        data = data.append_column("day", pa.array([day] * data.num_rows, pa.date32()))
        cur.copy_expert(copy, _as_csv(data))
        rows += data.num_rows
    return rows


def verify_lake(settings: Settings, source: str) -> dict[str, int]:
    """Check every partition of every raw table of a source's lake against its checksum.

    Returns:
        Partitions verified per raw table.

    Raises:
        WarehouseBuildError: A partition is corrupt or unchecked; the message names its path.
    """
    lake_dir = settings.lake_dir(source)
    try:
        return {table: verify_table(lake_dir, table) for table in LAKE_TABLES}
    except LakeIntegrityError as err:
        raise WarehouseBuildError(
            f"the lake of source {source!r} failed its integrity check, so dbt did not run: {err}"
        ) from err


def _read_partition(path: Path, table: str) -> pa.Table:

    schema = lake_schema(table)
    data = pq.ParquetFile(path).read()
    missing = [name for name in schema.names if name not in data.schema.names]
    if missing:
        raise WarehouseBuildError(
            f"{path} lacks column(s) {missing}; raw table {table!r} must have {schema.names}"
        )
    return data.select(schema.names).cast(schema)


def _as_csv(data: pa.Table) -> io.BytesIO:

    # Arrow quotes every string and leaves nulls unquoted, which COPY reads as NULL.
    buffer = io.BytesIO()
    pacsv.write_csv(data, buffer)
    buffer.seek(0)
    return buffer


def build(settings: Settings, source: str, *, select: str | None = None) -> BuildResult:
    """Run ``dbt build`` for one source on the profile's target (DuckDB or PostgreSQL).

    On PostgreSQL the lake is first loaded into ``<schema>_raw`` and dbt builds into a
    staging schema that replaces ``<schema>`` in one transaction; on DuckDB the project
    reads the parquet itself and writes the marts as parquet into a staging folder that
    is published as ``marts_dir``. Either way, only a build that succeeds whole is
    published (all or nothing).

    Args:
        settings: The platform settings; ``settings.dbt_target`` picks the target.
        source: Which lake to build (e.g. ``"synthetic"``, ``"movielens"``).
        select: Optional dbt selection (``--select``), e.g. ``"+fct_member_daily"``.

    Returns:
        Counts of what was built and tested, and the rows of every mart built.

    Raises:
        WarehouseBuildError: a lake partition fails its checksum, dbt could not run, or a
            model, test or unit test failed; the published marts are then unchanged.
    """
    started = time.perf_counter()
    # dbt reads the parquet directly on DuckDB: check the bytes before anything reads them.
    verify_lake(settings, source)
    target = settings.dbt_target
    staging: Path | None = None
    if target == "duckdb":
        # DuckDB's COPY does not create folders.
        staging = stage_marts(settings, source, carry_over=select is not None)
        settings.duckdb_path(source).parent.mkdir(parents=True, exist_ok=True)
    else:
        load_lake_into_postgres(settings, source)
        stage_pg_schema(settings, source, carry_over=select is not None)
    try:
        outcome, failures, built, counts = _run_dbt(settings, source, select, staging)
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        else:
            _drop_pg_schemas(settings, [staging_pg_schema(settings, source)])
        raise
    if staging is not None:
        publish_marts(settings, source, staging)
    else:
        publish_pg_schema(settings, source)

    marts = [name for name in MARTS if name in built]
    return BuildResult(
        source=source,
        target=target,
        models_built=built,
        tests_passed=counts["pass"],
        tests_failed=counts["fail"],
        tests_warned=counts["warn"],
        unit_tests_passed=counts["unit"],
        elapsed_s=round(time.perf_counter() - started, 2),
        mart_rows=_mart_rows(settings, source, marts),
        run_results=dbt_run_dir(settings, source) / "target" / "run_results.json",
    )


def _run_dbt(settings: Settings, source: str, select: str | None, marts_dir: Path | None):
    from dbt.cli.main import dbtRunner

    target = settings.dbt_target
    run_dir = dbt_run_dir(settings, source)
    target_path, log_path = run_dir / "target", run_dir / "logs"

    project_dir = str(settings.dbt_project_dir)
    args = [
        "build",
        "--project-dir", project_dir,
        "--profiles-dir", project_dir,
        "--target", target,
        "--target-path", str(target_path),
        "--log-path", str(log_path),
        "--vars", json.dumps(dbt_vars(settings, source, marts_dir)),
    ]  # fmt: skip
    environ = dbt_environ(settings, source)
    if target == "postgres":
        # Into the staging schema, reading the raw tables the published schema reads.
        environ["REELOPS_PG_SCHEMA"] = staging_pg_schema(settings, source)
        environ["REELOPS_DBT_RAW_SCHEMA"] = raw_pg_schema(settings, source)
        if select:
            # The staging schema starts with the published marts (tables) only: rebuild
            # every view too (they are cheap), so the set it publishes is complete.
            select = f"{select} config.materialized:view"
    if select:
        args += ["--select", select]
    with temporary_environ(environ):
        try:
            outcome = dbtRunner().invoke(args)
        finally:
            if target == "duckdb":
                _release_duckdb()
    if outcome.result is None or not hasattr(outcome.result, "results"):
        raise WarehouseBuildError(
            f"dbt build for source {source!r} on {target} did not run: {outcome.exception}"
            f" (logs in {log_path})"
        )

    built: list[str] = []
    failures: list[str] = []
    counts = {"pass": 0, "fail": 0, "warn": 0, "unit": 0}
    for result in outcome.result.results:
        node, status = result.node, str(result.status)
        kind = str(node.resource_type)
        if status in ("error", "fail", "runtime error"):
            failures.append(f"{node.unique_id} [{status}]: {result.message}")
        if kind == "model" and status == "success":
            built.append(node.name)
        elif kind == "unit_test" and status == "pass":
            counts["unit"] += 1
        elif kind == "test" and status in ("pass", "fail", "warn"):
            counts[status] += 1
    if failures or not outcome.success:
        details = "\n  ".join(failures) or f"dbt reported a failure: {outcome.exception}"
        raise WarehouseBuildError(
            f"dbt build for source {source!r} on {target} failed:\n  {details}\n"
            f"See {target_path / 'run_results.json'} and {log_path / 'dbt.log'}."
        )
    return outcome, failures, built, counts


def _release_duckdb() -> None:
    # dbt-duckdb keeps the database open in a class attribute after dbtRunner returns, so
    # the file stayed locked for as long as this process lived and `dbt show` from a shell
    # failed on the lock. There is no public call for this; it is what a new run does first.
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if env is not None:
        env.close()


def describe_build(result: BuildResult) -> str:
    """A few readable lines about one warehouse build."""
    lines = [
        f"dbt build on {result.target} for source {result.source!r}: "
        f"{len(result.models_built)} models, {result.tests_passed} data tests passed, "
        f"{result.tests_failed} failed, {result.tests_warned} warned, "
        f"{result.unit_tests_passed} unit tests passed in {result.elapsed_s:.1f} s",
    ]
    lines += [f"  {mart:<26} {rows:>10,} rows" for mart, rows in result.mart_rows.items()]
    return "\n".join(lines)


def _mart_rows(settings: Settings, source: str, marts: list[str]) -> dict[str, int]:
    if settings.dbt_target == "duckdb":
        # Parquet footers only: other processes never wait on the DuckDB file.
        return {
            name: pq.read_metadata(_mart_path(settings, source, name)).num_rows for name in marts
        }

    conn = psycopg2.connect(settings.pg_dsn())
    try:
        with conn.cursor() as cur:
            rows = {}
            for name in marts:
                relation = sql.Identifier(settings.pg_schema(source), name)
                cur.execute(sql.SQL("select count(*) from {}").format(relation))
                rows[name] = cur.fetchone()[0]
            return rows
    finally:
        conn.close()


def _mart_path(settings: Settings, source: str, name: str) -> Path:
    return settings.marts_dir(source) / f"{name}.parquet"


def read_mart(settings: Settings, source: str, name: str) -> pd.DataFrame:
    """One mart as a data frame: its parquet file on DuckDB, its table on PostgreSQL.

    Raises:
        ValueError: ``name`` is not one of :data:`MARTS`.
        FileNotFoundError: the mart has not been built for this source (DuckDB).
    """

    if name not in MARTS:
        raise ValueError(f"unknown mart {name!r}; marts are {', '.join(MARTS)}")
    if settings.dbt_target == "duckdb":
        path = _mart_path(settings, source, name)
        if not path.exists():
            raise FileNotFoundError(
                f"{path} does not exist; build the warehouse for source {source!r} first"
            )
        return pd.read_parquet(path)

    conn = psycopg2.connect(settings.pg_dsn())
    try:
        with conn.cursor() as cur:
            relation = sql.Identifier(settings.pg_schema(source), name)
            cur.execute(sql.SQL("select * from {}").format(relation))
            columns = [column.name for column in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=columns)
    finally:
        conn.close()
