"""The daily DAG end to end through Airflow on a tiny world; privacy across lake and warehouse."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import duckdb
import pyarrow.parquet as pq
import pytest

from reelops.sources import read_source_table
from reelops.world.generator import WorldConfig
from reelops.world.synthetic_source import generate_source


def _user_home(settings):
    return settings.home.parent / "user-home"


def _reelops(settings, *args: str) -> str:
    # A private HOME shows whether anything (Airflow, dbt, BentoML...) writes to ~.
    _user_home(settings).mkdir(exist_ok=True)
    env = {**os.environ, "REELOPS_HOME": str(settings.home), "HOME": str(_user_home(settings))}
    done = subprocess.run(
        [sys.executable, "-m", "reelops.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, (done.stdout[-4000:], done.stderr[-4000:])
    return done.stdout


def _checksums(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.parquet"))
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from reelops.config import Settings

    settings = Settings(home=tmp_path_factory.mktemp("pipeline") / "home")
    config = WorldConfig.tiny(days=4)
    generate_source(settings, config)
    out = _reelops(settings, "pipeline", "run", "--start", "2026-01-01", "--end", "2026-01-05")
    return settings, out


@pytest.mark.slow
def test_daily_dag_runs_end_to_end(built):
    settings, out = built
    assert "reelops_daily [2026-01-01, 2026-01-05): success" in out
    lines = {line.split()[0]: line.split()[1] for line in out.splitlines() if line.startswith("  ")}
    assert lines["land"] == "success" and lines["build_warehouse"] == "success"
    marts = settings.marts_dir("world")
    rows = {p.stem: pq.read_metadata(p).num_rows for p in marts.glob("*.parquet")}
    assert rows["dim_members"] > 0 and rows["fct_ranking_interactions"] > 0
    assert rows["fct_member_daily"] > rows["dim_members"]  # one row per member-day
    assert rows["fct_delivery_samples"] > 0


@pytest.mark.slow
def test_nothing_is_written_to_the_users_home(built):
    settings, _ = built
    assert sorted(p.name for p in _user_home(settings).iterdir()) == []


@pytest.mark.slow
def test_rerunning_an_interval_gives_identical_lake(built):
    settings, _ = built
    before = _checksums(settings.lake_dir("world"))
    _reelops(settings, "pipeline", "run", "--start", "2026-01-01", "--end", "2026-01-05")
    assert _checksums(settings.lake_dir("world")) == before


@pytest.mark.slow
def test_no_raw_member_id_in_lake_or_warehouse(built):
    settings, _ = built
    raw_ids = set(read_source_table(settings, "world", "members")["member_id"].to_pylist())
    assert raw_ids and all(m.startswith("m") for m in raw_ids)

    def leaks(values) -> set:
        return {v for v in values if isinstance(v, str) and v in raw_ids}

    files = list(settings.lake_root.rglob("*.parquet")) + list(
        settings.warehouse_dir.rglob("*.parquet")
    )
    assert len(files) > 10
    for path in files:
        table = pq.read_table(path)
        assert "member_id" not in table.column_names, path
        for name in table.column_names:
            if table.schema.field(name).type in ("string", "large_string"):
                assert not leaks(table.column(name).to_pylist()), (path, name)
    con = duckdb.connect(str(settings.duckdb_path("world")), read_only=True)
    try:
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall():
            frame = con.execute(f'select * from "{schema}"."{name}"').df()
            assert "member_id" not in frame.columns, name
            for column in frame.select_dtypes("object"):
                assert not leaks(frame[column].tolist()), (name, column)
    finally:
        con.close()


@pytest.mark.slow
def test_a_historical_import_runs_its_tasks(tmp_path, movielens_writer):
    """MovieLens days lie in 1997-98, long before the DAG's first scheduled day."""
    from reelops.config import Settings

    settings = Settings(home=tmp_path / "home")
    movielens_writer(tmp_path / "ml", n_users=20, n_items=30)
    _reelops(settings, "import", "movielens", str(tmp_path / "ml"))
    out = _reelops(settings, "pipeline", "run", "--start", "1997-09-20", "--end", "1997-11-25")
    lines = {line.split()[0]: line.split()[1] for line in out.splitlines() if line.startswith("  ")}
    assert lines["land"] == "success" and lines["materialize_features"] == "success"
    marts = settings.marts_dir("movielens")
    assert pq.read_metadata(marts / "fct_viewing_events.parquet").num_rows > 100
