"""Tests for `reelops abr simulate` and `reelops bitrate`: outputs and clear errors."""

import json

from typer.testing import CliRunner

from reelops.cli import app

runner = CliRunner()


def test_abr_simulate_writes_per_trace_qoe(settings, tmp_path, trace_dir):
    folder = trace_dir
    out = tmp_path / "out" / "bba.json"
    result = runner.invoke(
        app, ["abr", "simulate", "--traces", str(folder), "--policy", "bba", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "bba" in result.output and "QoE_lin" in result.output
    payload = json.loads(out.read_text())
    assert payload["policy"] == "bba" and len(payload["per_trace"]) == 3
    assert payload["summary"]["traces"] == 3
    mean = sum(r["qoe_lin"] for r in payload["per_trace"]) / 3
    assert payload["summary"]["qoe_lin"] == mean


def test_abr_simulate_malformed_trace_names_file_and_line(settings, tmp_path, trace_dir):
    folder = trace_dir
    (folder / "bad.log").write_text("0\t1.5\n1\tfast\n")
    result = runner.invoke(app, ["abr", "simulate", "--traces", str(folder), "--policy", "bba"])
    assert result.exit_code == 2
    assert "error:" in result.output and "bad.log" in result.output and "line 2" in result.output


def test_abr_simulate_unknown_policy_and_missing_model(settings, tmp_path, trace_dir):
    folder = trace_dir
    result = runner.invoke(app, ["abr", "simulate", "--traces", str(folder), "--policy", "fast"])
    assert result.exit_code == 2 and "'fast' is not one of 'bba', 'rate_based'" in result.output
    result = runner.invoke(app, ["abr", "simulate", "--traces", str(folder), "--policy", "xgb_mpc"])
    assert result.exit_code == 2 and "reelops bitrate train" in result.output
    result = runner.invoke(
        app, ["abr", "simulate", "--traces", str(tmp_path / "none"), "--policy", "bba"]
    )
    assert result.exit_code == 2 and "none" in result.output
