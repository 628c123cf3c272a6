"""Registry releases: a canary or shadow beside production, one live per model, every start
and end a stage change audited in one transaction, and one consistent read for serving."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from reelops.registry import RELEASES, Registry, RegistryError


@pytest.fixture
def registry(settings):
    return Registry(settings)


def _approved(registry, tmp_path, value: int) -> str:
    folder = tmp_path / f"m{value}"
    folder.mkdir()
    (folder / "model.json").write_text(json.dumps({"weight": value}))
    version = registry.save("ranker", folder, metrics={}, lineage={}).version
    registry.approve("ranker", version, actor="alice", reason="gates passed")
    return version


@pytest.fixture
def production(registry, tmp_path) -> str:
    version = _approved(registry, tmp_path, 0)
    registry.promote("ranker", version, actor="alice", reason="first")
    return version


def test_a_canary_starts_beside_production_only_when_approved_and_alone(
    registry, tmp_path, production
):
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "f").write_text("x")
    candidate = registry.save("ranker", folder, metrics={}, lineage={}).version
    with pytest.raises(RegistryError, match="it is candidate, expected approved"):
        registry.start_release("ranker", candidate, mode="canary", share=0.1, reason="x")
    canary = _approved(registry, tmp_path, 1)
    with pytest.raises(RegistryError, match=r"share must be in \(0, 1\]"):
        registry.start_release("ranker", canary, mode="canary", share=0, reason="x")
    release = registry.start_release(
        "ranker", canary, mode="canary", share=0.1, actor="bob", reason="fresher data"
    )
    assert (release.version, release.mode, release.share, release.baseline) == (
        canary,
        "canary",
        0.1,
        production,
    )
    assert release.live and registry.get("ranker", canary).stage == "canary"
    assert registry.production("ranker").version == production  # production still serves
    other = _approved(registry, tmp_path, 2)
    with pytest.raises(RegistryError, match="is already live as a canary"):
        registry.start_release("ranker", other, mode="shadow", share=1.0, reason="x")
    last = next(e for e in registry.audit_log("ranker") if e.action == "canary_start")
    assert (last.action, last.actor, last.from_version, last.to_version) == (
        "canary_start",
        "bob",
        production,
        canary,
    )
    assert last.reason == "canary share 0.1: fresher data"


def test_nothing_to_run_beside_without_production(registry, tmp_path):
    version = _approved(registry, tmp_path, 1)
    with pytest.raises(RegistryError, match="has no production version: a canary runs beside"):
        registry.start_release("ranker", version, mode="canary", share=0.1, reason="x")


def test_the_database_refuses_a_second_live_release(registry, tmp_path, production):
    canary = _approved(registry, tmp_path, 1)
    registry.start_release("ranker", canary, mode="canary", share=0.1, reason="x")
    row = {
        "name": "ranker",
        "version": "other",
        "mode": "shadow",
        "share": 1.0,
        "salt": "s",
        "baseline": production,
        "started_at": "now",
        "looks": 0,
    }
    with pytest.raises(sa.exc.IntegrityError), registry.engine.begin() as conn:
        conn.execute(RELEASES.insert().values(**row))


def test_rollback_rejects_the_canary_and_promotion_ends_it(registry, tmp_path, production):
    canary = _approved(registry, tmp_path, 1)
    registry.start_release("ranker", canary, mode="canary", share=0.1, reason="x")
    ended = registry.end_release("ranker", "rolled_back", actor="auto", reason="worse")
    assert ended.outcome == "rolled_back" and not ended.live
    assert registry.get("ranker", canary).stage == "rejected"
    assert registry.serving_state("ranker").release is None
    with pytest.raises(RegistryError, match="was rejected"):
        registry.promote("ranker", canary, actor="x", reason="x")

    better = _approved(registry, tmp_path, 2)
    registry.start_release("ranker", better, mode="canary", share=0.2, reason="x")
    registry.promote("ranker", better, actor="auto", reason="non-inferior")
    assert registry.production("ranker").version == better
    assert registry.get("ranker", production).stage == "retired"
    assert [(r.version, r.outcome) for r in registry.releases("ranker")] == [
        (canary, "rolled_back"),
        (better, "promoted"),
    ]
    actions = [e.action for e in registry.audit_log("ranker")]
    assert actions[-5:] == ["canary_rollback", "save", "approve", "canary_start", "promote"]
    # The promoted canary rolls back like any promotion, to the version it replaced.
    assert registry.rollback("ranker", actor="x", reason="x").version == production


def test_another_promotion_or_a_production_rollback_supersedes_the_release(
    registry, tmp_path, production
):
    second = _approved(registry, tmp_path, 1)
    registry.promote("ranker", second, actor="x", reason="x")
    canary = _approved(registry, tmp_path, 2)
    registry.start_release("ranker", canary, mode="canary", share=0.1, reason="x")
    registry.rollback("ranker", actor="x", reason="incident")  # its baseline is gone
    assert registry.live_release("ranker") is None
    assert registry.get("ranker", canary).stage == "approved"  # it may be released again
    assert registry.releases("ranker")[-1].outcome == "superseded"

    registry.start_release("ranker", canary, mode="shadow", share=1.0, reason="x")
    hotfix = _approved(registry, tmp_path, 3)
    registry.promote("ranker", hotfix, actor="x", reason="hotfix")
    assert registry.releases("ranker")[-1].outcome == "superseded"
    assert registry.get("ranker", canary).stage == "approved"
    assert "shadow_stop" in [e.action for e in registry.audit_log("ranker")]


def test_a_shadow_becomes_a_canary_and_cannot_be_rolled_back_itself(registry, tmp_path, production):
    version = _approved(registry, tmp_path, 1)
    registry.start_release("ranker", version, mode="shadow", share=1.0, reason="watch")
    with pytest.raises(RegistryError, match="is a shadow: it served nobody"):
        registry.end_release("ranker", "rolled_back", reason="x")
    canary = registry.start_release("ranker", version, mode="canary", share=0.1, reason="ok")
    assert canary.mode == "canary" and registry.get("ranker", version).stage == "canary"
    assert [r.outcome for r in registry.releases("ranker")] == ["stopped", None]


def test_serving_state_reads_production_release_and_challenger_together(
    registry, tmp_path, production
):
    assert registry.serving_state("ranker").production.version == production
    canary = _approved(registry, tmp_path, 1)
    registry.start_release("ranker", canary, mode="canary", share=0.1, reason="x")
    state = registry.serving_state("ranker")
    assert state.production.version == production and state.challenger.version == canary
    assert state.release.version == canary and state.release.share == 0.1
    assert state.challenger.stage == "canary"
    registry.record_look("ranker")
    assert registry.serving_state("ranker").release.looks == 1
    registry.promote("ranker", canary, actor="x", reason="x")
    state = registry.serving_state("ranker")
    assert state.production.version == canary and state.release is None
    assert registry.serving_state("nosuchmodel").production is None
