"""What the training DAGs' release tasks call: run the gates, then promote or reject.

A candidate reaches production only through :func:`promote`, and only when its gate
results are recorded and pass: ``auto`` approval promotes right after the gates, ``human``
approval after someone answers Approve on the Airflow approval task. Failing gates
reject the version with the failed checks as the reason; they never reach approval.

When the spec's ``release.mode`` is ``canary`` or ``shadow`` and a production version
serves, an approved version goes beside it instead (:func:`start_release`); the live
outcomes then promote it or roll it back (:mod:`reelops.releases.canary`).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from reelops.config import Settings
from reelops.quality.gates import evaluate_gates, render_table
from reelops.registry import ModelVersion, Registry, RegistryError
from reelops.specs import ModelSpec, SpecError, load_spec

AUTO_ACTOR = "reelops-auto"


class ReleaseError(RuntimeError):
    """A release step that must not go ahead; the message says why and what to do."""


def load_evaluator(spec: ModelSpec):
    """Import the spec's ``module:function`` evaluator."""
    module_name, _, function = spec.evaluator.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise SpecError(
            f"{spec.path or spec.name}: evaluator module {module_name!r}: {error}"
        ) from error
    if not callable(evaluate := getattr(module, function, None)):
        raise SpecError(f"{spec.path or spec.name}: {module_name} has no function {function!r}")
    return evaluate


def run_gates(
    settings: Settings,
    model: str,
    version: str,
    approval: str | None = None,
    spec: str | Path | None = None,
) -> dict[str, Any]:
    """Evaluate a candidate beside the champion, run every gate, record the results.

    Args:
        settings: Where the registry and reports live.
        model: Registry name.
        version: The candidate version (stage ``candidate``).
        approval: ``human`` asks for a person even where the spec says ``auto``;
            ``auto`` cannot loosen a spec that says ``human``.
        spec: Spec name or path (defaults to ``models/<model>.yaml``).

    Returns:
        A JSON-able dict: ``model``, ``version``, ``champion``, ``passed``, ``approval``,
        ``table`` (text), ``markdown``, ``reports`` (name -> path), ``failures`` (one
        line per failed check).

    Raises:
        RegistryError: Unknown version, or not a candidate any more.
    """
    spec_ = load_spec(spec or model)
    # A run may ask for a person where the spec would auto-approve, never the reverse:
    # whoever can trigger a DAG must not be able to skip the spec's human approval.
    if approval == "human" and spec_.approval == "auto":
        spec_ = load_spec(spec or model, approval="human")
    registry = Registry(settings)
    candidate = registry.get(model, version)
    if candidate.stage != "candidate":
        raise RegistryError(
            f"{candidate.tag} is {candidate.stage}: gates run on candidates only; "
            "train a new version to release again"
        )
    champion = registry.production(model)
    evidence = load_evaluator(spec_)(
        settings, spec_, version, champion.version if champion else None
    )
    out_dir = settings.reports_dir / model / version
    report = evaluate_gates(spec_, evidence, out_dir)
    gates = {**report.to_dict(), "approval": spec_.approval, "spec": str(spec_.path)}
    registry.record_gates(model, version, gates, report.reports)
    return {
        "model": model,
        "version": version,
        "champion": champion.version if champion else None,
        "passed": report.passed,
        "approval": spec_.approval,
        "table": report.table(),
        "markdown": report.markdown(),
        "reports": report.reports,
        "failures": [f"{c.gate}: {c.name}: {c.detail}" for c in report.failures],
    }


def gate_table(version: ModelVersion) -> str | None:
    """The recorded gate table of a version, or None if its gates have not run."""
    checks = version.gates.get("checks")
    return render_table(checks) if checks else None


def _require_passed(version: ModelVersion) -> None:
    if not version.gates.get("checks"):
        raise ReleaseError(
            f"{version.tag} has no gate results: run its gates first "
            "(the training DAG's `gates` task), or bypass them, audited, with "
            "`reelops models promote NAME VERSION --force --reason '...'`"
        )
    if not version.gates.get("passed"):
        failed = [
            c["name"] for c in version.gates["checks"] if c["status"] in ("fail", "inconclusive")
        ]
        raise ReleaseError(f"{version.tag} failed its gates ({failed}) and cannot be released")


def promote(settings: Settings, model: str, version: str, *, actor: str, reason: str) -> dict:
    """Approve a candidate whose gates passed and make it production, both audited.

    Args:
        settings: Where the registry lives.
        model: Registry name.
        version: The candidate (or already approved) version.
        actor: Who approved (``reelops-auto`` for auto approval, else the person).
        reason: Why, for the audit log.

    Returns:
        ``{"model", "version", "stage", "previous"}``.

    Raises:
        ReleaseError: No gate results, or gates failed.
        RegistryError: The version was rejected or is already in production.
    """
    registry = Registry(settings)
    current = registry.get(model, version)
    _require_passed(current)
    return _approve_and_promote(registry, current, actor=actor, reason=reason)


def _approve_and_promote(
    registry: Registry, current: ModelVersion, *, actor: str, reason: str
) -> dict:
    previous = registry.production(current.name)
    if current.stage == "candidate":
        registry.approve(current.name, current.version, actor=actor, reason=reason)
    promoted = registry.promote(current.name, current.version, actor=actor, reason=reason)
    return {
        "model": current.name,
        "version": current.version,
        "stage": promoted.stage,
        "previous": previous.version if previous else None,
    }


def _spec_of(version: ModelVersion, spec: str | Path | None = None) -> ModelSpec:
    """The spec a version's gates ran with (recorded with them), else ``models/<name>``."""
    return load_spec(spec or version.gates.get("spec") or version.name)


def start_release(
    settings: Settings,
    model: str,
    version: str,
    *,
    actor: str,
    reason: str,
    mode: str | None = None,
    share: float | None = None,
    force: bool = False,
    spec: str | Path | None = None,
) -> dict:
    """Release a version whose gates passed beside production, as a canary or a shadow.

    A candidate is approved first (audited), then released (audited). A shadow of the
    same version may be turned into its canary.

    Args:
        settings: Where the registry lives.
        model: Registry name.
        version: The candidate, approved or shadow version.
        actor: Who released it.
        reason: Why, for the audit log.
        mode: ``canary`` or ``shadow``; default: ``shadow`` when the spec's
            ``release.mode`` says so, else ``canary``.
        share: Share of members; default the spec's ``release.canary_share`` (a canary)
            or ``release.shadow_share`` (a shadow).
        force: Skip the gates (audited as a bypass with the reason, like
            :func:`force_promote`).
        spec: Spec name or path (default: the one its gates ran with).

    Returns:
        ``{"model", "version", "mode", "share", "baseline", "started_at"}``.

    Raises:
        ReleaseError: No gate results or failed gates (without ``force``), or an empty
            reason with ``force``.
        RegistryError: See :meth:`Registry.start_release`.
    """
    registry = Registry(settings)
    current = registry.get(model, version)
    policy = _spec_of(current, spec).release
    mode = mode or ("shadow" if policy.mode == "shadow" else "canary")
    if share is None:
        share = policy.shadow_share if mode == "shadow" else policy.canary_share
    if mode == "canary" and share > 0.5:
        raise ReleaseError(
            f"a canary serves at most half the members (asked {share:g}); promote it instead"
        )
    if force:
        if not reason.strip():
            raise ReleaseError(f"a {mode} that bypasses the gates needs a reason for the audit log")
        reason = f"gates bypassed (--force) by {actor}: {reason.strip()}"
    else:
        _require_passed(current)
    if current.stage == "candidate":
        registry.approve(model, version, actor=actor, reason=reason)
    release = registry.start_release(
        model, version, mode=mode, share=share, actor=actor, reason=reason
    )
    return {
        "model": model,
        "version": version,
        "mode": release.mode,
        "share": release.share,
        "baseline": release.baseline,
        "started_at": release.started_at,
    }


def release_approved(
    settings: Settings, model: str, version: str, *, actor: str, reason: str
) -> dict:
    """What an approved release does by the spec: promote, or start a canary or shadow.

    The spec's ``release.mode`` applies only when a production version serves (a first
    version is always promoted). Returns :func:`promote`'s dict, with ``stage``
    ``canary`` or ``shadow`` when released beside production.
    """
    registry = Registry(settings)
    current = registry.get(model, version)
    policy = _spec_of(current).release
    production = registry.production(model)
    if policy.mode == "promote" or production is None:
        return promote(settings, model, version, actor=actor, reason=reason)
    started = start_release(settings, model, version, actor=actor, reason=reason)
    return {
        "model": model,
        "version": version,
        "stage": started["mode"],
        "previous": production.version,
        "share": started["share"],
    }


def force_promote(settings: Settings, model: str, version: str, *, actor: str, reason: str) -> dict:
    """Make a version production without its gates; the audit records the bypass.

    For emergencies only (``reelops models promote --force``): the approval and the
    promotion are audited with the person, the reason and "gates bypassed".

    Raises:
        ReleaseError: The reason is empty.
        RegistryError: The version was rejected or is already in production.
    """
    if not reason.strip():
        raise ReleaseError("a forced promotion needs a reason for the audit log")
    registry = Registry(settings)
    audited = f"gates bypassed (--force) by {actor}: {reason.strip()}"
    return _approve_and_promote(registry, registry.get(model, version), actor=actor, reason=audited)


def reject(settings: Settings, model: str, version: str, *, actor: str, reason: str) -> dict:
    """Mark a candidate rejected (it can never be promoted), audited with the reason."""
    rejected = Registry(settings).reject(model, version, actor=actor, reason=reason)
    return {"model": model, "version": version, "stage": rejected.stage, "reason": reason}


def auto_release(settings: Settings, gates: dict[str, Any]) -> dict:
    """Auto approval: the gates passed, so the candidate goes to production (or, if its
    spec's ``release.mode`` says so, beside it as a canary or shadow)."""
    return release_approved(
        settings,
        gates["model"],
        gates["version"],
        actor=AUTO_ACTOR,
        reason="all gates passed (auto approval)",
    )


def human_release(settings: Settings, gates: dict[str, Any], response: dict[str, Any]) -> dict:
    """Human approval answered Approve: release (as :func:`auto_release`) with the approver
    as the actor."""
    actor, note = _responder(response)
    return release_approved(
        settings,
        gates["model"],
        gates["version"],
        actor=actor,
        reason=f"approved in Airflow by {actor}" + (f": {note}" if note else ""),
    )


def settle_rejection(
    settings: Settings, gates: dict[str, Any], response: dict[str, Any] | None
) -> dict:
    """Reject a version that failed its gates or that a reviewer rejected.

    Args:
        settings: Where the registry lives.
        gates: :func:`run_gates`' result.
        response: The approval task's result (``chosen_options``, ``params_input``,
            ``responded_by_user``), or None when nobody was asked.

    Returns:
        What :func:`reject` returns.

    Raises:
        ReleaseError: The gates passed and nobody answered Reject (the task that
            calls this runs only when promotion was skipped, so this is a fault).
    """
    model, version = gates["model"], gates["version"]
    if not gates["passed"]:
        return reject(
            settings,
            model,
            version,
            actor=AUTO_ACTOR,
            reason="failed gates: " + "; ".join(gates["failures"]),
        )
    if response and response.get("chosen_options") == ["Reject"]:
        actor, note = _responder(response)
        return reject(
            settings,
            model,
            version,
            actor=actor,
            reason=f"rejected in Airflow by {actor}: {note or 'no reason given'}",
        )
    raise ReleaseError(
        f"{model}:{version} passed its gates and has no Reject answer "
        f"(approval result: {response!r}): nothing to reject; see the approval task"
    )


def _responder(response: dict[str, Any]) -> tuple[str, str]:
    user = response.get("responded_by_user") or {}
    actor = user.get("name") or user.get("id") or "airflow-user"
    note = str((response.get("params_input") or {}).get("reason") or "").strip()
    return f"airflow:{actor}", note


def outcome(settings: Settings, gates: dict[str, Any]) -> dict:
    """Where a release ended: the version's stage, what serves now, the report paths."""
    registry = Registry(settings)
    version = registry.get(gates["model"], gates["version"])
    serving = registry.production(gates["model"])
    print(f"{version.tag} is {version.stage}; production: {serving.tag if serving else 'none'}")
    for name, path in version.reports.items():
        print(f"report {name}: {path}")
    return {
        "model": version.name,
        "version": version.version,
        "stage": version.stage,
        "production": serving.version if serving else None,
        "reports": version.reports,
    }


def release_summary(settings: Settings, model: str, version: str) -> str:
    """What became of a trained version: its stage, the gate table and the reports."""
    registry = Registry(settings)
    v = registry.get(model, version)
    table = gate_table(v)
    if table is None:
        return f"{v.tag}: {v.stage} (gates not run)"
    verdict = "passed" if v.gates.get("passed") else "FAILED"
    champion = v.gates.get("champion_version") or "none (first model)"
    lines = [f"{v.tag}: gates {verdict} (champion {champion}) -> stage {v.stage}", table]
    lines += [f"  {name}: {path}" for name, path in v.reports.items()]
    return "\n".join(lines)
