"""`reelops privacy`: what is held about a member (scan, export) and erasing them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reelops.cli.console import fail as _fail
from reelops.config import get_settings

privacy_app = typer.Typer(
    help="Members' data: scan for it, export it, erase it.", no_args_is_help=True
)

MemberOption = Annotated[
    str, typer.Option("--member", metavar="ID", help="The member's id in the source.")
]
SourceOption = Annotated[
    str | None,
    typer.Option(
        metavar="SOURCE", help="The source the member belongs to (default: the active one)."
    ),
]


def _member(member_id: str, source: str | None):
    from reelops.erasure.identity import UnknownMemberError, resolve
    from reelops.sources import SourceError, active_source

    settings = get_settings()
    try:
        source = source or active_source(settings)
        return settings, *resolve(settings, source, member_id)
    except (UnknownMemberError, SourceError) as exc:
        _fail(str(exc))


@privacy_app.command("scan")
def privacy_scan(member: MemberOption, source: SourceOption = None) -> None:
    """Look for the member's raw id, pseudonym and sessions in every store.

    One line per store with the rows found. Exit code 0 when no store holds anything
    about them, 1 when some store does, 2 for an unknown member.
    """
    from reelops.erasure.report import scan
    from reelops.erasure.requests import known_member

    settings, found_member, erased = _member(member, source)
    found = scan(settings, known_member(settings, found_member))
    total = 0
    for store, items in found.items():
        rows = sum(f.rows for f in items)
        total += rows
        tables = ", ".join(f"{f.table} {f.rows:,}" for f in items[:4])
        more = f", +{len(items) - 4} more" if len(items) > 4 else ""
        typer.echo(f"{store:<14} {rows:>8,}" + (f"  ({tables}{more})" if items else ""))
    state = "erased" if erased else "not erased"
    verdict = f"{total:,} rows/mentions found" if total else "no traces found"
    typer.echo(f"member {member} ({state}): {verdict}")
    raise typer.Exit(code=1 if total else 0)


@privacy_app.command("export")
def privacy_export(
    member: MemberOption,
    out: Annotated[Path, typer.Option(metavar="FILE", help="JSON file to write (owner-only).")],
    source: SourceOption = None,
) -> None:
    """Write everything held about the member, by store and table, with purposes and models."""
    from reelops.erasure.report import export, write_export

    settings, found_member, _ = _member(member, source)
    document = export(settings, found_member)
    write_export(document, out)
    for store in document["stores"]:
        rows = sum(len(t["rows"]) for t in store["tables"])
        typer.echo(f"{store['store']:<14} {rows:>8,} rows in {len(store['tables'])} table(s)")
    typer.echo(f"{len(document['models_trained_on_your_data'])} model version(s) trained on it")
    typer.echo(f"wrote {out}")


@privacy_app.command("erase")
def privacy_erase(
    member: MemberOption,
    source: SourceOption = None,
    queue: Annotated[
        bool, typer.Option("--queue", help="Queue it for the reelops_privacy DAG instead.")
    ] = False,
) -> None:
    """Remove the member from every store, keep them out of later landings, audit it.

    Running it again is harmless; an erasure that was interrupted resumes where it stopped.
    """
    from reelops.erasure.requests import (
        ErasureIncompleteError,
        audit_path,
        erase_member,
        queue_erasure,
    )

    settings, found_member, _ = _member(member, source)
    if queue:
        request = queue_erasure(settings, found_member.source, member)
        typer.echo(f"queued erasure {request.id}; the reelops_privacy DAG carries it out")
        return
    try:
        request = erase_member(settings, found_member.source, member)
    except ErasureIncompleteError as exc:
        _fail(str(exc))
    for store, done in request.stores.items():
        typer.echo(f"{store:<14} {done['removed']:>8,} removed in {done.get('seconds', 0):.1f} s")
    typer.echo(
        f"erased {request.id}: the scan afterwards finds nothing; "
        f"{len(request.models_trained_on)} model version(s) were trained on their data"
        f" (listed in {audit_path(settings)})"
    )
