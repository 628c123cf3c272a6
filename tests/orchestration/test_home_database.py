"""One process, two homes: in-process runs use the metadata database of the home they run for."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from reelops.config import Settings
from reelops.orchestration.runs import ensure_airflow_db

PROBE = """
import json, sys
from reelops.config import Settings
from reelops.orchestration.runs import use_home_database
first, second = Settings(home=sys.argv[1]), Settings(home=sys.argv[2])
use_home_database(first)
from airflow import settings
from airflow.models.dagrun import DagRun
from airflow.utils.session import create_session
from sqlalchemy import func, select
seen = [settings.SQL_ALCHEMY_CONN]
use_home_database(second)
with create_session() as session:
    runs = session.scalar(select(func.count()).select_from(DagRun))
seen.append(settings.SQL_ALCHEMY_CONN)
print("SEEN " + json.dumps({"conns": seen, "runs": runs}))
"""


@pytest.mark.slow
def test_a_second_home_gets_its_own_database(tmp_path):
    homes = [tmp_path / "first", tmp_path / "second"]
    for home in homes:
        ensure_airflow_db(Settings(home=home))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "REELOPS"))}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, homes)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(next(x for x in done.stdout.splitlines() if x.startswith("SEEN "))[5:])
    first, second = seen["conns"]
    assert "/first/airflow/airflow.db" in first
    assert "/second/airflow/airflow.db" in second
    assert seen["runs"] == 0  # the second home's migrated, empty database answered
