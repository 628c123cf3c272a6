"""What monitoring reads: a day of the lake, a day of prediction logs, the training days."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from reelops.lake import partition_path, table_dir
from reelops.monitoring.compaction import day_files

REFERENCE_DAYS = 7  # the training interval's last days are the drift reference


def lake_day(lake_dir: Path, table: str, day: date) -> pd.DataFrame:
    """One landed day of a raw table (empty when the day was not landed)."""
    path = partition_path(lake_dir, table, day)
    return pq.read_table(path).to_pandas() if path.exists() else pd.DataFrame()


def lake_days(lake_dir: Path, table: str, days: list[date]) -> pd.DataFrame:
    frames = [lake_day(lake_dir, table, d) for d in days]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def member_countries(lake_dir: Path) -> pd.Series:
    """member_key -> country, from the newest landed members snapshot."""
    days = sorted(table_dir(lake_dir, "members").glob("day=*/part-0.parquet"))
    if not days:
        return pd.Series(dtype=object)
    members = pq.read_table(days[-1], columns=["member_key", "country"]).to_pandas()
    return members.set_index("member_key")["country"]


def serving_logs(lake_dir: Path, day: date) -> pd.DataFrame:
    """Every prediction-log row of ``day``, features and output parsed from JSON."""
    files = day_files(lake_dir, day)
    if not files:
        return pd.DataFrame(
            columns=["logged_at", "endpoint", "model_name", "model_version", "member_key"]
        )
    tables = [pq.read_table(f) for f in files]
    logs = pa.concat_tables(tables, promote_options="default").to_pandas()
    if "arm" in logs:  # a shadow model's answers were logged, never served: skip them
        logs = logs[logs["arm"].fillna("production") != "shadow"].reset_index(drop=True)
    logs["features"] = logs["features"].map(json.loads)
    logs["output"] = logs["output"].map(json.loads)
    return logs


def reference_days(data_interval, available: list[date]) -> list[date]:
    """The last :data:`REFERENCE_DAYS` landed days of a model's training interval."""
    if not data_interval:
        return []
    end = max(datetime.fromisoformat(str(t)) for t in data_interval).date()
    wanted = {end - timedelta(days=n) for n in range(REFERENCE_DAYS)}
    return sorted(d for d in available if d in wanted)


def landed_days(lake_dir: Path, table: str) -> list[date]:
    return sorted(
        date.fromisoformat(p.name.removeprefix("day="))
        for p in table_dir(lake_dir, table).glob("day=*")
        if (p / "part-0.parquet").exists()
    )
