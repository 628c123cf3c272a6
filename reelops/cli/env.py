"""`reelops env`: shell exports that let dbt, Feast, BentoML and Airflow's own CLIs work."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from reelops.cli.console import fail
from reelops.config import get_settings


def env_command(
    source: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="A stored source (default: the active one)."),
    ] = None,
) -> None:
    """Print `export` lines for dbt, Feast, BentoML and Airflow: eval "$(reelops env)".

    The values are the ones the platform's own runs use for the source and the profile
    (REELOPS_PROFILE); on the production profile they include the database password.
    """
    from reelops.sources import SourceError, active_source, source_info
    from reelops.tools_environ import shell_dbt_dir, tools_environ

    settings = get_settings()
    try:
        name = source or active_source(settings)
        source_info(settings, name)
    except SourceError as exc:
        if source is not None:
            fail(str(exc))
        # Still useful without a source: BentoML and Airflow need none.
        typer.secho(f"warning: {exc}; dbt and Feast are not set up", err=True, fg="yellow")
        name = None
    environ = tools_environ(settings, name)
    if name is not None:
        # DuckDB writes a hand-run `dbt run`'s marts there and does not create folders.
        (shell_dbt_dir(settings, name) / "marts").mkdir(parents=True, exist_ok=True)
    environ["PATH"] = _path_with(Path(sys.executable).parent)
    where = f"source {name!r}" if name else "no source"
    typer.echo(f"# ReelOps {settings.profile} profile, {where}, home {settings.home}")
    for key, value in sorted(environ.items()):
        typer.echo(f"export {key}={shlex.quote(value)}")


def _path_with(folder: Path) -> str:
    """PATH with the platform's tools (this Python's bin folder) first, once."""
    entries = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    return os.pathsep.join([str(folder), *(p for p in entries if p != str(folder))])
