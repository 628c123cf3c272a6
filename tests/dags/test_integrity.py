"""DAG integrity: every DAG file imports cleanly and fast, with tags, retries and docs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
HEAVY = ("feast", "xgboost", "evidently", "bentoml", "dbt", "duckdb", "pandas", "numpy", "sklearn")
# The only reelops imports a DAG file makes at its top: the Asset names and the training
# DAGs' shared release tail, both Airflow objects only.
TOP_IMPORTS = (
    "from reelops.orchestration.assets import ",
    "from reelops.orchestration.release_tail import release_tasks, training_params",
)
PARSE_TIME_MODULES = {
    "reelops",
    "reelops.orchestration",
    "reelops.orchestration.assets",
    "reelops.orchestration.release_tail",
}
DAG_FILES = sorted(DAGS.glob("*.py"))
PROJECT_DAGS = (
    "reelops_artwork",
    "reelops_bitrate",
    "reelops_content",
    "reelops_daily",
    "reelops_monitor",
    "reelops_privacy",
    "reelops_ranker",
    "reelops_serving_logs",
)


def _parse_in_fresh_process(path: Path, airflow_env: dict) -> dict:
    """Import one DAG file in a new interpreter; report its DAGs, time and heavy imports."""
    probe = f"""
import importlib.util, json, sys, time
import airflow.sdk  # Airflow itself takes seconds to import; time only the DAG file
t0 = time.perf_counter()
spec = importlib.util.spec_from_file_location("dagfile", {str(path)!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
elapsed = time.perf_counter() - t0
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({list(HEAVY)!r}))
ours = sorted(m for m in sys.modules if m.split(".")[0] == "reelops")
from airflow.dag_processing.dagbag import DagBag
dags = list(DagBag(dag_folder={str(path)!r}).dags.values())
print(json.dumps({{"elapsed": elapsed, "heavy": heavy, "ours": ours, "dags": [
    {{"dag_id": d.dag_id, "tags": sorted(d.tags), "doc": bool(d.doc_md),
      "tasks": {{t.task_id: t.retries for t in d.tasks}}}} for d in dags]}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=airflow_env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory):
    import os

    from reelops.config import Settings, airflow_environ

    home = tmp_path_factory.mktemp("home")
    return {**os.environ, **airflow_environ(Settings(home=home))}


def test_there_are_dag_files():
    assert DAG_FILES, f"no DAG files in {DAGS}"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_fast_without_heavy_modules(path, airflow_env):
    result = _parse_in_fresh_process(path, airflow_env)
    assert result["dags"], f"{path.name} defines no DAG"
    assert result["heavy"] == [], f"{path.name} imports {result['heavy']} at parse time"
    # Only the Asset names and the release tail (Airflow objects) may load at parse time.
    extra = set(result["ours"]) - PARSE_TIME_MODULES
    assert not extra, f"{path.name} imports {sorted(extra)} at parse time"
    assert result["elapsed"] < 2.0, f"{path.name} took {result['elapsed']:.2f}s to parse"
    for dag in result["dags"]:
        assert "reelops" in dag["tags"], dag
        assert dag["doc"], f"{dag['dag_id']} has no doc_md"
        assert all(retries >= 1 for retries in dag["tasks"].values()), dag


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_files_stay_thin(path):
    text = path.read_text()
    assert len(text.splitlines()) < 100
    top = [line for line in text.split("@dag")[0].splitlines() if "reelops" in line]
    top = [line for line in top if not line.startswith(TOP_IMPORTS)]
    assert not [line for line in top if "import" in line], f"reelops imported at the top: {top}"


def test_dagbag_has_no_import_errors(airflow_env, tmp_path):
    probe = f"""
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={str(DAGS)!r})
print(json.dumps({{"errors": bag.import_errors, "dags": sorted(bag.dags)}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=airflow_env, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert result["dags"] == sorted(PROJECT_DAGS)
