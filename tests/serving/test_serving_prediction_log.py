"""Prediction logs: buffered off the request path, nothing lost on close."""

from __future__ import annotations

import threading

import pyarrow.parquet as pq

from reelops.serving.prediction_log import PredictionLog, append_rows, log_files, read_logs


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


class FlakyLake:
    """Fails the first ``failures`` writes, then writes for real."""

    def __init__(self, failures: int):
        self.failures = failures
        self.calls = 0

    def __call__(self, lake_dir, rows):
        self.calls += 1
        if self.calls <= self.failures:
            raise OSError("disk full")
        return append_rows(lake_dir, rows)


def test_a_failed_flush_is_retried_and_the_thread_keeps_logging(tmp_path):
    lake = FlakyLake(failures=1)
    writer = PredictionLog(tmp_path / "lake", flush_seconds=0.02, backoff_seconds=0.01, writer=lake)
    for i in range(5):
        _log(writer, i)
    for _ in range(200):
        if writer.written == 5:
            break
        threading.Event().wait(0.01)
    assert writer._thread.is_alive() and writer.failed_flushes == 1
    for i in range(5, 8):  # later rows still reach the lake through the same thread
        _log(writer, i)
    writer.close()
    assert read_logs(tmp_path / "lake").num_rows == 8 == writer.written
    assert writer.spilled == writer.dropped == 0


def test_a_lake_that_stays_down_spills_then_the_spill_reaches_the_lake(tmp_path):
    lake = FlakyLake(failures=3)  # every attempt of the first batch fails
    writer = PredictionLog(
        tmp_path / "lake",
        flush_seconds=60,
        spill_dir=tmp_path / "spill",
        attempts=3,
        backoff_seconds=0.001,
        writer=lake,
    )
    for i in range(4):
        _log(writer, i)
    assert writer.flush() == 0 and writer.spilled == 4 and writer.dropped == 0
    assert len(list((tmp_path / "spill").glob("spill-*.parquet"))) == 1
    for i in range(4, 6):
        _log(writer, i)
    writer.close()  # the lake is back: the new rows and the spilled ones are written
    keys = sorted(read_logs(tmp_path / "lake").column("member_key").to_pylist())
    assert keys == sorted(f"key{i}" for i in range(6)) and writer.written == 6
    assert not list((tmp_path / "spill").glob("spill-*.parquet"))


def test_rows_are_dropped_only_when_the_spill_fails_too_and_then_counted(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the spill folder should be")
    writer = PredictionLog(
        tmp_path / "lake",
        flush_seconds=60,
        spill_dir=blocked,
        attempts=2,
        backoff_seconds=0.001,
        writer=FlakyLake(failures=10**6),
    )
    for i in range(3):
        _log(writer, i)
    writer.flush()
    assert writer.dropped == 3 and writer.spilled == 0 and writer.failed_flushes == 2
    writer.close()
