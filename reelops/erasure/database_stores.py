"""The stores that are databases: warehouse, Feast online store, Airflow, the id vault."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg2
import redis
import sqlalchemy as sa
import yaml
from psycopg2 import sql

from reelops.config import Settings, airflow_environ
from reelops.erasure.base import (
    DELIVERY,
    MEMBER_COLUMNS,
    MONITORING,
    RECOMMENDATION,
    Folders,
    Found,
    Store,
)
from reelops.erasure.identity import Member
from reelops.features.environment import feast_dir, project_name, store_yaml
from reelops.privacy import MemberKeyVault
from reelops.warehouse import raw_pg_schema, staging_pg_schema


class WarehouseStore(Store):
    """The dbt warehouse, which is also Feast's offline store.

    DuckDB: the mart parquet files of every kept build. PostgreSQL: every table of the
    source's schemas (marts and the loaded lake) with a member column.
    """

    name = "warehouse"
    purposes = (RECOMMENDATION, DELIVERY, MONITORING)
    description = "dbt marts (also Feast's offline store and the training sets' source)"

    def __init__(self, settings: Settings, source: str):
        super().__init__(settings, source)
        self._files = Folders(
            settings, source, self.name, [settings.warehouse_dir / source], keep_rows=False
        )

    def _pg_tables(self, cur) -> list[tuple[str, str, list[str]]]:
        schemas = [
            self.settings.pg_schema(self.source),
            raw_pg_schema(self.settings, self.source),
            staging_pg_schema(self.settings, self.source),  # left by a killed build
        ]
        cur.execute(
            "select c.table_schema, c.table_name, c.column_name from information_schema.columns c"
            " join information_schema.tables t on t.table_schema = c.table_schema"
            " and t.table_name = c.table_name and t.table_type = 'BASE TABLE'"
            " where c.table_schema = any(%s) and c.column_name = any(%s)"
            " order by 1, 2, 3",
            (schemas, list(MEMBER_COLUMNS)),
        )
        tables: dict[tuple[str, str], list[str]] = {}
        for schema, table, column in cur.fetchall():
            tables.setdefault((schema, table), []).append(column)
        return [(s, t, cols) for (s, t), cols in tables.items()]

    def _pg_where(self, columns: list[str], member: Member):
        terms, params = [], []
        for column in columns:
            if column == "member_key":
                terms.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
                params.append(member.member_key)
            elif column == "member_id" and member.member_id is not None:
                terms.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
                params.append(member.member_id)
            elif column == "session_id" and member.session_ids:
                terms.append(sql.SQL("{} = any(%s)").format(sql.Identifier(column)))
                params.append(sorted(member.session_ids))
        return (sql.SQL(" or ").join(terms) if terms else None), params

    def _pg_each(self, member: Member, statement: str, fetch) -> list[tuple[str, Any]]:
        """Run ``statement`` on every member table; ``fetch(cursor)`` per table."""
        out = []
        conn = psycopg2.connect(self.settings.pg_dsn())
        try:
            with conn, conn.cursor() as cur:  # one transaction: all tables or none
                for schema, table, columns in self._pg_tables(cur):
                    where, params = self._pg_where(columns, member)
                    if where is not None:
                        relation = sql.Identifier(schema, table)
                        cur.execute(sql.SQL(statement).format(relation, where), params)
                        out.append((f"{schema}.{table}", fetch(cur)))
        finally:
            conn.close()
        return out

    def find(self, member: Member) -> list[Found]:
        if self.settings.dbt_target == "duckdb":
            return self._files.find(member)
        counts = self._pg_each(
            member, "select count(*) from {} where {}", lambda cur: cur.fetchone()[0]
        )
        return [Found(self.name, table, n) for table, n in counts if n]

    def export(self, member: Member) -> dict[str, list[dict[str, Any]]]:
        if self.settings.dbt_target == "duckdb":
            return self._files.export(member)

        def rows(cur) -> list[dict[str, Any]]:
            names = [d.name for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

        return {t: r for t, r in self._pg_each(member, "select * from {} where {}", rows) if r}

    def erase(self, member: Member) -> int:
        if self.settings.dbt_target == "duckdb":
            return self._files.erase(member)
        deleted = self._pg_each(member, "delete from {} where {}", lambda cur: cur.rowcount)
        return sum(n for _, n in deleted)


class OnlineStore(Store):
    """Feast's online store: SQLite rows or a Redis hash per entity key.

    Feast has no per-entity delete, so the rows are found by the entity key Feast
    serializes (join key ``member_key``) and deleted here.
    """

    name = "feast_online"
    purposes = (RECOMMENDATION,)
    description = "the latest feature values served to the recommendation endpoint"
    JOIN_KEY = "member_key"

    def _entity_key(self, member: Member) -> bytes:
        # Feast is imported only where needed: it takes seconds to import.
        from feast.infra.key_encoding_utils import serialize_entity_key
        from feast.protos.feast.types.EntityKey_pb2 import EntityKey
        from feast.protos.feast.types.Value_pb2 import Value

        version = yaml.safe_load(store_yaml(self.settings).read_text())[
            "entity_key_serialization_version"
        ]
        key = EntityKey(
            join_keys=[self.JOIN_KEY], entity_values=[Value(string_val=member.member_key)]
        )
        return serialize_entity_key(key, entity_key_serialization_version=version)

    def _sqlite(self) -> sqlite3.Connection | None:
        path = feast_dir(self.settings, self.source) / "online.db"
        return sqlite3.connect(path) if path.exists() else None

    def _sqlite_tables(self, conn: sqlite3.Connection) -> list[str]:
        prefix = project_name(self.source) + "_"
        rows = conn.execute("select name from sqlite_master where type = 'table'").fetchall()
        return [name for (name,) in rows if name.startswith(prefix)]

    def _redis(self):
        return redis.Redis.from_url(self.settings.redis_url, socket_timeout=5)

    def _redis_key(self, member: Member) -> bytes:
        return self._entity_key(member) + project_name(self.source).encode()

    def find(self, member: Member) -> list[Found]:
        return [Found(self.name, t, len(rows)) for t, rows in self.export(member).items()]

    def export(self, member: Member) -> dict[str, list[dict[str, Any]]]:
        from feast.protos.feast.types.Value_pb2 import Value
        from feast.type_map import feast_value_type_to_python_type

        key = self._entity_key(member)
        out: dict[str, list[dict[str, Any]]] = {}
        if self.settings.profile != "production":
            conn = self._sqlite()
            if conn is None:
                return out
            with conn:
                for table in self._sqlite_tables(conn):
                    rows = conn.execute(
                        f'select feature_name, value, event_ts from "{table}" where entity_key = ?',
                        (key,),
                    ).fetchall()
                    if rows:
                        out[table] = [
                            {
                                "feature": f,
                                "value": feast_value_type_to_python_type(Value.FromString(v)),
                                "event_ts": ts,
                            }
                            for f, v, ts in rows
                        ]
            conn.close()
            return out
        fields = self._redis().hgetall(self._redis_key(member))
        if fields:
            # Feast's Redis layout names fields by a hash of "view:feature".
            out[f"redis:{project_name(self.source)}"] = [
                {"field": k.hex(), "bytes": len(v)} for k, v in sorted(fields.items())
            ]
        return out

    def erase(self, member: Member) -> int:
        key = self._entity_key(member)
        if self.settings.profile == "production":
            client = self._redis()
            redis_key = self._redis_key(member)
            fields = client.hlen(redis_key)
            client.delete(redis_key)
            return int(fields)
        conn = self._sqlite()
        if conn is None:
            return 0
        removed = 0
        with conn:
            for table in self._sqlite_tables(conn):
                cur = conn.execute(f'delete from "{table}" where entity_key = ?', (key,))
                removed += cur.rowcount
        conn.close()
        return removed


class AirflowStore(Store):
    """Airflow's metadata database (XComs, the values tasks pass on) and its task logs."""

    name = "airflow"
    purposes = (MONITORING,)
    description = "pipeline runs: values passed between tasks (XComs) and task logs"

    def __init__(self, settings: Settings, source: str):
        super().__init__(settings, source)
        logs = settings.airflow_home / "logs"
        self._logs = Folders(settings, source, self.name, [logs], keep_rows=False)

    def _engine(self):
        if self.settings.profile != "production":
            database = self.settings.airflow_home / "airflow.db"
            if not database.exists():  # connecting would create it
                return None
        url = airflow_environ(self.settings)["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        engine = sa.create_engine(url)
        if not sa.inspect(engine).has_table("xcom"):
            engine.dispose()
            return None
        return engine

    def _xcom(self, member: Member, verb: str) -> list[dict[str, Any]] | int:
        engine = self._engine()
        if engine is None:
            return [] if verb == "select" else 0
        where = "cast(value as text) like :pattern"
        pattern = {"pattern": f"%{member.member_key}%"}
        try:
            with engine.begin() as conn:
                if verb == "delete":
                    deleted = conn.execute(sa.text(f"delete from xcom where {where}"), pattern)
                    return deleted.rowcount
                query = f"select dag_id, run_id, task_id, map_index, key from xcom where {where}"
                return [dict(r._mapping) for r in conn.execute(sa.text(query), pattern)]
        finally:
            engine.dispose()

    def find(self, member: Member) -> list[Found]:
        found = self._logs.find(member)
        xcoms = self._xcom(member, "select")
        return found + ([Found(self.name, "xcom", len(xcoms))] if xcoms else [])

    def export(self, member: Member) -> dict[str, list[dict[str, Any]]]:
        out = self._logs.export(member)
        xcoms = self._xcom(member, "select")
        if xcoms:
            out["xcom"] = xcoms
        return out

    def erase(self, member: Member) -> int:
        return self._logs.erase(member) + self._xcom(member, "delete")


class VaultStore(Store):
    """The id vault: the member's raw id -> pseudonym mapping.

    Erased last, with the tombstone in the same transaction: until then a killed
    erasure can still be resumed by raw id.
    """

    name = "id_vault"
    purposes = ("finding and erasing the member's data on request",)
    description = "the only place that maps the raw member id to the pseudonym"

    def find(self, member: Member) -> list[Found]:
        with MemberKeyVault(self.settings) as vault:
            n = vault.mappings_of(self.source, member.member_key)
        return [Found(self.name, "member_keys", n)] if n else []

    def export(self, member: Member) -> dict[str, list[dict[str, Any]]]:
        if not self.find(member):
            return {}
        row = {
            "source": self.source,
            "member_id": member.member_id,
            "member_key": member.member_key,
        }
        return {"member_keys": [row]}

    def erase(self, member: Member) -> int:
        n = sum(f.rows for f in self.find(member))
        with MemberKeyVault(self.settings) as vault:
            vault.forget(self.source, member.member_key)
        return n
