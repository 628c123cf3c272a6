"""What every `reelops` command shares: one red line and exit code 2 for a user error; days."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer


def fail(message: str) -> None:
    """Print ``error: message`` to stderr and exit with code 2."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


def day(value: datetime) -> datetime:
    """Midnight of ``value``'s day (options given as dates are whole days)."""
    return datetime.combine(value.date(), datetime.min.time())


Verbose = Annotated[
    bool, typer.Option("--verbose", help="Also stream Airflow's and the tools' output.")
]
"""The ``--verbose`` of the commands that run a DAG (quiet by default: a line a task)."""
