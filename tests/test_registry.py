"""Registry: candidates, one production version, promotion and rollback with an audit log."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from reelops.registry import Registry, RegistryError


@pytest.fixture
def registry(settings):
    return Registry(settings)


def _files(tmp_path, name: str, value: float):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "model.json").write_text(json.dumps({"weight": value}))
    return folder


def _save(registry, tmp_path, value: float):
    return registry.save(
        "ranker",
        _files(tmp_path, f"m{value}", value),
        metrics={"ndcg_at_10": value},
        lineage={"data_interval": ["2026-01-01", "2026-01-22"], "feature_service": "ranker_v1"},
    )


def test_save_creates_a_candidate_with_files_metrics_and_lineage(registry, tmp_path):
    v = _save(registry, tmp_path, 0.3)
    assert v.stage == "candidate"
    assert registry.get("ranker", v.version).metrics == {"ndcg_at_10": 0.3}
    assert registry.get("ranker", v.version).lineage["feature_service"] == "ranker_v1"
    assert "code_version" in v.lineage
    stored = registry.files("ranker", v.version) / "model.json"
    assert json.loads(stored.read_text()) == {"weight": 0.3}
    assert registry.production("ranker") is None


def test_promote_then_rollback_restores_previous_version_and_audits(registry, tmp_path):
    a = _save(registry, tmp_path, 0.3)
    b = _save(registry, tmp_path, 0.4)
    registry.promote("ranker", a.version, actor="alice", reason="first model")
    registry.promote("ranker", b.version, actor="bob", reason="better ndcg")
    assert registry.production("ranker").version == b.version
    assert registry.get("ranker", a.version).stage == "retired"

    restored = registry.rollback("ranker", actor="carol", reason="complaints")
    assert restored.version == a.version and restored.stage == "production"
    assert registry.get("ranker", b.version).stage == "retired"
    assert json.loads((registry.files("ranker", a.version) / "model.json").read_text()) == {
        "weight": 0.3
    }
    log = [(e.action, e.actor, e.from_version, e.to_version) for e in registry.audit_log("ranker")]
    assert log[-3:] == [
        ("promote", "alice", None, a.version),
        ("promote", "bob", a.version, b.version),
        ("rollback", "carol", b.version, a.version),
    ]
    with pytest.raises(RegistryError, match="no previous production version"):
        registry.rollback("ranker", reason="again")


def test_clear_errors(registry, tmp_path):
    a = _save(registry, tmp_path, 0.3)
    with pytest.raises(RegistryError, match="unknown version ranker:nope"):
        registry.promote("ranker", "nope", reason="x")
    with pytest.raises(RegistryError, match="no production version"):
        registry.rollback("ranker", reason="x")
    registry.reject("ranker", a.version, actor="alice", reason="shuffled labels")
    with pytest.raises(RegistryError, match="was rejected and cannot be promoted"):
        registry.promote("ranker", a.version, reason="x")
    with pytest.raises(RegistryError, match="expected a folder"):
        registry.save("ranker", tmp_path / "missing", metrics={}, lineage={})


def test_database_allows_one_production_version_only(registry, tmp_path):
    a = _save(registry, tmp_path, 0.3)
    b = _save(registry, tmp_path, 0.4)
    registry.promote("ranker", a.version, reason="first")
    with pytest.raises(sa.exc.IntegrityError), registry.engine.begin() as conn:
        conn.execute(
            sa.text("update reelops_model_versions set stage = 'production' where version = :v"),
            {"v": b.version},
        )
    assert [v.stage for v in registry.list("ranker")] == ["production", "candidate"]


def test_models_cli_promotes_rolls_back_and_explains_errors(settings, tmp_path):
    from typer.testing import CliRunner

    from reelops.cli import app

    registry = Registry(settings)
    a = _save(registry, tmp_path, 0.3)
    b = _save(registry, tmp_path, 0.4)
    runner = CliRunner()
    # These versions never ran their gates: promoting needs --force (tested with the gates
    # in tests/quality/test_release.py).
    out = runner.invoke(app, ["models", "promote", "ranker", a.version, "--reason", "first"])
    assert out.exit_code == 2 and registry.production("ranker") is None
    force = ["--force", "--reason"]
    out = runner.invoke(app, ["models", "promote", "ranker", a.version, *force, "first"])
    assert out.exit_code == 0 and "is now in production" in out.output
    runner.invoke(app, ["models", "promote", "ranker", b.version, *force, "better"])
    listing = runner.invoke(app, ["models", "list", "ranker"]).output
    assert f"ranker:{b.version}" in listing and "production" in listing
    out = runner.invoke(app, ["models", "rollback", "ranker", "--reason", "regression"])
    assert out.exit_code == 0 and a.version in out.output
    assert registry.production("ranker").version == a.version
    shown = runner.invoke(app, ["models", "show", "ranker", a.version]).output
    assert "rollback" in shown and "ndcg_at_10" in shown
    out = runner.invoke(app, ["models", "promote", "ranker", "nope", *force, "x"])
    assert out.exit_code == 2 and "unknown version ranker:nope" in out.output


def test_training_lineage_records_what_the_model_learned_from(settings):
    import pandas as pd

    from reelops.registry import frame_hash, training_lineage

    frame = pd.DataFrame({"member_key": ["a", "b"], "label": [1, 0]})
    manifest = settings.home / "dbt" / "world" / "target" / "manifest.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text("{}")
    lineage = training_lineage(
        settings,
        source="world",
        feature_service="ranker_v1",
        feature_service_version="abc",
        training_frame=frame,
        params={"eta": 0.1},
        data_interval=("2026-01-01", "2026-02-01"),
        search=[{"eta": 0.1, "ndcg@10": 0.3}],
    )
    assert lineage["training_rows"] == 2
    assert lineage["dbt_manifest_hash"] is not None
    assert lineage["search"][0]["eta"] == 0.1
    assert lineage["training_hash"] == frame_hash(frame.copy())
    assert frame_hash(frame.iloc[::-1]) != lineage["training_hash"]  # order matters
    assert frame_hash(frame.assign(label=[0, 1])) != lineage["training_hash"]
