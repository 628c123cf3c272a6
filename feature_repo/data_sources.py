"""Batch and request sources: the dbt feature marts, as parquet (local) or PostgreSQL tables.

Which files or tables depends on the active source and profile, so the locations come
from environment variables that ``reelops.features.store`` sets before importing this
module; the module holds no machine path.
"""

import os
from pathlib import Path

from feast import Field, FileSource, RequestSource
from feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source import (
    PostgreSQLSource,
)
from feast.types import UnixTimestamp


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(
            f"environment variable {name} is not set; load the feature repository through "
            "reelops.features.store (or `reelops features ...`), which sets it for the "
            "active source and profile"
        )
    return value


OFFLINE = _env("REELOPS_FEAST_OFFLINE")
if OFFLINE not in ("file", "postgres"):
    raise RuntimeError(f"REELOPS_FEAST_OFFLINE must be 'file' or 'postgres', got {OFFLINE!r}")


def _mart(
    name: str, description: str, timestamp_field: str = "event_timestamp"
) -> FileSource | PostgreSQLSource:
    """A feature mart; for the daily ones ``event_timestamp`` is the end of the row's day."""
    if OFFLINE == "file":
        return FileSource(
            name=name,
            path=str(Path(_env("REELOPS_FEAST_MARTS_DIR")) / f"{name}.parquet"),
            timestamp_field=timestamp_field,
            description=description,
        )
    return PostgreSQLSource(
        name=name,
        table=f"{_env('REELOPS_FEAST_PG_SCHEMA')}.{name}",
        timestamp_field=timestamp_field,
        description=description,
    )


member_daily = _mart("fct_member_daily", "One row per member per day (dbt mart).")
title_daily = _mart("fct_title_daily", "One row per title per day (dbt mart).")
network_daily = _mart("fct_network_daily", "One row per country x connection per day.")
artwork_variant_daily = _mart(
    "fct_artwork_variant_daily", "One row per artwork variant per day (dbt mart)."
)
member_theme_daily = _mart(
    "fct_member_theme_daily", "One row per member per artwork theme per day (dbt mart)."
)

# The Content Genome describes a title, not a moment: the mart carries a constant
# valid_from (1970-01-01) itself, so every label joins it.
title_genome_source = _mart(
    "dim_title_genome", "One row per title with a script: its genome tags.", "valid_from"
)

# dim_titles has no event time: its genre flags and release date are static facts.
# They are served with a constant valid_from (1970-01-01) so that every label can join
# them; locally reelops.features writes that column into a small parquet beside the
# registry, on PostgreSQL a query adds it.
if OFFLINE == "file":
    title_catalogue_source = FileSource(
        name="title_catalogue",
        path=_env("REELOPS_FEAST_CATALOGUE_PATH"),
        timestamp_field="valid_from",
        description="dim_titles' genre flags and release time, with a constant valid_from.",
    )
else:
    title_catalogue_source = PostgreSQLSource(
        name="title_catalogue",
        query=_env("REELOPS_FEAST_CATALOGUE_QUERY"),
        timestamp_field="valid_from",
        description="dim_titles' genre flags and release time, with a constant valid_from.",
    )

# Known only when a ranking is requested (the label's time when training).
ranking_request = RequestSource(
    name="ranking_request",
    schema=[Field(name="request_time", dtype=UnixTimestamp)],
    description="The time of the ranking request.",
)
