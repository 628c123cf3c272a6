"""`reelops monitor`: the monitoring DAG's checks from the shell, and log compaction."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from reelops.cli.console import DAY, fail
from reelops.config import get_settings

monitor_app = typer.Typer(
    help="Monitor what the endpoints served: drift, outcomes, log compaction.",
    no_args_is_help=True,
)


@monitor_app.command("run")
def monitor_run(
    date: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], metavar=DAY, help="The day to check.")
    ],
) -> None:
    """Feature drift, prediction drift and outcomes of each model on one day.

    Writes Evidently's HTML reports and a summary under REELOPS_HOME/monitoring/ and
    prints each check and the reports' paths. Exits 1 when a check failed (the
    monitoring DAG then asks for the model's retraining).
    """
    from reelops.monitoring.run import monitor_day
    from reelops.sources import SourceError

    try:
        run = monitor_day(get_settings(), date.date())
    except SourceError as error:
        fail(str(error))
    typer.echo(run.describe())
    if run.retrain:
        raise typer.Exit(1)


@monitor_app.command("compact")
def monitor_compact(
    date: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], metavar=DAY, help="The day (default: every day)."),
    ] = None,
) -> None:
    """Rewrite a day's many small prediction-log files as one, keeping every row."""
    from reelops.monitoring.compaction import compact_day, log_days
    from reelops.sources import SourceError, active_source

    settings = get_settings()
    try:
        lake = settings.lake_dir(active_source(settings))
    except SourceError as error:
        fail(str(error))
    for day in [date.date()] if date else log_days(lake):
        typer.echo(compact_day(lake, day).describe())
