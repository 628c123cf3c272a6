"""The production profile's Airflow: its metadata database on PostgreSQL migrates.

Airflow 3 opens an async engine (asyncpg) beside the sync one; without the driver every
production DAG run failed before its first task. This migrates a database of its own.
"""

from __future__ import annotations

import uuid

import pytest

from reelops.config import Settings

pytestmark = [pytest.mark.production, pytest.mark.slow]


def test_airflow_metadata_migrates_on_postgresql(tmp_path):
    import psycopg2

    from reelops.orchestration.runs import ensure_airflow_db
    from reelops.warehouse import create_database, drop_database

    database = f"reelops_airflow_{uuid.uuid4().hex[:8]}"
    settings = Settings(home=tmp_path, profile="production", pg_database=database)
    try:
        create_database(settings)
    except psycopg2.OperationalError as error:
        pytest.skip(f"PostgreSQL unreachable: {error}")
    try:
        ensure_airflow_db(settings)
        conn = psycopg2.connect(settings.pg_dsn())
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM dag_run")
                assert cur.fetchone()[0] == 0
                cur.execute("SELECT version_num FROM alembic_version")
                assert cur.fetchone()[0]
        finally:
            conn.close()
    finally:
        drop_database(settings)
