"""Two `pipeline run`s at once: they take turns, both histories stay in Airflow, same data."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pandas as pd
import pytest
from test_pipeline import _checksums

from reelops.config import Settings
from reelops.world.generator import WorldConfig
from reelops.world.synthetic_source import generate_source

# One key for both homes, so their pseudonymized data can be compared byte for byte.
KEY = "0123456789abcdef0123456789abcdef"
RUN = ["pipeline", "run", "--start", "2026-01-01", "--end", "2026-01-03"]


def _start(settings: Settings) -> subprocess.Popen:
    env = {**os.environ, "REELOPS_HOME": str(settings.home), "REELOPS_PSEUDONYM_KEY": KEY}
    return subprocess.Popen(
        [sys.executable, "-m", "reelops.cli", *RUN],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _home(tmp_path, name: str) -> Settings:
    settings = Settings(home=tmp_path / name)
    generate_source(settings, WorldConfig.tiny(days=2))
    return settings


@pytest.mark.slow
def test_concurrent_pipeline_runs_take_turns_and_keep_every_run(tmp_path):
    settings = _home(tmp_path, "twice")
    first, second = _start(settings), _start(settings)
    outs = [p.communicate(timeout=900) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outs
    assert any("waiting for pid" in err for _, err in outs)

    db = sqlite3.connect(settings.airflow_home / "airflow.db")
    runs = db.execute("select run_id, state from dag_run where dag_id = 'reelops_daily'").fetchall()
    assert len(runs) == 2 and {state for _, state in runs} == {"success"}, runs
    for run_id, _ in runs:
        tis = db.execute(
            "select task_id, state from task_instance where run_id = ?", (run_id,)
        ).fetchall()
        assert sorted(tis) == [
            ("build_warehouse", "success"),
            ("land", "success"),
            ("materialize_features", "success"),
        ]

    once = _home(tmp_path, "once")
    single = _start(once)
    assert single.wait(timeout=900) == 0
    assert _checksums(settings.lake_dir("world")) == _checksums(once.lake_dir("world"))
    # DuckDB writes marts in no fixed row order: compare their sorted contents.
    for mart in sorted(once.marts_dir("world").glob("*.parquet")):
        pd.testing.assert_frame_equal(
            _sorted(settings.marts_dir("world") / mart.name), _sorted(mart), check_like=True
        )


def _sorted(path) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    return frame.sort_values(sorted(frame.columns)).reset_index(drop=True)
