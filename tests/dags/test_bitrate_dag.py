"""The bitrate training DAG: its wiring, and one real run end to end on a tiny world."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import pytest

from reelops.config import PROJECT_ROOT, Settings, airflow_environ

SMALL_SPEC = """
name: bitrate
feature_service: bitrate_v1
evaluator: reelops.bitrate.evidence:evaluate_release
params: {rounds: 30, max_depth: 3, bags: 2}
search: {horizon: [1, 5]}
training:
  randomized_traces: 3
  randomized_sessions_per_trace: 2
  modes: [0.1]
  validation_starts: 1
  holdout_traces_per_segment: 1
  holdout_segments: 4
  reference_rows: 300
evaluation: {starts_per_trace: 2, bootstrap: 200, error_sessions_per_trace: 1}
gates:
  quality: {metric: qoe_lin, tolerance: 1.0}
  bias:
    segments: [connection, country]
    checks:
      - {kind: rate_multiple, metric: rebuffer_s, denominator: play_s, max: 8.0}
"""


def test_tasks_run_in_order_on_the_online_features_asset(tmp_path):
    probe = f"""
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={str(PROJECT_ROOT / "dags" / "reelops_bitrate.py")!r})
dag = bag.dags["reelops_bitrate"]
order = [t.task_id for t in dag.topological_sort()]
print(json.dumps({{
    "order": order,
    "leaves": sorted(t.task_id for t in dag.leaves),
    "retries": sorted({{t.retries for t in dag.tasks}}),
    "catchup": dag.catchup,
    "tags": sorted(dag.tags),
}}))
"""
    env = {**airflow_environ(Settings(home=tmp_path)), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    dag = json.loads(done.stdout.strip().splitlines()[-1])
    # Training, then the release tail every training DAG ends with (orchestration.release_tail).
    assert dag["order"][:4] == ["training_set", "train", "evaluate", "save_candidate"]
    assert set(dag["order"][4:]) == {"gates", "route", "approval", "promote", "reject", "released"}
    assert dag["leaves"] == ["released"]
    assert dag["retries"] == [1] and dag["catchup"] is False
    assert {"reelops", "training", "bitrate"} <= set(dag["tags"])
    source = (PROJECT_ROOT / "dags" / "reelops_bitrate.py").read_text()
    assert "schedule=ONLINE_FEATURES | RETRAIN_REQUESTED" in source
    assert "from reelops.orchestration.assets import ONLINE_FEATURES, RETRAIN_REQUESTED" in source


@pytest.mark.slow
def test_dag_trains_evaluates_and_releases_a_candidate(settings, tmp_path):
    """Tiny world -> warehouse -> reelops_bitrate through dag.test(); then release evidence."""
    from reelops.bitrate.evidence import evaluate_release
    from reelops.bitrate.train import demo_summary
    from reelops.ingest import land_interval
    from reelops.orchestration.runs import run_dag
    from reelops.registry import Registry
    from reelops.specs import load_spec
    from reelops.warehouse import build
    from reelops.world.generator import WorldConfig
    from reelops.world.synthetic_source import generate_source

    generate_source(settings, WorldConfig.tiny(days=4))
    land_interval(settings, "world", datetime(2026, 1, 1), datetime(2026, 1, 5))
    build(settings, "world")
    spec_path = tmp_path / "bitrate.yaml"
    spec_path.write_text(SMALL_SPEC)

    result = run_dag(settings, "reelops_bitrate", conf={"approval": "auto", "spec": str(spec_path)})
    assert result.ok, result.task_states
    assert result.task_states["approval"] == "skipped"  # auto approval asks nobody

    registry = Registry(settings)
    [version] = registry.list("bitrate")
    # The release tail ran: gates recorded, then promoted if they passed, else rejected.
    assert version.gates["checks"]
    assert version.stage == ("production" if version.gates["passed"] else "rejected")
    assert result.task_states["promote" if version.gates["passed"] else "reject"] == "success"
    assert version.metrics["test_traces"] == 4
    assert version.metrics["mae_log_model"] > 0
    assert version.lineage["feature_service"] == "bitrate_v1"
    assert version.lineage["source"] == "world" and version.lineage["training_rows"] > 1000
    files = registry.files("bitrate", version.version)
    for name in ("model/model.json", "bitrate.json", "reference_features.parquet", "holdout"):
        assert (files / name).exists(), name
    # The spec's bagged ensemble is what the marts/Feast path trains and saves.
    assert (files / "model" / "model_1.json").exists()
    assert json.loads((files / "model" / "metadata.json").read_text())["members"] == 2
    assert "robust_mpc" in demo_summary(settings, version.version)

    spec = load_spec(spec_path)
    evidence = evaluate_release(settings, spec, version.version, version.version)
    assert set(evidence.overall.index) >= {"candidate", "champion", "robust_mpc", "bba"}
    per_unit = evidence.per_unit
    assert {
        "label",
        "unit",
        "qoe_lin",
        "rebuffer_s",
        "play_s",
        "bitrate",
        "country",
        "connection",
    } <= set(per_unit.columns)
    assert per_unit.groupby("label").size().eq(4).all()
    # The champion is the same model here: the same sessions give the same scores.
    by_label = per_unit.set_index(["label", "unit"])["qoe_lin"]
    assert (by_label["candidate"] == by_label["champion"]).all()
    assert len(evidence.reference_features["candidate"]) == 300
    assert evidence.predictions["candidate"].equals(evidence.predictions["champion"])
    assert (evidence.predictions["candidate"] > 0).all()

    from typer.testing import CliRunner

    from reelops.cli import app

    runner = CliRunner()
    out = tmp_path / "evaluation.json"
    done = runner.invoke(
        app, ["bitrate", "evaluate", "--version", version.version, "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert f"bitrate {version.version}" in done.output
    figures = json.loads(out.read_text())
    assert figures["test"]["multi_start"]["versus_reference"]["traces"] == 4
    traces = tmp_path / "traces"
    traces.mkdir()
    (traces / "flat.log").write_text("".join(f"{t}\t2.0\n" for t in range(200)))
    done = runner.invoke(
        app,
        ["abr", "simulate", "--traces", str(traces), "--policy", "xgb_mpc"]
        + ["--version", version.version],
    )
    assert done.exit_code == 0, done.output
    assert "xgb_mpc uses bitrate" in done.output and "xgb_mpc" in done.output.splitlines()[-1]
