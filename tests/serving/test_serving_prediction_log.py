"""Prediction logs: buffered off the request path, nothing lost on close."""

from __future__ import annotations

import threading

import pyarrow.parquet as pq

from reelops.serving.prediction_log import PredictionLog, log_files, read_logs


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
    table = read_logs(tmp_path)
    assert table.num_rows == 1000 == writer.written
    assert len(set(table.column("member_key").to_pylist())) == 1000


def test_flushes_only_add_files_and_a_second_writer_shares_the_day(tmp_path):
    first = PredictionLog(tmp_path, flush_seconds=60)
    for i in range(10):
        _log(first, i)
    first.flush()
    (written,) = log_files(tmp_path)
    before = written.read_bytes()
    for i in range(10, 15):
        _log(first, i)
    first.close()
    second = PredictionLog(tmp_path, flush_seconds=60)
    for i in range(15, 20):
        _log(second, i)
    second.close()

    files = log_files(tmp_path)
    assert len(files) == 3 and len({f.parent for f in files}) == 1  # one day, three flushes
    assert files[0] == written and written.read_bytes() == before  # never rewritten
    assert [pq.read_table(f).num_rows for f in files] == [10, 5, 5]
    keys = read_logs(tmp_path).column("member_key").to_pylist()
    assert keys == [f"key{i}" for i in range(20)]  # in the order they were logged
