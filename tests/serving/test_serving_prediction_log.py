"""Prediction logs: buffered off the request path, nothing lost on close."""

from __future__ import annotations

import threading

import pyarrow.parquet as pq

from reelops.lake import partitions
from reelops.serving.prediction_log import TABLE, PredictionLog


def _log(writer: PredictionLog, i: int) -> None:
    writer.log(
        endpoint="/recommend",
        model_name="ranker",
        model_version="v1",
        member_key=f"key{i}",
        features={"k": 10},
        output={"titles": [i]},
        latency_ms=1.5,
    )


def test_every_row_is_written_once_after_close(tmp_path):
    writer = PredictionLog(tmp_path, flush_seconds=0.05)
    threads = [
        threading.Thread(target=lambda s=s: [_log(writer, s * 1000 + i) for i in range(250)])
        for s in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    files = [path for _, path in partitions(tmp_path, TABLE)]
    table = pq.read_table(files[0])
    assert len(files) == 1 and table.num_rows == 1000 == writer.written
    assert len(set(table.column("member_key").to_pylist())) == 1000


def test_a_second_writer_appends_to_the_same_day(tmp_path):
    for start in (0, 10):
        writer = PredictionLog(tmp_path, flush_seconds=60)
        for i in range(start, start + 10):
            _log(writer, i)
        writer.close()
    ((_, path),) = partitions(tmp_path, TABLE)
    assert pq.read_table(path).num_rows == 20
