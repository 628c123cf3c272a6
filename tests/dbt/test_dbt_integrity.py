"""Warehouse integrity: corrupt or implausible input fails the build; rebuilds are identical."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from dbt_lake import (
    DAY1,
    HALF_FAILING_TEST,
    S1_START,
    VIEWS,
    write_half_failing_change,
    write_lake,
    write_partition,
)

from reelops import lake
from reelops.config import Settings
from reelops.warehouse import (
    MARTS,
    WarehouseBuildError,
    build,
    lake_schema,
    publish_marts,
    read_mart,
    stage_marts,
)

pytestmark = pytest.mark.slow


def test_flipped_bytes_fail_the_build_naming_the_partition(local_settings):
    lake_dir = local_settings.lake_dir("bitrot")
    write_lake(lake_dir, delivery=False)
    path = lake.partition_path(lake_dir, "viewing_events", DAY1)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    path.write_bytes(bytes(data))
    with pytest.raises(WarehouseBuildError, match="integrity check") as caught:
        build(local_settings, "bitrot", select="stg_lake__viewing_events")
    assert str(path) in str(caught.value)
    assert "corrupt" in str(caught.value)
    assert not (local_settings.home / "dbt" / "bitrot").exists()  # dbt never ran


@pytest.mark.parametrize(
    ("change", "failing_test"),
    [
        ({"ts": datetime(1700, 1, 1)}, "plausible_timestamp_stg_lake__viewing_events_ts"),
        ({"completion": 1.5}, "accepted_range_stg_lake__viewing_events_completion"),
        ({"seconds_watched": -60}, "accepted_range_stg_lake__viewing_events_seconds_watched"),
    ],
)
def test_implausible_values_fail_the_build(local_settings, change, failing_test):
    source = f"implausible_{next(iter(change))}"
    lake_dir = local_settings.lake_dir(source)
    write_lake(lake_dir, delivery=False)
    row = {**VIEWS[0], "event_id": "e-odd", **change}
    write_partition(lake_dir, "viewing_events", DAY1 + timedelta(days=20), [row])
    with pytest.raises(WarehouseBuildError) as caught:
        build(local_settings, source, select="stg_lake__viewing_events")
    assert failing_test in str(caught.value)


def _many_chunks(n: int) -> pa.Table:
    # Enough rows for DuckDB to aggregate in parallel, with throughputs whose sums
    # depend on the order of addition.
    rng = np.random.default_rng(7)
    throughput = rng.lognormal(1.0, 1.0, n)
    start = np.datetime64(S1_START, "us")
    return pa.table(
        {
            "session_id": pa.array(["s1"] * n),
            "chunk_index": pa.array(np.arange(n, dtype=np.int32)),
            "ts": pa.array(start + np.arange(n) * np.timedelta64(100_000, "us")),
            "level": pa.array(np.full(n, 2, dtype=np.int32)),
            "bitrate_kbps": pa.array(np.full(n, 3000, dtype=np.int32)),
            "chunk_bytes": pa.array(np.full(n, 1_500_000, dtype=np.int64)),
            "download_s": pa.array(12.0 / throughput),
            "throughput_mbps": pa.array(throughput),
            "buffer_s": pa.array(rng.uniform(0, 30, n)),
            "rebuffer_s": pa.array(rng.exponential(0.01, n)),
        },
        schema=lake_schema("delivery_chunks"),
    )


def _mart_digests(settings, source: str) -> dict[str, str]:
    folder = settings.marts_dir(source)
    return {
        name: hashlib.sha256((folder / f"{name}.parquet").read_bytes()).hexdigest()
        for name in MARTS
    }


def test_rebuilding_the_same_lake_gives_byte_identical_marts(local_settings):
    lake_dir = local_settings.lake_dir("rebuild")
    write_lake(lake_dir)
    lake.write_partition(lake_dir, "delivery_chunks", DAY1, _many_chunks(400_000))
    digests = []
    for _ in range(3):
        build(local_settings, "rebuild")
        digests.append(_mart_digests(local_settings, "rebuild"))
    differing = sorted(name for name in MARTS if len({d[name] for d in digests}) > 1)
    assert differing == []


def test_a_failed_build_publishes_nothing_and_keeps_the_previous_marts(local_settings):
    lake_dir = local_settings.lake_dir("half")
    write_lake(lake_dir)
    build(local_settings, "half")
    before = _mart_digests(local_settings, "half")
    published = local_settings.marts_dir("half").resolve()
    write_half_failing_change(lake_dir)
    with pytest.raises(WarehouseBuildError, match=HALF_FAILING_TEST):
        build(local_settings, "half")
    assert _mart_digests(local_settings, "half") == before
    assert local_settings.marts_dir("half").resolve() == published
    versions = sorted(p.name for p in published.parent.iterdir())
    assert versions == [published.name]  # the failed build's staging folder is gone


def test_marts_are_published_as_one_set_and_old_sets_are_dropped(local_settings):
    write_lake(local_settings.lake_dir("sets"))
    build(local_settings, "sets")
    first = local_settings.marts_dir("sets").resolve()
    build(local_settings, "sets", select="dim_titles")
    second = local_settings.marts_dir("sets").resolve()
    assert second != first and local_settings.marts_dir("sets").is_symlink()
    assert sorted(p.name for p in second.glob("*.parquet")) == sorted(f"{m}.parquet" for m in MARTS)
    assert read_mart(local_settings, "sets", "fct_member_daily").equals(
        pd.read_parquet(first / "fct_member_daily.parquet")
    )
    build(local_settings, "sets", select="dim_titles")
    assert not first.exists()  # the current and the previous set are kept
    assert len(list(second.parent.iterdir())) == 2


def test_marts_published_before_versioning_are_moved_aside_once(tmp_path):
    settings = Settings(home=tmp_path, profile="local")
    legacy = settings.marts_dir("old")
    legacy.mkdir(parents=True)
    (legacy / "dim_titles.parquet").write_bytes(b"old")
    staging = stage_marts(settings, "old", carry_over=True)
    assert (staging / "dim_titles.parquet").read_bytes() == b"old"
    (staging / "dim_titles.parquet").write_bytes(b"new")
    publish_marts(settings, "old", staging)
    assert legacy.is_symlink() and legacy.resolve() == staging
    assert (legacy / "dim_titles.parquet").read_bytes() == b"new"
    assert [p.name for p in tmp_path.rglob(".*.tmp")] == []
