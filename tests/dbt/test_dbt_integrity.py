"""Integrity of the warehouse's input: corrupt partitions and implausible values fail the build."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from dbt_lake import DAY1, VIEWS, write_lake, write_partition

from reelops import lake
from reelops.warehouse import WarehouseBuildError, build

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
