"""The daily DAG's ``land`` skips an interval where the source has no events."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowSkipException

from reelops.orchestration import daily
from reelops.world.generator import WorldConfig
from reelops.world.synthetic_source import generate_source


def _context(start: datetime, end: datetime) -> dict:
    return {
        "dag_run": SimpleNamespace(conf={}, run_id="scheduled__x", run_after=end),
        "data_interval_start": start.replace(tzinfo=UTC),
        "data_interval_end": end.replace(tzinfo=UTC),
    }


def test_a_day_after_the_source_ends_is_skipped_without_landing(settings):
    generate_source(settings, WorldConfig.tiny(days=2))  # 2026-01-01 and 2026-01-02
    with pytest.raises(AirflowSkipException, match=r"none in \[2026-12-02 00:00:00, 2026-12"):
        daily.land(**_context(datetime(2026, 12, 2), datetime(2026, 12, 3)))
    assert not settings.lake_dir("world").exists()
    landed = daily.land(**_context(datetime(2026, 1, 2), datetime(2026, 1, 3)))
    assert landed["rows"]["viewing_events"] > 0
