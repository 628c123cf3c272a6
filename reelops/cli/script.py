"""`reelops script` and `reelops import scripts`: scripts as data, the Script Analyzer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reelops.cli.console import fail
from reelops.config import get_settings

script_app = typer.Typer(
    help="The Script Analyzer: scenes, characters, arc, pacing, flags.", no_args_is_help=True
)


def import_scripts_cmd(
    folder: Annotated[
        Path,
        typer.Argument(
            metavar="DIR", help="Folder of .fountain screenplays and .txt plays (one per title)."
        ),
    ],
) -> None:
    """Import scripts, one per title, all or nothing (problems named by file and line)."""
    from reelops.content.model import ScriptFormatError
    from reelops.content.store import import_scripts, scripts_dir

    settings = get_settings()
    try:
        scripts = import_scripts(settings, folder)
    except (ScriptFormatError, FileNotFoundError) as exc:
        fail(f"nothing imported:\n{exc}")
    for script in scripts:
        lines = len(script.lines)
        typer.echo(
            f"  {script.title_id:<28} {script.format:<9} {len(script.scenes):>4} scenes "
            f"{len(script.characters):>4} characters {lines:>6} lines"
        )
    typer.echo(f"{len(scripts)} scripts imported into {scripts_dir(settings)}")
    typer.echo("next: reelops script analyze --title ID")


@script_app.command("list")
def list_cmd() -> None:
    """The titles with an imported script."""
    from reelops.content.store import stored_titles

    titles = stored_titles(get_settings())
    if not titles:
        fail("no scripts imported; run `reelops import scripts DIR`")
    for title in titles:
        typer.echo(title)
