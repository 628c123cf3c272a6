"""Every store that can hold a member's data, each able to find, export and erase them.

A store answers three questions about one member: how many of their rows each of its
tables holds (:meth:`find`), what those rows are (:meth:`export`), and how to remove
them (:meth:`erase`, idempotent: a second call finds nothing to do). The scanner, the
export and the erasure all walk :func:`stores`, so a store added here is covered by
all three at once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from reelops import lake
from reelops.config import Settings
from reelops.erasure import matching
from reelops.erasure.identity import Member
from reelops.features.environment import feast_dir, project_name, store_yaml
from reelops.privacy import MemberKeyVault
from reelops.schema import RAW_TABLES
from reelops.warehouse import raw_pg_schema

# The serving package (a higher layer) writes this table; its files are append-only
# parts, not the lake's one checked file per day, so they are handled on their own.
SERVING_LOGS = "serving_logs"
RECOMMENDATION, DELIVERY, MONITORING = "recommendation", "delivery", "monitoring"
TABLE_PURPOSES = {
    "members": [RECOMMENDATION, DELIVERY, MONITORING],
    "viewing_events": [RECOMMENDATION, MONITORING],
    "impressions": [RECOMMENDATION, MONITORING],
    "playback_sessions": [DELIVERY, MONITORING],
    "delivery_chunks": [DELIVERY],
    SERVING_LOGS: [MONITORING],
}
MEMBER_COLUMNS = ("member_key", "member_id", "session_id")


@dataclass(frozen=True)
class Found:
    """Rows about one member in one table (or file) of one store."""

    store: str
    table: str
    rows: int


class Store:
    """One place that may hold a member's data (subclasses implement the three methods)."""

    name = ""
    purposes: tuple[str, ...] = ()
    description = ""

    def __init__(self, settings: Settings, source: str):
        self.settings = settings
        self.source = source

    def find(self, member: Member) -> list[Found]:
        """Tables holding the member's rows, with counts (empty when none)."""
        raise NotImplementedError

    def export(self, member: Member) -> dict[str, list[dict[str, Any]]]:
        """The member's rows, by table."""
        raise NotImplementedError

    def erase(self, member: Member) -> int:
        """Remove the member's rows; returns how many were removed."""
        raise NotImplementedError


def _records(data: pa.Table) -> list[dict[str, Any]]:
    return data.to_pylist()


class LakeStore(Store):
    """The lake's raw tables: one checked parquet file per day, rewritten atomically."""

    name = "lake"
    purposes = (RECOMMENDATION, DELIVERY, MONITORING)
    description = "raw tables landed from the source, one parquet file per day"

    def _partitions(self) -> Iterator[tuple[str, Any, Path]]:
        lake_dir = self.settings.lake_dir(self.source)
        for table in RAW_TABLES:
            for day, path in lake.partitions(lake_dir, table):
                yield table, day, path

    def _matches(self, member: Member) -> Iterator[tuple[str, Any, Path, pa.Table]]:
        for table, day, path in self._partitions():
            data = pq.read_table(path)
            rows = matching.matching_rows(data, member)
            if rows.num_rows:
                yield table, day, path, data

    def find(self, member: Member) -> list[Found]:
        counts: dict[str, int] = {}
        for table, _, _, data in self._matches(member):
            counts[table] = counts.get(table, 0) + matching.matching_rows(data, member).num_rows
        return [Found(self.name, t, n) for t, n in counts.items()]

    def export(self, member: Member) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for table, _, _, data in self._matches(member):
            out.setdefault(table, []).extend(_records(matching.matching_rows(data, member)))
        return out

    def sessions(self, member: Member) -> set[str]:
        """Session ids of the member's playback sessions (their chunks carry only these)."""
        found: set[str] = set()
        for table, _, _, data in self._matches(member):
            if table == "playback_sessions":
                rows = matching.matching_rows(data, member)
                found.update(rows.column("session_id").to_pylist())
        return found

    def erase(self, member: Member) -> int:
        lake_dir = self.settings.lake_dir(self.source)
        removed = 0
        for table, day, _, data in list(self._matches(member)):
            kept, n = matching.without_member(data, member)
            removed += n
            if kept.num_rows or RAW_TABLES[table].kind == "snapshot":
                lake.write_partition(lake_dir, table, day, kept)
            else:  # as landing does: a day with no events has no partition
                lake.delete_partition(lake_dir, table, day)
        return removed


class FileStore(Store):
    """Parquet, CSV and text files under some folders, searched file by file."""

    suffixes = (".parquet", ".csv", *matching.TEXT_SUFFIXES)
    keep_rows = False  # True: unlink the member's rows in place instead of dropping them

    def roots(self) -> list[Path]:
        raise NotImplementedError

    def files(self) -> Iterator[Path]:
        seen: set[Path] = set()
        for root in self.roots():
            if not root.exists():
                continue
            for path in sorted(root.rglob("*")):
                real = path.resolve()
                if (
                    path.suffix in self.suffixes
                    and path.is_file()
                    and not path.name.startswith(".")
                    and real not in seen
                ):
                    seen.add(real)
                    yield path

    def _label(self, path: Path) -> str:
        for root in self.roots():
            if path.is_relative_to(root):
                return str(path.relative_to(root))
        return str(path)

    def _count(self, path: Path, member: Member) -> int:
        if path.suffix in matching.TEXT_SUFFIXES:
            return matching.text_hits(path, member)
        return matching.matching_rows(matching.read_file(path), member).num_rows

    def find(self, member: Member) -> list[Found]:
        found = []
        for path in self.files():
            n = self._count(path, member)
            if n:
                found.append(Found(self.name, self._label(path), n))
        return found

    def export(self, member: Member) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for path in self.files():
            if path.suffix in matching.TEXT_SUFFIXES:
                hits = matching.text_hits(path, member)
                if hits:
                    out[self._label(path)] = [{"mentions_of_member_key": hits}]
                continue
            rows = matching.matching_rows(matching.read_file(path), member)
            if rows.num_rows:
                out[self._label(path)] = _records(rows)
        return out

    def erase(self, member: Member) -> int:
        removed = 0
        for path in self.files():
            if path.suffix in matching.TEXT_SUFFIXES:
                removed += matching.scrub_text(path, member)
                continue
            data = matching.read_file(path)
            change = matching.unlinked if self.keep_rows else matching.without_member
            kept, n = change(data, member)
            if n:
                matching.write_table(path, kept)
                removed += n
        return removed


class ServingLogStore(FileStore):
    """The serving endpoints' prediction logs (append-only parts in the lake)."""

    name = SERVING_LOGS
    purposes = (MONITORING,)
    description = "every answered request: member key, features, answer, model version"
    suffixes = (".parquet",)

    def roots(self) -> list[Path]:
        return [lake.table_dir(self.settings.lake_dir(self.source), SERVING_LOGS)]


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
        self._files = _Folders(
            settings, source, self.name, [settings.warehouse_dir / source], keep_rows=False
        )

    def _pg(self):
        import psycopg

        return psycopg.connect(self.settings.pg_dsn, autocommit=False)

    def _pg_tables(self, cur) -> list[tuple[str, str, list[str]]]:
        schemas = [self.settings.pg_schema(self.source), raw_pg_schema(self.settings, self.source)]
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
        from psycopg import sql

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
        from psycopg import sql

        out = []
        with self._pg() as conn, conn.cursor() as cur:
            for schema, table, columns in self._pg_tables(cur):
                where, params = self._pg_where(columns, member)
                if where is not None:
                    cur.execute(
                        sql.SQL(statement).format(sql.Identifier(schema, table), where), params
                    )
                    out.append((f"{schema}.{table}", fetch(cur)))
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


class _Folders(FileStore):
    """A :class:`FileStore` over given folders."""

    def __init__(
        self, settings: Settings, source: str, name: str, folders: list[Path], *, keep_rows: bool
    ):
        super().__init__(settings, source)
        self.name = name
        self._roots = folders
        self.keep_rows = keep_rows

    def roots(self) -> list[Path]:
        return self._roots


class ModelStore(FileStore):
    """Model files in the registry's BentoML store (reference samples, candidate indexes).

    The member's rows are unlinked in place rather than dropped: a candidate index maps
    members to matrix rows by position, so a dropped row would shift every later member.
    """

    name = "model_store"
    purposes = (RECOMMENDATION, DELIVERY, MONITORING)
    description = "files saved with model versions: reference samples, candidate indexes"
    keep_rows = True

    def roots(self) -> list[Path]:
        return [self.settings.bentoml_home / "models"]


class ReportStore(FileStore):
    """Release reports (gates, Evidently drift, bias segments)."""

    name = "reports"
    purposes = (MONITORING,)
    description = "release reports: gate tables, drift and bias evidence"

    def roots(self) -> list[Path]:
        return [self.settings.reports_dir]


class TrainingRunStore(FileStore):
    """Training runs' work folders (training and scoring sets, the model before saving).

    Unlinked in place like the model store: a run's model folder is what gets saved.
    """

    name = "training_runs"
    purposes = (RECOMMENDATION, DELIVERY)
    description = "training runs' work folders: training and evaluation sets"
    keep_rows = True

    def roots(self) -> list[Path]:
        return [self.settings.home / "ranker", self.settings.home / "work"]


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
        import redis

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


STORE_TYPES: tuple[type[Store], ...] = (
    LakeStore,
    ServingLogStore,
    WarehouseStore,
    OnlineStore,
    ModelStore,
    ReportStore,
    TrainingRunStore,
    VaultStore,
)


def stores(settings: Settings, source: str) -> list[Store]:
    """Every store of ``source``, in erasure order (the vault last)."""
    return [kind(settings, source) for kind in STORE_TYPES]
