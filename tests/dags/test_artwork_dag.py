"""The artwork DAG: its wiring on the features Asset, and one real run on a tiny world."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import pytest

from reelops.config import PROJECT_ROOT, Settings, airflow_environ

# models/artwork.yaml made small: few trees, few resamples, small drift samples.
SMALL_SPEC = (PROJECT_ROOT / "models" / "artwork.yaml").read_text()
SMALL_SPEC = SMALL_SPEC.replace("num_boost_round: 60", "num_boost_round: 10")
SMALL_SPEC = SMALL_SPEC.replace("bootstrap: 1000", "bootstrap: 100")
SMALL_SPEC = SMALL_SPEC.replace("reference_rows: 5000", "reference_rows: 300")
SMALL_SPEC = SMALL_SPEC.replace("sample_rows: 5000", "sample_rows: 300")


def test_tasks_run_in_order_on_the_features_asset(tmp_path):
    probe = f"""
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={str(PROJECT_ROOT / "dags" / "reelops_artwork.py")!r})
dag = bag.dags["reelops_artwork"]
print(json.dumps({{
    "tasks": {{t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}},
    "leaves": sorted(t.task_id for t in dag.leaves),
    "assets": [a.name for a in dag.timetable.asset_condition.objects],
    "retries": sorted({{t.retries for t in dag.tasks}}),
    "catchup": dag.catchup,
    "max_active_runs": dag.max_active_runs,
    "tags": sorted(dag.tags),
    "params": sorted(dag.params),
}}))
"""
    env = {**airflow_environ(Settings(home=tmp_path)), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    dag = json.loads(done.stdout.strip().splitlines()[-1])
    # Training set -> train -> off-policy evaluation -> candidate, then the release tail
    # every training DAG ends with (orchestration.release_tail).
    assert dag["tasks"] == {
        "training_set": [],
        "train": ["training_set"],
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
    assert dag["assets"] == ["reelops_online_features"]
    assert dag["retries"] == [1] and dag["catchup"] is False and dag["max_active_runs"] == 1
    assert {"reelops", "training", "artwork"} <= set(dag["tags"])
    assert dag["params"] == ["approval", "spec"]


@pytest.mark.slow
def test_dag_trains_judges_and_releases_a_policy(settings, tmp_path):
    """Tiny world -> warehouse -> reelops_artwork through dag.test(): the policy judged
    off-policy, saved and released (promoted if its gates pass, else rejected)."""
    from reelops.ingest import land_interval
    from reelops.orchestration.runs import run_dag
    from reelops.registry import Registry
    from reelops.warehouse import build
    from reelops.world.generator import WorldConfig
    from reelops.world.synthetic_source import generate_source

    generate_source(settings, WorldConfig.tiny(n_members=300, days=6, sessions_per_day=4))
    land_interval(settings, "world", datetime(2026, 1, 1), datetime(2026, 1, 7))
    build(settings, "world")
    spec_path = tmp_path / "artwork.yaml"
    spec_path.write_text(SMALL_SPEC)
    conf = {"approval": "auto", "spec": str(spec_path)}

    result = run_dag(settings, "reelops_artwork", conf=conf)
    assert result.ok, result.task_states
    registry = Registry(settings)
    [first] = registry.list("artwork")
    checks = {c["name"]: c for c in first.gates["checks"]}
    assert checks["value vs champion"]["status"] == "skip"  # the first policy
    assert {"value vs uniform random", "dr and snips agree on candidate"} <= set(checks)
    assert first.stage == ("production" if first.gates["passed"] else "rejected")
    assert first.lineage["feature_service"] == "artwork_v1"
    assert first.metrics["holdout_impressions"] > 1000
    files = registry.files("artwork", first.version)
    for name in ("policy/policy.json", "policy/booster_0.json", "holdout/impressions.parquet"):
        assert (files / name).is_file(), name
    from reelops.quality.release import release_summary

    print(release_summary(settings, "artwork", first.version))
