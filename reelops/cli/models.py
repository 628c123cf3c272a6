"""`reelops models`: the registry's versions, stages, gates, lineage and audit trail."""

from __future__ import annotations

import getpass
import json
from typing import Annotated

import typer

from reelops.cli.console import fail as _fail
from reelops.config import get_settings

models_app = typer.Typer(help="The model registry: versions, stages, audit.", no_args_is_help=True)


def _registry():
    from reelops.registry import Registry

    return Registry(get_settings())


def _registry_call(action):
    from reelops.registry import RegistryError

    try:
        return action()
    except RegistryError as exc:
        _fail(str(exc))


@models_app.command("list")
def models_list(
    name: Annotated[
        str | None, typer.Argument(metavar="NAME", help="Only this model (e.g. ranker).")
    ] = None,
) -> None:
    """List model versions with their stage and headline metrics."""
    registry = _registry()
    versions = registry.list(name)
    if name is not None and not versions:
        known = sorted({v.name for v in registry.list()})
        _fail(
            f"no versions of model {name!r} in the registry; "
            + (f"models with versions: {', '.join(known)}" if known else "it is empty")
        )
    if not versions:
        typer.echo("no model versions yet")
    for v in versions:
        metrics = ", ".join(
            f"{k}={val:.4g}"
            for k, val in list(v.metrics.items())[:3]
            if isinstance(val, (int, float))
        )
        typer.echo(f"{v.tag:<40} {v.stage:<10} {v.created_at}  {metrics}")


@models_app.command("show")
def models_show(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Model name.")],
    version: Annotated[
        str, typer.Argument(metavar="VERSION", help="Version (see `reelops models list`).")
    ],
) -> None:
    """Show one version: stage, metrics, gates, reports, lineage and its audit trail."""
    from reelops.quality.release import gate_table

    registry = _registry()
    v = _registry_call(lambda: registry.get(name, version))
    typer.echo(f"{v.tag}  stage={v.stage}  created {v.created_at}")
    typer.echo("metrics:")
    typer.echo(json.dumps(v.metrics, indent=2, default=str))
    table = gate_table(v)
    if table is None:
        typer.echo("gates: not run yet")
    else:
        verdict = "PASSED" if v.gates.get("passed") else "FAILED"
        champion = v.gates.get("champion_version") or "none (first model)"
        typer.echo(f"gates: {verdict} (champion {champion}, approval {v.gates.get('approval')})")
        typer.echo(table)
    typer.echo("reports:" + ("" if v.reports else " none"))
    for report, path in v.reports.items():
        typer.echo(f"  {report}: {path}")
    typer.echo("lineage:")
    typer.echo(json.dumps(v.lineage, indent=2, default=str))
    typer.echo("audit:")
    for e in registry.audit_log(name):
        if version in (e.from_version, e.to_version):
            typer.echo(
                f"  {e.at} {e.actor} {e.action} {e.from_version} -> {e.to_version}: {e.reason}"
            )


@models_app.command("promote")
def models_promote(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Model name.")],
    version: Annotated[
        str, typer.Argument(metavar="VERSION", help="Version to put in production.")
    ],
    reason: Annotated[str, typer.Option(metavar="TEXT", help="Why (recorded in the audit log).")],
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Promote although its gates did not pass or never ran (audited)."
        ),
    ] = False,
) -> None:
    """Make a version whose gates passed the production one (the previous one is retired).

    ``--force`` skips the gates; the audit log then records who did it, that the gates
    were bypassed, and the reason, which must not be empty.
    """
    from reelops.quality.release import ReleaseError, force_promote, promote
    from reelops.registry import RegistryError

    settings, actor, reason = get_settings(), getpass.getuser(), reason.strip()
    if not reason:
        _fail("--reason must say why (it goes to the audit log)")
    release = force_promote if force else promote
    try:
        release(settings, name, version, actor=actor, reason=reason)
    except (ReleaseError, RegistryError) as exc:
        _fail(str(exc))
    typer.echo(f"{name}:{version} is now in production" + (" (gates bypassed)" if force else ""))


@models_app.command("reject")
def models_reject(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Model name.")],
    version: Annotated[str, typer.Argument(metavar="VERSION", help="Version to reject.")],
    reason: Annotated[str, typer.Option(metavar="TEXT", help="Why (recorded in the audit log).")],
) -> None:
    """Reject a candidate or approved version; it can never be promoted."""
    registry = _registry()
    v = _registry_call(
        lambda: registry.reject(name, version, actor=getpass.getuser(), reason=reason)
    )
    typer.echo(f"{v.tag} rejected")


@models_app.command("rollback")
def models_rollback(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Model name.")],
    reason: Annotated[str, typer.Option(metavar="TEXT", help="Why (recorded in the audit log).")],
) -> None:
    """Put back the version that served before the current production version."""
    registry = _registry()
    v = _registry_call(lambda: registry.rollback(name, reason=reason))
    typer.echo(f"rolled back: {v.tag} is in production again")
