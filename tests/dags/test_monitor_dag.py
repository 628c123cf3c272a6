"""The monitoring DAGs: tasks, schedules on the serving logs, and the retraining Asset."""

from __future__ import annotations

import json
import subprocess
import sys

from reelops.config import PROJECT_ROOT, Settings, airflow_environ

DAGS = PROJECT_ROOT / "dags"


def _describe(tmp_path) -> dict:
    probe = f"""
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={str(DAGS)!r})
assert not bag.import_errors, bag.import_errors
out = {{}}
for dag_id in ("reelops_monitor", "reelops_serving_logs", "reelops_ranker", "reelops_bitrate"):
    d = bag.dags[dag_id]
    condition = getattr(d.timetable, "asset_condition", None)
    out[dag_id] = {{
        "tasks": {{t.task_id: sorted(t.downstream_task_ids) for t in d.tasks}},
        "outlets": {{t.task_id: [o.name for o in t.outlets] for t in d.tasks if t.outlets}},
        "condition": type(condition).__name__ if condition is not None else None,
        "assets": [a.name for a in condition.objects] if condition is not None else [],
        "timetable": type(d.timetable).__name__,
    }}
print(json.dumps(out))
"""
    env = {**airflow_environ(Settings(home=tmp_path)), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_monitoring_dags_tasks_and_schedules(tmp_path):
    found = _describe(tmp_path)
    monitor = found["reelops_monitor"]
    assert monitor["tasks"] == {
        "check": ["decide_canaries", "request_retrain"],
        "decide_canaries": [],
        "request_retrain": [],
    }
    assert monitor["outlets"] == {"request_retrain": ["reelops_retrain_requested"]}
    assert monitor["assets"] == ["reelops_serving_logs"]
    logs = found["reelops_serving_logs"]
    assert logs["outlets"] == {"compact": ["reelops_serving_logs"]}
    assert logs["timetable"] == "CronDataIntervalTimetable"
    for training in ("reelops_ranker", "reelops_bitrate"):
        # Either Asset starts a training: an Airflow 3 asset expression with |.
        assert found[training]["condition"] == "AssetAny"
        assert found[training]["assets"] == [
            "reelops_online_features",
            "reelops_retrain_requested",
        ]
