"""The `reelops artwork` commands: render variants as PNG files, draw two members' home rows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reelops.cli.console import fail as _fail
from reelops.config import get_settings

artwork_app = typer.Typer(
    help="Personalized artwork: render variants, picture two members' home rows.",
    no_args_is_help=True,
)

SourceOption = Annotated[
    str | None,
    typer.Option(metavar="SOURCE", help="Source name (default: the active source)."),
]


def _source(source: str | None) -> str:
    from reelops.sources import SourceError, active_source

    try:
        return source or active_source(get_settings())
    except SourceError as exc:
        _fail(str(exc))


def _catalogue(source: str):
    from reelops.artwork.catalogue import ArtworkCatalogue

    try:
        return ArtworkCatalogue.load(get_settings(), source)
    except FileNotFoundError:
        _fail(f"source {source!r} has no artwork catalogue yet: run `reelops pipeline run` first")


@artwork_app.command("render")
def render_cmd(
    title: Annotated[
        str, typer.Option(metavar="TITLE_ID", help="The title whose artwork to render.")
    ],
    out: Annotated[Path, typer.Option(metavar="DIR", help="Folder the PNG files are written to.")],
    variant: Annotated[
        list[str] | None,
        typer.Option(metavar="VARIANT_ID", help="Only this variant (repeatable; default: all)."),
    ] = None,
    source: SourceOption = None,
) -> None:
    """Render a title's artwork variants as PNG files, `<variant_id>.png` in DIR."""
    from reelops.artwork.catalogue import ArtworkNotFound
    from reelops.artwork.render import render_png

    catalogue = _catalogue(_source(source))
    try:
        specs = (
            [catalogue.spec(title, v) for v in variant] if variant else catalogue.variants(title)
        )
    except ArtworkNotFound as exc:
        wrong = title if exc.field == "title_id" else ", ".join(variant or [])
        _fail(f"{exc.field} {wrong!r}: {exc}")
    out.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        path = out / f"{spec.variant_id}.png"
        path.write_bytes(render_png(spec))
        typer.echo(f"{path}  {spec.theme}  {spec.title_name}")


@artwork_app.command("home")
def home_cmd(
    out: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="PNG to write (default: the reports folder)."),
    ] = None,
    source: SourceOption = None,
) -> None:
    """Draw two members with different tastes, their home row with the artwork each sees."""
    from reelops.artwork.home_picture import write_two_members_picture

    settings = get_settings()
    name = _source(source)
    path = out or settings.reports_dir / "artwork_two_members.png"
    _catalogue(name)  # a clear error before any drawing when nothing is built
    try:
        typer.echo(write_two_members_picture(settings, name, path))
    except ValueError as exc:
        _fail(str(exc))
