"""Drift gate with real Evidently runs on sessions of the synthetic world.

The champion learned from one world, the candidate from another world of the same
generator (another seed): nothing drifted. With one country's bandwidth cut to a
fifth (``WorldConfig.bandwidth_shift``), the delivery features drift and the gate
says which.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from reelops.quality.drift import drift_gate
from reelops.quality.evidence import ReleaseEvidence
from reelops.specs import DriftGate
from reelops.world import WorldConfig, generate_world

GATE = DriftGate(max_drifted_share=0.3, prediction_drift=True, sample_rows=5000)


def session_features(**overrides) -> pd.DataFrame:
    """One row per playback session: the delivery model's kind of training features."""
    world = generate_world(WorldConfig.tiny(n_members=2000, sessions_per_day=100, **overrides))
    sessions = world.tables["playback_sessions"].set_index("session_id")
    chunks = world.tables["delivery_chunks"].groupby("session_id")
    features = chunks.agg(
        throughput_mbps=("throughput_mbps", "mean"),
        bitrate_kbps=("bitrate_kbps", "mean"),
        rebuffer_s=("rebuffer_s", "sum"),
        download_s=("download_s", "mean"),
        buffer_s=("buffer_s", "mean"),
    )
    return sessions[["country", "connection_type"]].join(features).reset_index(drop=True)


@pytest.fixture(scope="module")
def worlds() -> dict[str, pd.DataFrame]:
    return {
        "champion": session_features(seed=1),
        "same": session_features(seed=2),
        "shifted": session_features(seed=2, bandwidth_shift=(("IN", 0.2),)),
        "holdout": session_features(seed=3),
    }


def evidence(worlds, candidate: str, prediction_scale: float = 1.0) -> ReleaseEvidence:
    holdout = worlds["holdout"]
    rng = np.random.default_rng(0)
    truth = holdout["throughput_mbps"].to_numpy()
    overall = pd.DataFrame({"mae": [0.5, 0.6, 1.0]}, index=["candidate", "champion", "last"])
    per_unit = pd.DataFrame({"label": "candidate", "unit": range(3), "mae": [0.5] * 3})
    return ReleaseEvidence(
        model="bitrate",
        candidate_version="v2",
        champion_version="v1",
        metric="mae",
        higher_is_better=False,
        baselines=["last"],
        overall=overall,
        per_unit=per_unit,
        reference_features={"champion": worlds["champion"], "candidate": worlds[candidate]},
        predictions={
            "champion": pd.Series(truth * rng.lognormal(0, 0.1, len(truth))),
            "candidate": pd.Series(truth * prediction_scale * rng.lognormal(0, 0.1, len(truth))),
        },
    )


def by_name(checks):
    return {c.name: c for c in checks}


def test_world_from_another_seed_passes(worlds, tmp_path):
    checks, reports = drift_gate(evidence(worlds, "same"), GATE, tmp_path)
    found = by_name(checks)
    assert found["feature drift vs champion"].status == "pass"
    assert found["feature drift vs champion"].value <= 0.3
    assert found["prediction drift vs champion"].status == "pass"
    for name in ("data_drift_html", "data_drift_json", "prediction_drift_html"):
        assert reports[name].startswith(str(tmp_path))
    html = (tmp_path / "data_drift.html").read_text()
    assert "throughput_mbps" in html and len(html) > 10_000
    result = json.loads((tmp_path / "data_drift.json").read_text())
    assert {m["config"].get("column") for m in result["metrics"]} >= {"throughput_mbps", "country"}


def test_shifted_bandwidth_is_flagged_and_named(worlds, tmp_path):
    checks, _ = drift_gate(evidence(worlds, "shifted"), GATE, tmp_path)
    feature = by_name(checks)["feature drift vs champion"]
    assert feature.failed and feature.value > 0.3
    assert "throughput_mbps" in feature.detail and "bitrate_kbps" in feature.detail
    assert "country " not in feature.detail  # the member mix did not move, the network did


def test_prediction_drift_is_flagged(worlds, tmp_path):
    checks, _ = drift_gate(evidence(worlds, "same", prediction_scale=0.5), GATE, tmp_path)
    prediction = by_name(checks)["prediction drift vs champion"]
    assert prediction.failed and "drifted" in prediction.detail
    lenient = GATE.model_copy(update={"prediction_drift": False})
    checks, _ = drift_gate(evidence(worlds, "same", prediction_scale=0.5), lenient, tmp_path)
    assert by_name(checks)["prediction drift vs champion"].status == "skip"


def test_first_model_has_nothing_to_drift_from(worlds, tmp_path):
    first = evidence(worlds, "same")
    first.champion_version = None
    checks, reports = drift_gate(first, GATE, tmp_path)
    assert [c.status for c in checks] == ["skip", "skip"] and reports == {}


def test_a_column_empty_on_one_side_is_left_out_and_named(worlds, tmp_path):
    same = evidence(worlds, "same")
    same.reference_features["candidate"] = worlds["same"].assign(throughput_mbps=np.nan)
    checks, _ = drift_gate(same, GATE, tmp_path)
    feature = by_name(checks)["feature drift vs champion"]
    assert feature.status == "pass"
    assert "empty columns (not compared): ['throughput_mbps']" in feature.detail


def test_first_model_is_reported_training_vs_its_holdout_never_judged(worlds, tmp_path):
    first = evidence(worlds, "same")
    first.champion_version = None
    first.holdout_features = worlds["shifted"]
    checks, reports = drift_gate(first, GATE, tmp_path)
    found = by_name(checks)
    check = found["feature drift training vs hold-out"]
    assert check.status == "skip" and check.value > 0.3  # reported, never blocks
    assert "first model" in check.detail and "throughput_mbps" in check.detail
    assert "throughput_mbps" in (tmp_path / "data_drift.html").read_text()
    assert set(reports) == {"data_drift_html", "data_drift_json"}


def test_bandwidth_shift_moves_only_the_named_country():
    plain = generate_world(WorldConfig.tiny()).truth["network_quality"]
    shifted = generate_world(WorldConfig.tiny(bandwidth_shift=(("IN", 0.2),))).truth[
        "network_quality"
    ]
    ratio = shifted["median_mbps"] / plain["median_mbps"]
    assert np.allclose(ratio[plain["country"] == "IN"], 0.2)
    assert np.allclose(ratio[plain["country"] != "IN"], 1.0)
    with pytest.raises(ValueError, match="bandwidth_shift"):
        WorldConfig(bandwidth_shift=(("XX", 0.5),))
