"""What every `reelops` command shares: one red line and exit code 2 for a user error; days;
help that names what a value is; progress bars for long loops."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

import typer
import typer.core

# Help shows these instead of typer's `<str>`, `<int>` or `<%Y-%m-%d>`.
DAY = "YYYY-MM-DD"
Progress = Callable[[str, int, int], None]
# `--version` of the commands that judge or use a trained model.
RegistryVersion = Annotated[
    str | None,
    typer.Option(metavar="VERSION", help="Registry version (default: production, else newest)."),
]


def fail(message: str) -> None:
    """Print ``error: message`` to stderr and exit with code 2."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


def day(value: datetime) -> datetime:
    """Midnight of ``value``'s day (options given as dates are whole days)."""
    return datetime.combine(value.date(), datetime.min.time())


def show_argument_metavars() -> None:
    """Make help show an argument's metavar alone, as typer already does for options.

    Typer prints the Python type beside every positional argument (``NAME <str>``) even
    when a metavar says what the value is; options honour their metavar.
    """

    def display_type_rich(self, ctx):
        return None if self.metavar else typer.core.TyperArgument.display_type(self, ctx)

    typer.core.TyperArgument.display_type_rich = display_type_rich


@contextmanager
def progress_bars(*, enabled: bool = True) -> Iterator[Progress]:
    """A ``progress(stage, done, total)`` callback drawing one rich bar per stage on stderr.

    Bars go to stderr and only to a terminal, so piped or captured output stays plain.
    Domain code takes the callback as a plain function and never imports rich.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    console = Console(stderr=True)
    if not (enabled and console.is_terminal):
        yield lambda stage, done, total: None
        return
    columns = (
        "{task.description:<28}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    tasks: dict[str, int] = {}
    with Progress(*columns, console=console, transient=False) as bars:

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total)
            bars.update(tasks[stage], completed=done, total=total)

        yield update


Verbose = Annotated[
    bool, typer.Option("--verbose", help="Also stream Airflow's and the tools' output.")
]
"""The ``--verbose`` of the commands that run a DAG (quiet by default: a line a task)."""
