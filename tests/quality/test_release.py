"""Release path on a real registry: gates recorded, promotion only after passing, rollback."""

from __future__ import annotations

import json

import numpy as np
import pytest
import toy_model

from reelops.quality import release
from reelops.registry import Registry, RegistryError


@pytest.fixture
def spec(tmp_path):
    return toy_model.write_spec(tmp_path)


def gates(settings, version, spec, approval=None):
    return release.run_gates(settings, "toy", version, approval=approval, spec=spec)


def test_first_model_passes_on_baselines_and_auto_release_promotes(settings, spec):
    version = toy_model.save(settings, 2.0)
    result = gates(settings, version, spec)
    assert result["passed"] and result["champion"] is None and result["approval"] == "auto"
    assert "score beats zero" in result["table"] and "PASS" in result["table"]
    assert "skip" in result["markdown"] and "### toy:" in result["markdown"]
    stored = Registry(settings).get("toy", version)
    assert stored.gates["passed"] is True
    assert {c["name"] for c in stored.gates["checks"]} >= {"score vs champion", "segment gender"}
    written = settings.reports_dir / "toy" / version / "gates.json"
    assert stored.reports["gates_json"] == str(written)
    assert json.loads(written.read_text())["passed"]

    done = release.auto_release(settings, result)
    assert done == {"model": "toy", "version": version, "stage": "production", "previous": None}
    actions = [(e.action, e.actor) for e in Registry(settings).audit_log("toy")]
    assert actions[-2:] == [("approve", "reelops-auto"), ("promote", "reelops-auto")]


def test_shuffled_label_candidate_is_rejected_and_never_promoted(settings, spec):
    champion = toy_model.save(settings, 2.0)
    release.auto_release(settings, gates(settings, champion, spec))
    broken = toy_model.save(settings, -0.05, seed=1)  # learned noise, like shuffled labels
    result = gates(settings, broken, spec)
    assert not result["passed"]
    assert any(f.startswith("quality: score vs champion") for f in result["failures"])
    assert any(f.startswith("quality: score beats zero") for f in result["failures"])
    with pytest.raises(release.ReleaseError, match="failed its gates"):
        release.promote(settings, "toy", broken, actor="mallory", reason="ship it")
    done = release.settle_rejection(settings, result, None)
    assert done["stage"] == "rejected" and done["reason"].startswith("failed gates: quality")
    registry = Registry(settings)
    assert registry.production("toy").version == champion
    assert registry.audit_log("toy")[-1].actor == "reelops-auto"


def test_drifted_training_data_fails_the_drift_gate(settings, spec):
    champion = toy_model.save(settings, 2.0)
    release.auto_release(settings, gates(settings, champion, spec))
    drifted = toy_model.save(settings, 2.0, seed=2, shift=1.5)
    result = gates(settings, drifted, spec)
    assert [f.split(":")[1].strip() for f in result["failures"]] == ["feature drift vs champion"]
    assert "x " in result["failures"][0]
    assert set(result["reports"]) >= {"data_drift_html", "prediction_drift_json", "gates_md"}
    same = toy_model.save(settings, 2.0, seed=3)
    assert gates(settings, same, spec)["passed"]


def test_human_rejection_and_approval_are_audited_with_the_person(settings, spec):
    version = toy_model.save(settings, 2.0)
    result = gates(settings, version, spec, approval="human")
    assert result["approval"] == "human"
    with pytest.raises(release.ReleaseError, match="no Reject answer"):
        release.settle_rejection(settings, result, None)
    response = {
        "chosen_options": ["Reject"],
        "params_input": {"reason": "wait for the holiday catalogue"},
        "responded_by_user": {"id": "ana", "name": "ana"},
    }
    done = release.settle_rejection(settings, result, response)
    assert done["reason"] == "rejected in Airflow by airflow:ana: wait for the holiday catalogue"
    assert Registry(settings).get("toy", version).stage == "rejected"

    other = toy_model.save(settings, 2.0, seed=4)
    result = gates(settings, other, spec, approval="human")
    approved = {**response, "chosen_options": ["Approve"], "params_input": {"reason": "ok"}}
    assert release.human_release(settings, result, approved)["stage"] == "production"
    entry = Registry(settings).audit_log("toy")[-1]
    assert (entry.action, entry.actor, entry.reason) == (
        "promote",
        "airflow:ana",
        "approved in Airflow by airflow:ana: ok",
    )


def test_promote_then_rollback_restores_exact_predictions(settings, spec):
    registry = Registry(settings)
    a = toy_model.save(settings, 1.9)
    release.auto_release(settings, gates(settings, a, spec))
    x = toy_model.holdout()["x"].to_numpy()
    before = toy_model.predict(registry.files("toy", a), x).tobytes()
    files_before = {p.name: p.read_bytes() for p in registry.files("toy", a).iterdir()}

    b = toy_model.save(settings, 2.0, seed=5)
    result = gates(settings, b, spec)
    assert result["champion"] == a and result["passed"]
    assert release.auto_release(settings, result)["previous"] == a

    restored = registry.rollback("toy", actor="oncall", reason="complaints")
    assert restored.version == a and registry.production("toy").version == a
    served = registry.files("toy", registry.production("toy").version)
    assert toy_model.predict(served, x).tobytes() == before
    assert {p.name: p.read_bytes() for p in served.iterdir()} == files_before
    log = [(e.action, e.from_version, e.to_version) for e in registry.audit_log("toy")]
    assert log[-1] == ("rollback", b, a)
    assert ("promote", a, b) in log and ("promote", None, a) in log


def test_gates_run_on_candidates_only_and_need_a_known_version(settings, spec):
    version = toy_model.save(settings, 2.0)
    release.auto_release(settings, gates(settings, version, spec))
    with pytest.raises(RegistryError, match="gates run on candidates only"):
        gates(settings, version, spec)
    with pytest.raises(RegistryError, match="unknown version toy:nope"):
        gates(settings, "nope", spec)
    untested = toy_model.save(settings, 2.0, seed=6)
    with pytest.raises(release.ReleaseError, match="no gate results"):
        release.promote(settings, "toy", untested, actor="x", reason="y")


def test_models_show_prints_the_gate_table_and_reports(settings, spec):
    from typer.testing import CliRunner

    from reelops.cli import app

    version = toy_model.save(settings, 2.0)
    gates(settings, version, spec)
    shown = CliRunner().invoke(app, ["models", "show", "toy", version]).output
    assert "gate     check" in shown and "score beats zero" in shown
    assert str(settings.reports_dir / "toy" / version / "gates.md") in shown
    assert np.isfinite(Registry(settings).get("toy", version).gates["checks"][0]["value"] or 0)


def test_a_run_cannot_loosen_human_approval(settings, tmp_path):
    human_spec = toy_model.write_spec(tmp_path, approval="human")
    version = toy_model.save(settings, 2.0)
    assert gates(settings, version, human_spec, approval="auto")["approval"] == "human"


def test_models_promote_needs_passed_gates_or_an_audited_force(settings, spec):
    import getpass

    from typer.testing import CliRunner

    from reelops.cli import app

    runner = CliRunner()
    untested = toy_model.save(settings, 2.0)
    refused = runner.invoke(app, ["models", "promote", "toy", untested, "--reason", ""])
    assert refused.exit_code != 0 and "--reason must say why" in refused.output
    refused = runner.invoke(app, ["models", "promote", "toy", untested, "--reason", "ship"])
    assert refused.exit_code != 0 and "no gate results" in refused.output
    assert Registry(settings).get("toy", untested).stage == "candidate"
    blank = runner.invoke(app, ["models", "promote", "toy", untested, "--force", "--reason", " "])
    assert blank.exit_code != 0 and "--reason" in blank.output
    assert Registry(settings).production("toy") is None

    forced = runner.invoke(
        app, ["models", "promote", "toy", untested, "--force", "--reason", "hotfix 12"]
    )
    assert forced.exit_code == 0, forced.output
    last = Registry(settings).audit_log("toy")[-1]
    assert (last.action, last.to_version, last.actor) == ("promote", untested, getpass.getuser())
    assert "gates bypassed" in last.reason and "hotfix 12" in last.reason

    passed = toy_model.save(settings, 2.0, seed=3)
    gates(settings, passed, spec)
    done = runner.invoke(app, ["models", "promote", "toy", passed, "--reason", "reviewed"])
    assert done.exit_code == 0, done.output
    log = Registry(settings).audit_log("toy")
    assert [(e.action, e.actor, e.reason) for e in log[-2:]] == [
        ("approve", getpass.getuser(), "reviewed"),
        ("promote", getpass.getuser(), "reviewed"),
    ]
