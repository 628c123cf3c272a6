"""The ranker DAG's wiring: scheduled on the online features, search mapped, save_candidate last."""

from __future__ import annotations

import json
import subprocess
import sys

from reelops.config import PROJECT_ROOT, Settings, airflow_environ


def test_ranker_dag_wiring(tmp_path):
    probe = f"""
import json
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder={str(PROJECT_ROOT / "dags" / "reelops_ranker.py")!r}).dags["reelops_ranker"]
tasks = {{t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}}
print(json.dumps({{
    "tasks": tasks,
    "leaves": sorted(t.task_id for t in dag.leaves),
    "mapped": sorted(t.task_id for t in dag.tasks if "Mapped" in type(t).__name__),
    "assets": [a.name for a in dag.timetable.asset_condition.objects],
    "catchup": dag.catchup,
    "retries": sorted({{t.retries for t in dag.tasks}}),
}}))
"""
    env = {**airflow_environ(Settings(home=tmp_path)), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    dag = json.loads(done.stdout.strip().splitlines()[-1])
    assert dag["tasks"] == {
        "training_set": [],
        "search": ["training_set"],
        "train": ["search"],
        "evaluate": ["train"],
        "save_candidate": ["evaluate"],
        "gates": ["save_candidate"],
        "route": ["gates"],
        "approval": ["route"],
        "promote": ["approval", "gates", "route"],
        "reject": ["promote"],
        "released": ["gates", "promote", "reject"],
    }
    assert dag["leaves"] == ["released"]
    assert dag["mapped"] == ["search"]
    assert dag["assets"] == ["reelops_online_features", "reelops_retrain_requested"]
    assert dag["catchup"] is False and dag["retries"] == [1]
    source = (PROJECT_ROOT / "dags" / "reelops_ranker.py").read_text()
    assert "import pandas" not in source and len(source.splitlines()) < 100
