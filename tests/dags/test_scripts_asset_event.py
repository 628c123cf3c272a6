"""On a running Airflow, `reelops import scripts` starts the content DAG through its Asset."""

from __future__ import annotations

import pytest
from airflow_stack import airflow_stack, pause_all_but, wait
from typer.testing import CliRunner

from reelops.cli import app
from reelops.config import PROJECT_ROOT

DAGS = sorted(p.stem for p in (PROJECT_ROOT / "dags").glob("reelops_*.py"))


@pytest.mark.slow
def test_import_scripts_has_the_scheduler_run_the_content_dag(settings):
    fixtures = PROJECT_ROOT / "tests" / "scripts" / "fixtures"
    with airflow_stack(settings) as (api, _):
        api.wait_for_dag("reelops_content")
        pause_all_but(api, DAGS, "reelops_content")
        assert api.dag_runs("reelops_content") == []
        imported = CliRunner().invoke(app, ["import", "scripts", str(fixtures)])
        assert imported.exit_code == 0, imported.output
        assert "asset event" in imported.output and "'reelops_scripts'" in imported.output
        runs = wait(
            "an asset-triggered content run", lambda: api.dag_runs("reelops_content") or None
        )
    assert [r["run_type"] for r in runs] == ["asset_triggered"]
