"""dbt build on PostgreSQL: the lake is loaded with COPY and the marts equal DuckDB's."""

from __future__ import annotations

import uuid

import pandas as pd
import psycopg2
import pytest
from dbt_lake import (
    DUPLICATE_SESSION_DAY,
    FULL_MART_ROWS,
    HALF_FAILING_TEST,
    write_half_failing_change,
    write_lake,
)
from psycopg2 import sql

from reelops import lake
from reelops.config import Settings
from reelops.schema import LAKE_TABLES
from reelops.warehouse import (
    MART_KEYS,
    BuildResult,
    WarehouseBuildError,
    build,
    lake_columns,
    load_lake_into_postgres,
    raw_pg_schema,
    read_mart,
    staging_pg_schema,
)

pytestmark = [pytest.mark.production, pytest.mark.slow]


def _unreachable(settings: Settings) -> str | None:
    try:
        psycopg2.connect(settings.pg_dsn(), connect_timeout=3).close()
    except psycopg2.OperationalError as error:
        return f"PostgreSQL at {settings.pg_host}:{settings.pg_port} unreachable: {error}"
    return None


@pytest.fixture(scope="module")
def pg_settings(tmp_path_factory: pytest.TempPathFactory):
    """Production settings and a source name unique to this run; its schemas are dropped after."""
    settings = Settings(home=tmp_path_factory.mktemp("reelops_pg"), profile="production")
    reason = _unreachable(settings)
    if reason:
        print(reason)
        pytest.skip(reason)
    source = f"pytest_{uuid.uuid4().hex[:10]}"
    write_lake(settings.lake_dir(source))
    write_lake(settings.lake_dir(f"{source}_ml"), delivery=False)
    yield settings, source
    conn = psycopg2.connect(settings.pg_dsn())
    try:
        with conn, conn.cursor() as cur:
            for name in (source, f"{source}_ml", f"{source}_half"):
                for schema in (
                    settings.pg_schema(name),
                    raw_pg_schema(settings, name),
                    staging_pg_schema(settings, name),
                ):
                    cur.execute(
                        sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema))
                    )
    finally:
        conn.close()


@pytest.fixture(scope="module")
def pg_full(pg_settings) -> BuildResult:
    settings, source = pg_settings
    return build(settings, source)


def test_postgres_build_passes_every_test(pg_full):
    assert pg_full.target == "postgres"
    assert pg_full.tests_failed == 0
    assert pg_full.unit_tests_passed == 7
    assert pg_full.mart_rows == FULL_MART_ROWS


def test_postgres_marts_equal_the_duckdb_marts(pg_settings, pg_full, local_settings, duckdb_full):
    settings, source = pg_settings
    for name, keys in MART_KEYS.items():
        duck = read_mart(local_settings, "full", name).sort_values(list(keys), ignore_index=True)
        pg = read_mart(settings, source, name).sort_values(list(keys), ignore_index=True)
        assert list(pg.columns) == list(duck.columns), name
        pd.testing.assert_frame_equal(pg.astype(duck.dtypes.to_dict()), duck, obj=name)


def test_raw_load_is_idempotent_and_creates_missing_tables_empty(pg_settings):
    settings, source = pg_settings
    first = load_lake_into_postgres(settings, f"{source}_ml")
    second = load_lake_into_postgres(settings, f"{source}_ml")
    assert first == second
    assert first["viewing_events"] == 5
    assert first["impressions"] == first["playback_sessions"] == first["delivery_chunks"] == 0
    conn = psycopg2.connect(settings.pg_dsn())
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select column_name from information_schema.columns"
                " where table_schema = %s and table_name = 'impressions'"
                " order by ordinal_position",
                (raw_pg_schema(settings, f"{source}_ml"),),
            )
            columns = [row[0] for row in cur.fetchall()]
    finally:
        conn.close()
    assert columns == [name for name, _ in lake_columns("impressions")] + ["day"]
    assert set(first) == set(LAKE_TABLES)


def _mart_tables(settings: Settings, source: str) -> dict[str, tuple[int, int]]:
    """Each published mart's table oid (new with every build) and row count."""
    conn = psycopg2.connect(settings.pg_dsn())
    try:
        with conn.cursor() as cur:
            out = {}
            for name in MART_KEYS:
                relation = sql.Identifier(settings.pg_schema(source), name)
                cur.execute(
                    sql.SQL("select {}::regclass::oid, count(*) from {}").format(
                        sql.Literal(f"{settings.pg_schema(source)}.{name}"), relation
                    )
                )
                out[name] = cur.fetchone()
            cur.execute(
                "select count(*) from information_schema.schemata where schema_name = %s",
                (staging_pg_schema(settings, source),),
            )
            out["staging schemas"] = cur.fetchone()
            return out
    finally:
        conn.close()


def test_a_failed_postgres_build_publishes_no_mart_and_a_clean_rebuild_publishes_all(
    pg_settings,
):
    settings, source = pg_settings
    source = f"{source}_half"
    lake_dir = settings.lake_dir(source)
    write_lake(lake_dir)
    build(settings, source)
    before = _mart_tables(settings, source)
    write_half_failing_change(lake_dir)  # fails halfway, after some marts were rebuilt
    with pytest.raises(WarehouseBuildError, match=HALF_FAILING_TEST):
        build(settings, source)
    assert _mart_tables(settings, source) == before  # the very same tables, no staging left

    assert lake.delete_partition(lake_dir, "playback_sessions", DUPLICATE_SESSION_DAY)
    result = build(settings, source)
    after = _mart_tables(settings, source)
    assert all(after[name][0] != before[name][0] for name in MART_KEYS)  # every mart is new
    assert after["fct_viewing_events"][1] == before["fct_viewing_events"][1] + 1
    assert result.mart_rows == {name: after[name][1] for name in MART_KEYS}
    assert after["staging schemas"] == (0,)
