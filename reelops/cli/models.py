"""`reelops models`: the registry's versions, stages, gates, lineage and audit trail."""

from __future__ import annotations

import getpass
import json
from datetime import datetime, timedelta
from typing import Annotated

import typer

from reelops.cli.console import DAY, day
from reelops.cli.console import fail as _fail
from reelops.config import get_settings

models_app = typer.Typer(
    help="The model registry: versions, stages, audit, canary releases.", no_args_is_help=True
)


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


canary_app = typer.Typer(
    help="Canary and shadow releases beside production, decided on live outcomes.",
    no_args_is_help=True,
)
models_app.add_typer(canary_app, name="canary")


def _window(start: datetime | None, end: datetime | None):
    """The outcome window from --from/--to (whole days), or None for the default."""
    if start is None and end is None:
        return None
    if start is None or end is None:
        _fail("give both --from and --to (or neither: the release's start to now)")
    if end < start:
        _fail(f"--to {end:%Y-%m-%d} is before --from {start:%Y-%m-%d}")
    return day(start), day(end) + timedelta(days=1)


WindowStart = Annotated[
    datetime | None,
    typer.Option(
        "--from",
        formats=["%Y-%m-%d"],
        metavar=DAY,
        help="First day of outcome events counted (default: the release's start).",
    ),
]
WindowEnd = Annotated[
    datetime | None,
    typer.Option(
        "--to",
        formats=["%Y-%m-%d"],
        metavar=DAY,
        help="Last day of outcome events counted, included (default: now).",
    ),
]


@canary_app.command("start")
def canary_start(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Model name (e.g. ranker).")],
    version: Annotated[
        str, typer.Argument(metavar="VERSION", help="A version whose gates passed.")
    ],
    share: Annotated[
        float | None,
        typer.Option(
            min=0.001,
            max=1.0,
            metavar="SHARE",
            help="Share of members it serves (a canary: at most 0.5) or is scored for (a "
            "shadow); default: the spec's release.canary_share or shadow_share.",
        ),
    ] = None,
    shadow: Annotated[
        bool,
        typer.Option(
            "--shadow",
            help="Score and log it for its share, never show it (default: the spec's "
            "release.mode).",
        ),
    ] = False,
    reason: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="Why (recorded in the audit log; needed with --force)."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Release it although its gates did not pass (audited)."),
    ] = False,
) -> None:
    """Release a version beside production: a canary for a stable share of members, or a
    shadow. `reelops models canary decide NAME` later promotes or rolls it back."""
    from reelops.quality.release import ReleaseError, start_release
    from reelops.registry import RegistryError
    from reelops.specs import SpecError

    reason = (reason or "").strip()
    if force and not reason:
        _fail("--force needs --reason saying why (it goes to the audit log)")
    try:
        started = start_release(
            get_settings(),
            name,
            version,
            actor=getpass.getuser(),
            reason=reason or "started by hand",
            mode="shadow" if shadow else None,
            share=share,
            force=force,
        )
    except (ReleaseError, RegistryError, SpecError) as exc:
        _fail(str(exc))
    what = "serves" if started["mode"] == "canary" else "is scored (never shown) for"
    typer.echo(
        f"{name}:{version} is a {started['mode']}: it {what} {started['share']:.1%} of members "
        f"beside production {name}:{started['baseline']}"
    )


@canary_app.command("status")
def canary_status(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Model name.")],
    start: WindowStart = None,
    end: WindowEnd = None,
) -> None:
    """The live canary or shadow: traffic per arm, the comparison so far and what
    `decide` would do now (nothing is changed)."""
    from reelops.releases.canary import CanaryError, status
    from reelops.sources import SourceError
    from reelops.specs import SpecError

    try:
        found = status(get_settings(), name, window=_window(start, end))
    except (CanaryError, SpecError, SourceError) as exc:
        _fail(str(exc))
    release = found["release"]
    typer.echo(
        f"{name}:{release['version']} {release['mode']} for {release['share']:.1%} of members "
        f"beside production {name}:{release['baseline']} since {release['started_at']} "
        f"({release['looks']} looks taken)"
    )
    if release["mode"] == "shadow":
        typer.echo("shadow beside what was served: " + json.dumps(found["shadow"], indent=2))
        return
    typer.echo(f"requests: {found['requests'] or 'none yet'}; members: {found['members'] or 0}")
    decision = found["decision"]
    typer.echo(f"decision now: {decision['action']} ({decision['reason']})")


@canary_app.command("decide")
def canary_decide(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Model name.")],
    start: WindowStart = None,
    end: WindowEnd = None,
) -> None:
    """Compare the live canary with production on live outcomes and promote it, roll it
    back (its members go back to production), or keep it going; audited."""
    from reelops.releases.canary import CanaryError, decide
    from reelops.specs import SpecError

    try:
        decision = decide(get_settings(), name, window=_window(start, end), actor=getpass.getuser())
    except (CanaryError, SpecError) as exc:
        _fail(str(exc))
    done = {
        "promote": f"promoted: {name}:{decision.version} is in production",
        "rollback": f"rolled back: {name}:{decision.version} is rejected; its members are "
        f"back on {name}:{decision.baseline}",
        "continue": f"{name}:{decision.version} keeps serving its share",
    }[decision.action]
    typer.echo(f"{done}\n  {decision.reason}")


@canary_app.command("stop")
def canary_stop(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Model name.")],
    reason: Annotated[str, typer.Option(metavar="TEXT", help="Why (recorded in the audit log).")],
) -> None:
    """End the live canary or shadow without a decision (it goes back to approved)."""
    from reelops.registry import RegistryError
    from reelops.releases.canary import CanaryError, stop

    try:
        ended = stop(get_settings(), name, reason=reason, actor=getpass.getuser())
    except (CanaryError, RegistryError) as exc:
        _fail(str(exc))
    typer.echo(f"{name}:{ended.version} {ended.mode} stopped; production serves every member")
