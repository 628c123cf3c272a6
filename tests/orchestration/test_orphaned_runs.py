"""A killed in-process run is marked failed by the next one, never left "running" forever."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from reelops.config import airflow_environ
from reelops.orchestration.runs import ensure_airflow_db

SLEEPY_DAG = '''"""Test DAG: one task that takes long enough to be killed."""

from datetime import datetime

from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["test"])
def sleepy():
    @task
    def nap():
        import time

        print("NAPPING", flush=True)
        time.sleep(600)

    nap()


sleepy()
'''

STATES = """
import json
from airflow.models.dagrun import DagRun
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session
from sqlalchemy import select
with create_session() as s:
    runs = {r.run_id: str(r.state) for r in s.scalars(select(DagRun))}
    tis = {t.run_id: str(t.state) for t in s.scalars(select(TaskInstance))}
print("STATES " + json.dumps({"runs": runs, "tis": tis}))
"""


def _python(code: str, env: dict, timeout: float = 300) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _states(env: dict) -> dict:
    out = _python(STATES, env)
    return json.loads(next(x for x in out.splitlines() if x.startswith("STATES "))[7:])


@pytest.mark.slow
def test_a_killed_in_process_run_is_failed_by_the_next_cleanup(settings, tmp_path):
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "sleepy.py").write_text(SLEEPY_DAG)
    ensure_airflow_db(settings)
    env = {**os.environ, **airflow_environ(settings), "AIRFLOW__CORE__DAGS_FOLDER": str(folder)}
    driver = f"""
from airflow.dag_processing.dagbag import DagBag
DagBag(dag_folder={str(folder)!r}).dags["sleepy"].test(logical_date=None)
"""
    log = tmp_path / "run.log"
    with log.open("w") as out:
        run = subprocess.Popen(
            [sys.executable, "-c", driver],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 240
    while "NAPPING" not in log.read_text(errors="replace"):
        assert run.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the task never started"
        time.sleep(1)
    os.killpg(run.pid, signal.SIGKILL)  # as a power cut or `kill -9` would
    run.wait(30)
    before = _states(env)
    (run_id,) = before["runs"]
    assert before["runs"][run_id] == "running" and before["tis"][run_id] == "running"

    cleaned = _python(
        "from reelops.orchestration.runs import fail_orphaned_runs\n"
        "print('FAILED ' + ' '.join(fail_orphaned_runs()))",
        env,
    )
    assert f"FAILED {run_id}" in cleaned
    after = _states(env)
    assert after["runs"][run_id] == "failed" and after["tis"][run_id] == "failed"
