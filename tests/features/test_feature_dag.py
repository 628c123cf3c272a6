"""The daily DAG materializes features after the warehouse build, in a thin task."""

from __future__ import annotations

import json
import subprocess
import sys

from reelops.config import PROJECT_ROOT, Settings, airflow_environ


def test_materialize_features_runs_after_build_warehouse(tmp_path):
    probe = f"""
import json
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder={str(PROJECT_ROOT / "dags" / "reelops_daily.py")!r}).dags["reelops_daily"]
task = dag.get_task("materialize_features")
print(json.dumps({{
    "upstream": sorted(task.upstream_task_ids),
    "downstream": sorted(task.downstream_task_ids),
    "outlets": [o.name for o in task.outlets],
    "retries": task.retries,
}}))
"""
    env = {**airflow_environ(Settings(home=tmp_path)), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    task = json.loads(done.stdout.strip().splitlines()[-1])
    assert task == {
        "upstream": ["build_warehouse"],
        "downstream": [],
        "outlets": ["reelops_online_features"],
        "retries": 2,
    }
    source = (PROJECT_ROOT / "dags" / "reelops_daily.py").read_text()
    assert "reelops.orchestration.daily import materialize_features" in source
