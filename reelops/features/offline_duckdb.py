"""A Feast offline store for the parquet marts that runs its joins in DuckDB.

Feast's file store (Dask) merges every labelled event with every row of its entity
before filtering, row by row in Python: a million ranker labels take twenty minutes and
more than ten gigabytes, and it drops an event altogether when one view has rows for
its key but none within the ttl (issue feast-dev/feast#6787 is the related collapse of
events sharing a key and time). Feast's own DuckDB store needs ibis, which ReelOps does
not ship. This store keeps ``FileSource`` and the file store's configuration and runs
the point-in-time SQL template of Feast's PostgreSQL store in an in-process DuckDB, so
both profiles join with the same SQL. Materialization reads go through DuckDB as well.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa
from feast.feature_view import FeatureView
from feast.infra.offline_stores import offline_utils
from feast.infra.offline_stores.contrib.postgres_offline_store.postgres import (
    MULTIPLE_FEATURE_VIEW_POINT_IN_TIME_JOIN,
    build_point_in_time_query,
)
from feast.infra.offline_stores.dask import DaskOfflineStore, DaskOfflineStoreConfig
from feast.infra.offline_stores.file_source import FileSource
from feast.infra.offline_stores.offline_store import RetrievalJob, RetrievalMetadata
from feast.infra.registry.base_registry import BaseRegistry
from feast.on_demand_feature_view import OnDemandFeatureView
from feast.repo_config import RepoConfig
from pydantic import StrictStr

STORE_TYPE = "reelops.features.offline_duckdb.DuckDBFileOfflineStore"
_ENTITY_TABLE = "reelops_entity_df"


class DuckDBFileOfflineStoreConfig(DaskOfflineStoreConfig):
    """Same options as the file store; only the type differs."""

    type: StrictStr = STORE_TYPE  # type: ignore[assignment]


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _relation(source: FileSource) -> str:
    return f"read_parquet({_sql_string(source.path)})"


class _ParquetRelation(FileSource):
    """A FileSource that names itself in SQL as a DuckDB ``read_parquet`` call."""

    def get_table_query_string(self) -> str:
        return _relation(self)


def _with_sql_source(view: FeatureView) -> FeatureView:
    source = view.batch_source
    if not isinstance(source, FileSource):
        raise TypeError(f"feature view {view.name} reads {type(source).__name__}, not parquet")
    copy = view.__copy__()
    copy.batch_source = _ParquetRelation(
        name=source.name,
        path=source.path,
        timestamp_field=source.timestamp_field,
        created_timestamp_column=source.created_timestamp_column,
        field_mapping=source.field_mapping,
    )
    return copy


def _utc(table: pa.Table, columns: list[str]) -> pa.Table:
    """Mark naive timestamp columns as UTC, as Feast's stores hand them over."""
    for name in columns:
        if name and name in table.column_names:
            column = table[name]
            if pa.types.is_timestamp(column.type) and column.type.tz is None:
                index = table.column_names.index(name)
                utc = column.cast(pa.timestamp(column.type.unit, tz="UTC"))
                table = table.set_column(index, name, utc)
    return table


def _naive(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(sep=" ")


class DuckDBRetrievalJob(RetrievalJob):
    """Runs one SQL query in an in-process DuckDB when the result is asked for."""

    def __init__(
        self,
        query: str,
        *,
        full_feature_names: bool,
        entity_df: pd.DataFrame | None = None,
        on_demand_feature_views: list[OnDemandFeatureView] | None = None,
        metadata: RetrievalMetadata | None = None,
        utc_columns: list[str] | None = None,
    ):
        self.query = query
        self._entity_df = entity_df
        self._full_feature_names = full_feature_names
        self._on_demand_feature_views = on_demand_feature_views or []
        self._metadata = metadata
        self._utc_columns = utc_columns or []

    @property
    def full_feature_names(self) -> bool:
        return self._full_feature_names

    @property
    def on_demand_feature_views(self) -> list[OnDemandFeatureView]:
        return self._on_demand_feature_views

    @property
    def metadata(self) -> RetrievalMetadata | None:
        return self._metadata

    def to_sql(self) -> str:
        return self.query

    def _to_arrow_internal(self, timeout: int | None = None) -> pa.Table:
        import duckdb

        with duckdb.connect() as con:
            con.execute("SET TimeZone = 'UTC'")
            if self._entity_df is not None:
                con.register(_ENTITY_TABLE, self._entity_df)
            table = con.sql(self.query).to_arrow_table()
        return _utc(table, self._utc_columns)

    def _to_df_internal(self, timeout: int | None = None) -> pd.DataFrame:
        return self._to_arrow_internal(timeout).to_pandas()

    def persist(self, storage: Any, allow_overwrite: bool = False, timeout: int | None = None):
        raise NotImplementedError("saved datasets are not used in ReelOps")


class DuckDBFileOfflineStore(DaskOfflineStore):
    """Parquet sources, DuckDB execution: point-in-time joins and materialization reads."""

    @staticmethod
    def get_historical_features(
        config: RepoConfig,
        feature_views: list[FeatureView],
        feature_refs: list[str],
        entity_df: pd.DataFrame | str | None,
        registry: BaseRegistry,
        project: str,
        full_feature_names: bool = False,
        **kwargs: Any,
    ) -> RetrievalJob:
        if not isinstance(entity_df, pd.DataFrame):
            raise TypeError("this offline store joins pandas entity frames only")
        schema = dict(zip(entity_df.columns, entity_df.dtypes, strict=True))
        timestamp_col = offline_utils.infer_event_timestamp_from_entity_df(schema)
        stamps = pd.to_datetime(entity_df[timestamp_col])
        if stamps.dt.tz is not None:
            entity_df = entity_df.assign(
                **{timestamp_col: stamps.dt.tz_convert("UTC").dt.tz_localize(None)}
            )
            stamps = entity_df[timestamp_col]
        offline_utils.assert_expected_columns_in_entity_df(
            schema,
            offline_utils.get_expected_join_keys(project, feature_views, registry),
            timestamp_col,
        )
        contexts = offline_utils.get_feature_view_query_context(
            feature_refs,
            [_with_sql_source(view) for view in feature_views],
            registry,
            project,
            (stamps.min().to_pydatetime(), stamps.max().to_pydatetime()),
        )
        # Quoted identifiers, as the PostgreSQL store prepares them for its template.
        rendered = []
        for context in contexts:
            item = asdict(context)
            item["entity_selections"] = [
                '"' + selection.replace(" AS ", '" AS "') + '"'
                for selection in context.entity_selections
            ]
            rendered.append(item)
        query = build_point_in_time_query(
            rendered,
            left_table_query_string=_ENTITY_TABLE,
            entity_df_event_timestamp_col=timestamp_col,
            entity_df_columns=schema.keys(),
            query_template=MULTIPLE_FEATURE_VIEW_POINT_IN_TIME_JOIN,
            full_feature_names=full_feature_names,
        )
        return DuckDBRetrievalJob(
            query,
            full_feature_names=full_feature_names,
            entity_df=entity_df,
            on_demand_feature_views=OnDemandFeatureView.get_requested_odfvs(
                feature_refs, project, registry
            ),
            metadata=RetrievalMetadata(
                features=feature_refs,
                keys=[c for c in schema if c != timestamp_col],
                min_event_timestamp=stamps.min().to_pydatetime(),
                max_event_timestamp=stamps.max().to_pydatetime(),
            ),
        )

    @staticmethod
    def pull_all_from_table_or_query(
        config: RepoConfig,
        data_source: FileSource,
        join_key_columns: list[str],
        feature_name_columns: list[str],
        timestamp_field: str,
        created_timestamp_column: str | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
    ) -> RetrievalJob:
        stamps = [timestamp_field, created_timestamp_column]
        columns = list(
            dict.fromkeys([*join_key_columns, *feature_name_columns, *filter(None, stamps)])
        )
        selected = ", ".join(f'"{c}"' for c in columns) if feature_name_columns else "*"
        where = []
        if start_date is not None:
            where.append(f'"{timestamp_field}" >= TIMESTAMP {_sql_string(_naive(start_date))}')
        if end_date is not None:
            where.append(f'"{timestamp_field}" <= TIMESTAMP {_sql_string(_naive(end_date))}')
        query = f"SELECT {selected} FROM {_relation(data_source)}"
        if where:
            query += " WHERE " + " AND ".join(where)
        return DuckDBRetrievalJob(
            query, full_feature_names=False, utc_columns=[c for c in stamps if c]
        )

    @staticmethod
    def pull_latest_from_table_or_query(
        config: RepoConfig,
        data_source: FileSource,
        join_key_columns: list[str],
        feature_name_columns: list[str],
        timestamp_field: str,
        created_timestamp_column: str | None,
        start_date: datetime,
        end_date: datetime,
    ) -> RetrievalJob:
        job = DuckDBFileOfflineStore.pull_all_from_table_or_query(
            config,
            data_source,
            join_key_columns,
            feature_name_columns,
            timestamp_field,
            created_timestamp_column,
            start_date,
            end_date,
        )
        order = ", ".join(f'"{c}" DESC' for c in [timestamp_field, created_timestamp_column] if c)
        keys = ", ".join(f'"{c}"' for c in join_key_columns)
        if keys:
            job.query = (
                f"SELECT * FROM ({job.query}) QUALIFY row_number() OVER "
                f"(PARTITION BY {keys} ORDER BY {order}) = 1"
            )
        return job
