"""Parse one DAG file in a fresh interpreter (Airflow's own DagBag) and report on its DAG."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from reelops.config import PROJECT_ROOT, Settings, airflow_environ


def probe_dag(home: Path, dag_id: str, fields: str) -> dict:
    """``fields`` (a Python dict expression over ``dag``) for DAG ``dags/<dag_id>.py``.

    The DAG file is parsed in a new process whose Airflow home is under ``home``.
    """
    probe = f"""
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={str(PROJECT_ROOT / "dags" / f"{dag_id}.py")!r})
dag = bag.dags[{dag_id!r}]
print(json.dumps({fields}))
"""
    env = {**airflow_environ(Settings(home=home)), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
