"""Serving-log compaction: many flushes become one file, every row kept, atomically."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
import pytest

from reelops.monitoring import compaction
from reelops.monitoring.compaction import COMPACTED, MANIFEST, compact_day, day_files
from reelops.serving.prediction_log import append_rows, read_logs

DAY = datetime(2026, 1, 22, tzinfo=UTC)


def _rows(n: int, start: int) -> list[dict]:
    return [
        {
            "logged_at": DAY + timedelta(seconds=start + i),
            "endpoint": "/recommend",
            "model_name": "ranker",
            "model_version": "v1",
            "member_key": f"k{start + i}",
            "features": "{}",
            "output": '{"titles": []}',
            "latency_ms": 1.0,
            "fallback": False,
        }
        for i in range(n)
    ]


def _flushes(lake, count: int = 25) -> int:
    written = 0
    for f in range(count):
        written += append_rows(lake, _rows(f % 4 + 1, written))
    return written


def test_compaction_keeps_every_row_in_one_file(tmp_path):
    written = _flushes(tmp_path)
    before = read_logs(tmp_path)
    assert len(day_files(tmp_path, DAY.date())) == 25
    done = compact_day(tmp_path, DAY.date())
    files = day_files(tmp_path, DAY.date())
    assert [f.name for f in files] == [COMPACTED]
    assert done.rows == written == before.num_rows
    assert read_logs(tmp_path).equals(before)  # same rows, same order
    # Later flushes land beside it, and a second compaction folds them in.
    append_rows(tmp_path, _rows(3, 1000))
    assert compact_day(tmp_path, DAY.date()).rows == written + 3
    assert pq.read_table(files[0]).num_rows == written + 3


def test_a_failed_check_replaces_nothing(tmp_path, monkeypatch):
    _flushes(tmp_path, 5)
    before = sorted(p.name for p in day_files(tmp_path, DAY.date()))
    digests = iter(["a", "b"])
    monkeypatch.setattr(compaction, "_digest", lambda table: next(digests))
    with pytest.raises(compaction.CompactionError):
        compact_day(tmp_path, DAY.date())
    folder = compaction.day_folder(tmp_path, DAY.date())
    assert sorted(p.name for p in day_files(tmp_path, DAY.date())) == before
    assert not list(folder.glob(".*.tmp"))


def test_an_interrupted_compaction_is_finished_without_duplicates(tmp_path, monkeypatch):
    written = _flushes(tmp_path, 6)
    monkeypatch.setattr(compaction, "_finish_interrupted", lambda lake, day: None)
    compact_day(tmp_path, DAY.date())  # crashed after the rename: small files still there
    folder = compaction.day_folder(tmp_path, DAY.date())
    assert (folder / MANIFEST).exists() and len(day_files(tmp_path, DAY.date())) == 7
    monkeypatch.undo()
    compact_day(tmp_path, DAY.date())
    assert [f.name for f in day_files(tmp_path, DAY.date())] == [COMPACTED]
    assert read_logs(tmp_path).num_rows == written


def test_files_from_before_the_arm_column_compact_and_shadow_answers_are_not_monitored(tmp_path):
    from reelops.monitoring.data import serving_logs
    from reelops.serving.prediction_log import SCHEMA

    # A file written before canaries existed: no ``arm`` nor ``request_id`` column.
    old = SCHEMA.remove(SCHEMA.get_field_index("arm"))
    old = old.remove(old.get_field_index("request_id"))
    folder = compaction.day_folder(tmp_path, DAY.date())
    folder.mkdir(parents=True)
    pq.write_table(_old_table(old), folder / "part-1-a.parquet")
    shadow = [dict(row, arm="shadow") for row in _rows(2, 100)]
    served = [dict(row, arm="production") for row in _rows(3, 200)]
    append_rows(tmp_path, shadow + served)
    monitored = serving_logs(tmp_path, DAY.date())
    assert sorted(monitored["member_key"]) == sorted(["k0", "k1", "k200", "k201", "k202"])
    assert compact_day(tmp_path, DAY.date()).rows == 7  # the shadow rows are kept, not lost


def _old_table(schema):
    import pyarrow as pa

    return pa.Table.from_pylist(_rows(2, 0), schema=schema)
