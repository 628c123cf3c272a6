"""Every Asset a DAG is scheduled on is published by some DAG, under a name from one module."""

from __future__ import annotations

import json
import subprocess
import sys

from reelops.config import PROJECT_ROOT, Settings, airflow_environ

DAGS = PROJECT_ROOT / "dags"


def _assets_of_dags(tmp_path) -> dict:
    probe = f"""
import json
from airflow.dag_processing.dagbag import DagBag
from reelops.orchestration.assets import ASSETS, EXTERNAL_ASSETS
bag = DagBag(dag_folder={str(DAGS)!r})
assert not bag.import_errors, bag.import_errors
print(json.dumps({{
    "names": [a.name for a in ASSETS],
    "external": [a.name for a in EXTERNAL_ASSETS],
    "scheduled": {{
        d.dag_id: [a.name for a in d.timetable.asset_condition.objects]
        for d in bag.dags.values() if getattr(d.timetable, "asset_condition", None) is not None
    }},
    "produced": {{
        d.dag_id: sorted({{o.name for t in d.tasks for o in t.outlets}})
        for d in bag.dags.values()
    }},
}}))
"""
    env = {**airflow_environ(Settings(home=tmp_path)), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_scheduled_asset_is_produced_by_some_dag(tmp_path):
    found = _assets_of_dags(tmp_path)
    produced = {name for names in found["produced"].values() for name in names}
    scheduled = {name for names in found["scheduled"].values() for name in names}
    training = ["reelops_online_features", "reelops_retrain_requested"]
    assert found["scheduled"] == {
        "reelops_ranker": training,
        "reelops_bitrate": training,
        "reelops_content": ["reelops_scripts"],
        "reelops_monitor": ["reelops_serving_logs"],
        "reelops_artwork": ["reelops_online_features"],
    }
    # An external Asset's events come from a command (the script import), never a DAG.
    external = set(found["external"])
    assert not external & produced, f"external yet produced by a DAG: {external & produced}"
    unproduced = scheduled - produced - external
    assert not unproduced, f"scheduled on but never produced: {unproduced}"
    # Every name in play comes from reelops.orchestration.assets.
    assert produced | scheduled <= set(found["names"])


def test_dag_files_take_assets_from_the_one_module():
    for path in sorted(DAGS.glob("*.py")):
        text = path.read_text()
        assert "Asset(" not in text, f"{path.name} declares an Asset; import it instead"
        if "outlets=" in text or "schedule=[" in text:
            assert "from reelops.orchestration.assets import" in text, path.name
