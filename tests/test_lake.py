"""Lake partitions: replaced atomically, identical when rewritten, intact after a crash, checked."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reelops import lake

DAY = date(2026, 1, 2)


def _table(n: int, offset: int = 0) -> pa.Table:
    return pa.table({"id": list(range(offset, offset + n)), "v": [f"x{i}" for i in range(n)]})


def test_rewrite_replaces_the_day_and_is_byte_identical(tmp_path):
    path = lake.write_partition(tmp_path, "t", DAY, _table(10))
    first = path.read_bytes()
    lake.write_partition(tmp_path, "t", DAY, _table(3, offset=100))
    assert pq.read_table(path).column("id").to_pylist() == [100, 101, 102]
    lake.write_partition(tmp_path, "t", DAY, _table(10))
    assert path.read_bytes() == first
    assert sorted(p.name for p in path.parent.iterdir()) == [lake.PART_FILE, lake.CHECKSUM_FILE]


def test_failed_write_keeps_previous_partition(tmp_path, monkeypatch):
    path = lake.write_partition(tmp_path, "t", DAY, _table(5))

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(lake.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        lake.write_partition(tmp_path, "t", DAY, _table(50))
    assert pq.read_table(path).num_rows == 5
    lake.verify_partition(path)  # the old checksum still matches the old partition
    assert sorted(p.name for p in path.parent.iterdir()) == [lake.PART_FILE, lake.CHECKSUM_FILE]


def test_write_killed_midway_leaves_previous_partition_readable(tmp_path):
    path = lake.write_partition(tmp_path, "t", DAY, _table(5))
    child = textwrap.dedent(
        f"""
        import sys, time
        import pyarrow as pa, pyarrow.parquet as pq
        from reelops import lake

        def half_then_hang(table, where, **kw):
            with open(where, "wb") as fh:
                fh.write(b"PAR1" + b"\\0" * 4096)
                fh.flush()
            print("writing", flush=True)
            time.sleep(60)

        lake.pq.write_table = half_then_hang
        lake.write_partition(__import__("pathlib").Path({str(tmp_path)!r}), "t",
                             __import__("datetime").date(2026, 1, 2),
                             pa.table({{"id": list(range(1000))}}))
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.kill()
    proc.wait()
    assert pq.read_table(path).column("id").to_pylist() == list(range(5))
    assert [day for day, _ in lake.partitions(tmp_path, "t")] == [DAY]


def _flip(path, offset: int, n: int = 64) -> None:
    data = bytearray(path.read_bytes())
    data[offset : offset + n] = bytes(b ^ 0xFF for b in data[offset : offset + n])
    path.write_bytes(bytes(data))


def test_flipped_bytes_are_refused_naming_the_partition(tmp_path):
    path = lake.write_partition(tmp_path, "t", DAY, _table(200))
    assert [day for day, _ in lake.partitions(tmp_path, "t")] == [DAY]
    _flip(path, offset=len(path.read_bytes()) // 3)
    with pytest.raises(lake.LakeIntegrityError, match=r"day=2026-01-02/part-0\.parquet.*corrupt"):
        list(lake.partitions(tmp_path, "t"))
    with pytest.raises(lake.LakeIntegrityError, match="corrupt"):
        lake.verify_table(tmp_path, "t")
    lake.write_partition(tmp_path, "t", DAY, _table(200))  # landing again repairs it
    assert lake.verify_table(tmp_path, "t") == 1


def test_a_partition_without_checksum_or_with_strays_is_refused(tmp_path):
    path = lake.write_partition(tmp_path, "t", DAY, _table(5))
    (path.parent / "extra.parquet").write_bytes(path.read_bytes())
    with pytest.raises(lake.LakeIntegrityError, match=r"unexpected parquet file\(s\) \['extra"):
        lake.verify_table(tmp_path, "t")
    (path.parent / "extra.parquet").unlink()
    (path.parent / lake.CHECKSUM_FILE).unlink()
    with pytest.raises(lake.LakeIntegrityError, match="no checksum"):
        lake.verify_table(tmp_path, "t")


def test_delete_removes_the_checksum_too(tmp_path):
    path = lake.write_partition(tmp_path, "t", DAY, _table(5))
    assert lake.delete_partition(tmp_path, "t", DAY)
    assert not path.parent.exists()
