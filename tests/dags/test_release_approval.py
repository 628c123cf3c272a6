"""The release tail in Airflow: auto promotes, failing gates reject, a person approves via REST.

A toy model kind (``tests/quality/toy_model.py``) saved in the registry for real goes
through :func:`reelops.orchestration.release_tail.release_tasks` in a small DAG written into a
temporary DAGs folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from airflow_stack import airflow_stack, finished_run, wait

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "quality"))
import toy_model  # noqa: E402

from reelops.orchestration import local as airflow_local  # noqa: E402
from reelops.registry import Registry  # noqa: E402

TOY_DAG = '''"""Test DAG: a toy candidate goes through the release tail."""

from datetime import datetime

from airflow.sdk import dag, task

from reelops.orchestration.release_tail import release_tasks


@dag(schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["test"])
def toy_release():
    @task
    def save_candidate(**context) -> dict:
        conf = context["dag_run"].conf
        return {key: conf[key] for key in ("model", "version", "approval", "spec")}

    release_tasks("toy", save_candidate())


toy_release()
'''


def use_toy_dags(folder: Path, patch: pytest.MonkeyPatch) -> Path:
    """Write the toy release DAG into ``folder``; make components and tasks find it."""
    folder.mkdir()
    (folder / "toy_release.py").write_text(TOY_DAG)
    quality = str(Path(toy_model.__file__).parent)
    patch.setenv("PYTHONPATH", os.pathsep.join([quality, os.environ.get("PYTHONPATH", "")]))
    original = airflow_local.airflow_environ
    patch.setattr(
        airflow_local,
        "airflow_environ",
        lambda settings: {**original(settings), "AIRFLOW__CORE__DAGS_FOLDER": str(folder)},
    )
    return folder


@pytest.fixture
def toy_dags(tmp_path, monkeypatch) -> Path:
    """A DAGs folder holding only the toy release DAG; components and tasks find it."""
    return use_toy_dags(tmp_path / "dags", monkeypatch)


def conf(version: str, spec: Path, approval: str) -> dict:
    return {"model": "toy", "version": version, "approval": approval, "spec": str(spec)}


@pytest.mark.slow
def test_auto_approval_promotes_and_failing_gates_reject_in_process(settings, toy_dags, tmp_path):
    from reelops.orchestration.runs import ensure_airflow_db

    spec = toy_model.write_spec(tmp_path)
    good = toy_model.save(settings, 2.0)
    broken = toy_model.save(settings, -0.05, seed=1)
    ensure_airflow_db(settings)
    runs = [conf(good, spec, "auto"), conf(broken, spec, "human"), conf("nope", spec, "auto")]
    # dag.test() in a fresh interpreter: an Airflow imported earlier in this process
    # keeps the project's DAG folder, and dag.test() serializes through that folder.
    driver = f"""
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={str(toy_dags)!r})
assert not bag.import_errors, bag.import_errors
dag = bag.dags["toy_release"]
for run_conf in json.loads({json.dumps(json.dumps(runs))}):
    run = dag.test(logical_date=None, run_conf=run_conf)
    states = {{ti.task_id: str(ti.state) for ti in run.get_task_instances()}}
    print("STATES " + json.dumps({{"run": str(run.state), **states}}), flush=True)
"""
    env = {**os.environ, **airflow_local.airflow_environ(settings)}
    done = subprocess.run(
        [sys.executable, "-c", driver], env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = [
        json.loads(line[7:]) for line in done.stdout.splitlines() if line.startswith("STATES ")
    ]
    auto, failing, unknown = found
    assert auto == {
        "run": "success",
        "save_candidate": "success",
        "gates": "success",
        "route": "success",
        "approval": "skipped",
        "promote": "success",
        "reject": "skipped",
        "released": "success",
    }
    registry = Registry(settings)
    assert registry.production("toy").version == good
    # Failing gates never reach the approval step, even with human approval.
    assert failing["approval"] == "skipped" and failing["promote"] == "skipped"
    assert failing["reject"] == "success" and failing["released"] == "success"
    assert registry.get("toy", broken).stage == "rejected"
    assert registry.production("toy").version == good
    assert registry.audit_log("toy")[-1].reason.startswith("failed gates: quality: score vs")
    # A failure above the tail (here: an unknown version) fails the run, never "success".
    assert unknown["run"] == "failed"
    assert unknown["gates"] == "failed" and unknown["released"] == "upstream_failed"


SETTLE_S = 2.0  # after the scheduler has the paused task's executor event


def _executor_reported(settings, run_id: str, task_id: str) -> bool | None:
    """Whether the scheduler has received the executor's event for a paused task."""
    log = settings.airflow_home / "logs" / "components" / "scheduler.log"
    text = log.read_text(errors="replace") if log.is_file() else ""
    needle = f"task_id='{task_id}', run_id='{run_id}'"
    seen = any("Received executor event" in line and needle in line for line in text.splitlines())
    return True if seen else None


@pytest.mark.slow
def test_human_approval_waits_and_rest_answers_promote_or_reject(
    settings, toy_dags, tmp_path, monkeypatch
):
    spec = toy_model.write_spec(tmp_path, approval="human")
    approved, rejected = toy_model.save(settings, 2.0), toy_model.save(settings, 2.0, seed=4)
    with airflow_stack(settings) as (api, _):
        client = api.client
        api.wait_for_dag("toy_release")
        runs = {v: api.trigger("toy_release", conf(v, spec, "human")) for v in (approved, rejected)}

        def ti_state(run_id: str, task_id: str) -> str | None:
            url = f"/dags/toy_release/dagRuns/{run_id}/taskInstances/{task_id}"
            return client.get(url).json().get("state")

        for run_id in runs.values():
            wait(
                f"approval of {run_id} to await input",
                lambda r=run_id: True if ti_state(r, "approval") == "awaiting_input" else None,
            )
        # Airflow 3.3.2 race: an answer that reaches the scheduler before the executor has
        # reported the paused workload gets the resumed task marked failed ("state changed
        # externally"). A person takes longer; wait for that report, however loaded the
        # machine is, rather than for a fixed time.
        for run_id in runs.values():
            wait(
                f"the executor's report of {run_id}'s paused approval",
                lambda r=run_id: _executor_reported(settings, r, "approval"),
            )
        time.sleep(SETTLE_S)
        # Waiting for a person: nothing promoted yet, the run is still running.
        assert Registry(settings).production("toy") is None
        run_url = f"/dags/toy_release/dagRuns/{runs[approved]}"
        assert client.get(run_url).json()["state"] == "running"
        hitl = f"{run_url}/taskInstances/approval/-1/hitlDetails"
        detail = client.get(hitl).json()
        assert detail["options"] == ["Approve", "Reject"]
        assert f"toy:{approved}: all gates pass" in detail["body"]
        assert "score beats zero" in detail["body"] and "gates.json" in detail["body"]

        answer = client.patch(
            hitl, json={"chosen_options": ["Approve"], "params_input": {"reason": "checked"}}
        )
        assert answer.status_code == 200, answer.text
        reject_url = f"/dags/toy_release/dagRuns/{runs[rejected]}"
        answer = client.patch(
            f"{reject_url}/taskInstances/approval/-1/hitlDetails",
            json={"chosen_options": ["Reject"], "params_input": {"reason": "not this week"}},
        )
        assert answer.status_code == 200, answer.text

        for run_id in runs.values():
            state = wait(
                f"{run_id} to finish", lambda r=run_id: finished_run(api, "toy_release", r)
            )
            assert state == "success", run_id
        assert ti_state(runs[approved], "promote") == "success"
        assert ti_state(runs[approved], "reject") == "skipped"
        assert ti_state(runs[rejected], "promote") == "skipped"
        assert ti_state(runs[rejected], "reject") == "success"
        released = client.get(
            f"{run_url}/taskInstances/released/xcomEntries/return_value",
            params={"deserialize": True, "stringify": False},
        ).json()["value"]
        assert released["stage"] == "production" and "gates_md" in released["reports"]

    registry = Registry(settings)
    assert registry.production("toy").version == approved
    assert registry.get("toy", rejected).stage == "rejected"
    entries = {e.to_version: e for e in registry.audit_log("toy") if e.action != "save"}
    assert entries[approved].action == "promote"
    assert entries[approved].reason.endswith(": checked")
    assert entries[rejected].action == "reject"
    assert entries[rejected].reason.endswith(": not this week")
