"""How every `reelops` command reports a user error: one red line, exit code 2."""

from __future__ import annotations

import typer


def fail(message: str) -> None:
    """Print ``error: message`` to stderr and exit with code 2."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)
