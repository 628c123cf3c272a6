"""The evidence in the Airflow UI: the gates task's note, the plugin's pages, a real browser.

One toy release run (``tests/quality/toy_model.py``) goes through the release tail
in-process; then a real api-server serves the UI, and headless Chromium opens the DAG
list, the run's grid, its Evidence tab and the gate report page. Screenshots are left
under ``REELOPS_HOME/screenshots`` for a person to look at.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "quality"))
import toy_model  # noqa: E402
from airflow_stack import airflow_stack  # noqa: E402
from test_release_approval import use_toy_dags  # noqa: E402

from reelops.config import Settings, get_settings  # noqa: E402
from reelops.orchestration import local as airflow_local  # noqa: E402
from reelops.orchestration.runs import ensure_airflow_db  # noqa: E402
from reelops.orchestration.ui_check import Page, check_pages, find_chromium  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    """A gated, promoted toy version from one in-process run, and an api-server on it."""
    root = tmp_path_factory.mktemp("ui")
    with pytest.MonkeyPatch.context() as patch:
        folder = use_toy_dags(root / "dags", patch)
        patch.setenv("REELOPS_HOME", str(root / "home"))
        get_settings.cache_clear()
        settings: Settings = get_settings()
        spec = toy_model.write_spec(root)
        version = toy_model.save(settings, 2.0)
        ensure_airflow_db(settings)
        conf = {"model": "toy", "version": version, "approval": "auto", "spec": str(spec)}
        driver = f"""
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder={str(folder)!r}).dags["toy_release"]
run = dag.test(logical_date=None, run_conf={conf!r})
print("RUN " + run.run_id + " " + str(run.state), flush=True)
"""
        env = {**os.environ, **airflow_local.airflow_environ(settings)}
        done = subprocess.run(
            [sys.executable, "-c", driver], env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-3000:]
        run_id, state = next(
            line.split()[1:] for line in done.stdout.splitlines() if line.startswith("RUN ")
        )
        assert state == "success"
        with airflow_stack(settings, components=("api-server", "dag-processor")) as (api, _):
            api.wait_for_dag("toy_release")
            token = api.client.headers["Authorization"]
            client = httpx.Client(headers={"Authorization": token}, timeout=30)
            yield {
                "base": api.base_url,
                "client": client,
                "run_id": run_id,
                "version": version,
                "settings": settings,
            }
        get_settings.cache_clear()


def test_gates_note_and_evidence_pages_through_the_api_server(ui):
    base, client, run_id, version = ui["base"], ui["client"], ui["run_id"], ui["version"]
    ti = client.get(f"{base}/api/v2/dags/toy_release/dagRuns/{run_id}/taskInstances/gates")
    note = ti.json()["note"]
    assert note.startswith(f"### toy:{version}: all gates pass")
    assert f"/reelops/models/toy/{version}/files/gates_json" in note and "file://" not in note
    page = client.get(f"{base}/reelops/runs/toy_release/{run_id}", follow_redirects=True)
    assert page.status_code == 200 and page.url.path == f"/reelops/models/toy/{version}"
    assert "score vs champion" in page.text and "paired differences" in page.text
    png = client.get(f"{base}/reelops/models/toy/{version}/files/metric_distribution_png")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    plugins = client.get(f"{base}/api/v2/plugins").json()["plugins"]
    views = {v["destination"]: v["href"] for p in plugins for v in p["external_views"]}
    assert views == {"nav": "reelops/", "dag_run": "reelops/runs/{DAG_ID}/{RUN_ID}"}


def test_ui_pages_render_in_headless_chromium(ui):
    if find_chromium() is None:
        pytest.skip("no Chromium on this machine (`apt-get install chromium`; make test does)")
    run_id, version = ui["run_id"], ui["version"]
    pages = [
        Page("dag_list", "/dags", ("toy_release",)),
        Page("run_grid", f"/dags/toy_release/runs/{run_id}", ("gates", "released", "promote")),
        Page(
            "run_evidence_tab",
            f"/dags/toy_release/runs/{run_id}/plugin/reelops-run-evidence",
            ("Evidence",),
        ),
        Page("gate_report", f"/reelops/models/toy/{version}", ("Gates", "score vs champion")),
    ]
    out = ui["settings"].home / "screenshots"
    shots = check_pages(ui["base"], pages, out)
    assert sorted(shots) == sorted(p.name for p in pages)
    for path in shots.values():
        assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 10_000
