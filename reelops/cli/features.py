"""`reelops features`: apply, materialize, look up and describe the Feast feature store."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from reelops.cli.console import DAY, progress_bars
from reelops.cli.console import day as _day
from reelops.cli.console import fail as _fail
from reelops.config import get_settings

features_app = typer.Typer(
    help="The Feast feature store of the active source.", no_args_is_help=True
)


@features_app.command("apply")
def features_apply() -> None:
    """Register the feature definitions in Feast's registry if they changed."""
    from reelops.features.store import FeatureStoreError, apply_if_changed, open_store

    try:
        repo = open_store(get_settings(), apply=False)
        applied = apply_if_changed(repo)
    except FeatureStoreError as exc:
        _fail(str(exc))
    state = "applied" if applied else "already current, nothing to apply"
    typer.echo(f"feature definitions of project {repo.project} ({repo.settings.profile}): {state}")


@features_app.command("materialize")
def features_materialize(
    start: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], metavar=DAY, help="Interval start.")
    ],
    end: Annotated[
        datetime,
        typer.Option(formats=["%Y-%m-%d"], metavar=DAY, help="Interval end (exclusive day)."),
    ],
) -> None:
    """Materialize every online view up to END, as the daily DAG does for [START, END)."""
    from reelops.features.materialize import describe_materialization, materialize
    from reelops.features.store import FeatureStoreError

    start, end = _day(start), _day(end)
    if end <= start:
        _fail(f"--end {end.date()} must be after --start {start.date()}")
    try:
        with progress_bars() as progress:
            result = materialize(get_settings(), start=start, end=end, progress=progress)
    except FeatureStoreError as exc:
        _fail(str(exc))
    typer.echo(describe_materialization(result))


def _print_entity(title: str, entity) -> None:
    typer.echo(title)
    for view, at in entity.event_times.items():
        typer.echo(f"  {view}: row of {at}" if at else f"  {view}: no row")
    for name, value in entity.values.items():
        state = entity.status[name]
        shown = value if state == "present" else f"<{state}>"
        typer.echo(f"    {name:<48} {shown}")


def _fail_on_unknown(result, network: str | None) -> None:
    """Exit 2 when an asked network or title has no row in any view: it does not exist.

    A lookup serves unknown keys as missing (serving must answer); asked by a person, a
    key with nothing at all is a typo or a key of another source, not a feature value.
    """
    if network is not None and not any(result.network.event_times.values()):
        _fail(
            f"network {network!r} has no online features in any view; a network is "
            "COUNTRY:CONNECTION as in dim_members (e.g. DE:fibre); leave --network out "
            "to use the member's own"
        )
    unknown = [
        row["title_id"]
        for row in result.title_status.to_dict("records")
        if all(state == "missing" for name, state in row.items() if name != "title_id")
    ]
    if unknown:
        _fail(f"title(s) {unknown} have no online features in any view: unknown title ids?")


@features_app.command("get")
def features_get(
    member: Annotated[
        str,
        typer.Option(metavar="MEMBER_ID", help="Raw member id as in the source, e.g. m000042."),
    ],
    network: Annotated[
        str | None,
        typer.Option(
            metavar="COUNTRY:CONNECTION",
            help="Network context, e.g. DE:fibre (default: the member's own).",
        ),
    ] = None,
    title: Annotated[
        list[str] | None,
        typer.Option(metavar="TITLE_ID", help="A candidate title id (repeatable)."),
    ] = None,
    at: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"],
            metavar=f"{DAY}[THH:MM:SS]",
            help="Request time for staleness (default: the online store's latest watermark).",
        ),
    ] = None,
) -> None:
    """Show a member's online features (and a network context's, and titles'), stale ones marked."""
    from reelops.features.describe import member_lookup
    from reelops.features.store import FeatureStoreError

    try:
        result = member_lookup(get_settings(), member, network=network, titles=title or [], at=at)
    except (FeatureStoreError, LookupError) as exc:
        _fail(str(exc))
    _fail_on_unknown(result, network)
    typer.echo(
        f"online features at {result.request_time} (values older than their view's ttl "
        f"are shown as <stale>, absent ones as <missing>)"
    )
    _print_entity(f"member (key {result.member.key})", result.member)
    if result.network is not None:
        _print_entity(f"network {result.network.key}", result.network)
    for row, status in zip(
        result.titles.to_dict("records"), result.title_status.to_dict("records"), strict=True
    ):
        typer.echo(f"title {row['title_id']}")
        for name, value in row.items():
            if name != "title_id":
                shown = value if status[name] == "present" else f"<{status[name]}>"
                typer.echo(f"    {name:<48} {shown}")
    typer.echo(f"lookup took {result.seconds * 1000:.1f} ms")


@features_app.command("describe")
def features_describe() -> None:
    """List entities, feature views, on-demand views, services, and each view's freshness."""
    from reelops.features.describe import describe_store, format_description
    from reelops.features.store import FeatureStoreError

    try:
        typer.echo(format_description(describe_store(get_settings())))
    except FeatureStoreError as exc:
        _fail(str(exc))
