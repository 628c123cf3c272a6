"""Landing an interval: day partitions, snapshots, idempotency and pseudonymization."""

from __future__ import annotations

import hashlib
import stat
from datetime import datetime

import pyarrow.parquet as pq

from reelops import lake
from reelops.features.store import reset_if_replaced
from reelops.ingest import land_interval
from reelops.privacy import MemberKeyVault, load_key, pseudonym
from reelops.sources import read_source_table
from reelops.world.movielens import import_movielens

START, END = datetime(1997, 9, 1), datetime(1998, 1, 1)


def _checksums(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.parquet"))
    }


def test_landing_partitions_by_day_and_is_idempotent(settings, movielens_dir):
    folder, wrote = movielens_dir
    import_movielens(settings, folder)
    result = land_interval(settings, "movielens", START, END)
    assert result.rows["viewing_events"] == wrote["ratings"]
    lake_dir = settings.lake_dir("movielens")
    days = [d for d, _ in lake.partitions(lake_dir, "viewing_events")]
    assert len(days) == result.partitions["viewing_events"] > 10
    for day, path in lake.partitions(lake_dir, "viewing_events"):
        ts = pq.read_table(path).column("ts").to_pandas()
        assert (ts.dt.date == day).all()
    assert [d.isoformat() for d, _ in lake.partitions(lake_dir, "members")] == ["1997-12-31"]
    first = _checksums(lake_dir)
    land_interval(settings, "movielens", START, END)
    assert _checksums(lake_dir) == first


def test_no_raw_member_id_in_the_lake(settings, movielens_dir):
    folder, _ = movielens_dir
    import_movielens(settings, folder)
    land_interval(settings, "movielens", START, END)
    raw_ids = set(read_source_table(settings, "movielens", "members")["member_id"].to_pylist())
    key = load_key(settings)
    for path in settings.lake_dir("movielens").rglob("*.parquet"):
        table = pq.read_table(path)
        assert "member_id" not in table.column_names, path
        for name in table.column_names:
            # MovieLens title ids are small integers like its user ids: not member data.
            if str(table.schema.field(name).type) == "string" and name != "title_id":
                assert not raw_ids & set(table.column(name).to_pylist()), (path, name)
        if "member_key" in table.column_names:
            keys = set(table.column("member_key").to_pylist())
            assert keys <= {pseudonym(m, key) for m in raw_ids}
    with MemberKeyVault(settings) as vault:
        assert vault.key_of("movielens", "1") == pseudonym("1", key)
        assert vault.key_of("movielens", "no-such-member") is None
    for private in settings.private_dir.iterdir():
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, private
    assert stat.S_IMODE(settings.private_dir.stat().st_mode) == 0o700


def test_key_from_environment_wins(settings, monkeypatch):
    from reelops.config import Settings

    env_settings = Settings(home=settings.home, pseudonym_key="k" * 32)
    assert load_key(env_settings) == b"k" * 32
    assert not (settings.private_dir / "pseudonym.key").exists()


def test_replacing_a_source_drops_what_was_derived_from_it(
    settings, movielens_dir, movielens_writer, tmp_path
):
    folder, _ = movielens_dir
    import_movielens(settings, folder)
    land_interval(settings, "movielens", START, END)
    assert not reset_if_replaced(settings, "movielens")  # first use: nothing to reset
    leftover = settings.home / "feast" / "movielens" / "online_store.db"
    leftover.write_text("online rows of the old data")
    assert any(settings.lake_dir("movielens").rglob("*.parquet"))
    other = tmp_path / "other"
    movielens_writer(other, n_users=12, seed=5)
    import_movielens(settings, other)  # a different data set under the same source name
    assert not settings.lake_dir("movielens").exists()
    # The feature store sees the new generation when it next opens the source.
    assert reset_if_replaced(settings, "movielens")
    assert not leftover.exists()
    assert not reset_if_replaced(settings, "movielens")
    result = land_interval(settings, "movielens", START, END)
    assert result.rows["members"] == 12


def test_concurrent_openers_of_an_unchanged_source_never_reset_it(settings, movielens_dir):
    """Two services opening one store at once must not read a half-written stamp as stale."""
    import threading

    import_movielens(settings, movielens_dir[0])
    assert not reset_if_replaced(settings, "movielens")
    leftover = settings.home / "feast" / "movielens" / "online_store.db"
    leftover.write_text("online rows")
    stamp = settings.home / "feast" / "movielens" / "source-generation"
    before = stamp.stat().st_mtime_ns
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(reset_if_replaced(settings, "movielens")))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [False] * 8
    assert leftover.exists()
    assert stamp.stat().st_mtime_ns == before  # an unchanged source is only read
