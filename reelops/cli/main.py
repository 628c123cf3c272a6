"""The `reelops` command: a typed CLI over the package's functions."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

import typer

from reelops.cli.artwork import artwork_app
from reelops.cli.bitrate import abr_app, bitrate_app
from reelops.cli.console import DAY, Verbose, progress_bars, show_argument_metavars
from reelops.cli.console import day as _day
from reelops.cli.console import fail as _fail
from reelops.cli.data import data_app
from reelops.cli.env import env_command
from reelops.cli.features import features_app
from reelops.cli.models import models_app
from reelops.cli.monitor import monitor_app
from reelops.cli.privacy import privacy_app
from reelops.cli.ranker import app as ranker_app
from reelops.cli.script import genome_app, import_scripts_cmd, script_app
from reelops.cli.traffic import traffic_command
from reelops.config import get_settings
from reelops.locks import home_lock

# Plain help: typer's rich panels print `<bool>` beside every flag, --help included.
app = typer.Typer(
    help="ReelOps: the MLOps platform of a video-streaming service.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
show_argument_metavars()
world_app = typer.Typer(help="The synthetic streaming world.", no_args_is_help=True)
import_app = typer.Typer(
    help="Import real data (MovieLens, throughput traces).", no_args_is_help=True
)
pipeline_app = typer.Typer(
    help="Run the data DAGs (daily, content) through Airflow.", no_args_is_help=True
)
warehouse_app = typer.Typer(help="The dbt warehouse.", no_args_is_help=True)
airflow_app = typer.Typer(help="Airflow on the local profile.", no_args_is_help=True)
app.add_typer(world_app, name="world")
world_app.command("traffic")(traffic_command)
app.add_typer(import_app, name="import")
app.add_typer(pipeline_app, name="pipeline")
app.add_typer(warehouse_app, name="warehouse")
app.add_typer(airflow_app, name="airflow")
app.add_typer(features_app, name="features")
app.add_typer(models_app, name="models")
app.add_typer(ranker_app, name="ranker")
app.add_typer(bitrate_app, name="bitrate")
app.add_typer(abr_app, name="abr")
app.add_typer(data_app, name="data")
app.command("env")(env_command)
app.add_typer(privacy_app, name="privacy")
app.add_typer(script_app, name="script")
app.add_typer(genome_app, name="genome")
app.add_typer(artwork_app, name="artwork")
app.add_typer(monitor_app, name="monitor")


def _print_source(info) -> None:
    typer.echo(f"source {info.name!r} ({info.kind}) at {info.path}")
    typer.echo(f"  events from {info.first_ts} to {info.last_ts}")
    for table, rows in info.rows.items():
        typer.echo(f"  {table:<18} {rows:>10,} rows")


@world_app.command("generate")
def world_generate(
    size: Annotated[
        Literal["tiny", "demo", "large"],
        typer.Option(help="Preset: 200, 1,500 or 10,000 members."),
    ] = "demo",
    seed: Annotated[
        int | None, typer.Option(metavar="N", help="Random seed (default: the preset's).")
    ] = None,
    members: Annotated[
        int | None, typer.Option(min=1, metavar="N", help="Number of members.")
    ] = None,
    titles: Annotated[
        int | None, typer.Option(min=1, metavar="N", help="Number of titles.")
    ] = None,
    days: Annotated[int | None, typer.Option(min=1, metavar="N", help="Days of activity.")] = None,
    start: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], metavar=DAY, help="First day of activity."),
    ] = None,
    traces: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Folder of real throughput traces for playback sessions."),
    ] = None,
) -> None:
    """Generate a seeded synthetic world and make it the active source."""

    from reelops.abr.traces import TraceFormatError
    from reelops.content.world_scripts import write_source_scripts
    from reelops.world.generator import WorldConfig
    from reelops.world.synthetic_source import generate_source

    presets = {"tiny": WorldConfig.tiny, "demo": WorldConfig.demo, "large": WorldConfig.large}
    config = presets[size]()
    overrides = {
        "seed": seed,
        "n_members": members,
        "n_titles": titles,
        "days": days,
        "start": start.date() if start else None,
    }
    config = dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})
    settings = get_settings()
    try:
        with progress_bars() as progress:
            info = generate_source(settings, config, traces, progress=progress)
    except (TraceFormatError, FileNotFoundError) as exc:
        _fail(str(exc))
    _print_source(info)
    scripts = write_source_scripts(settings, info.name, seed=config.seed)
    typer.echo(f"  {'scripts':<18} {scripts.scripts:>10,} screenplays in {scripts.folder}")
    typer.echo("next: reelops import scripts   (the world's scripts; then reelops genome build)")


@import_app.command("movielens")
def import_movielens_cmd(
    folder: Annotated[
        Path,
        typer.Argument(
            metavar="DIR", help="Folder with u.data, u.item, u.user or ratings.csv, movies.csv."
        ),
    ],
) -> None:
    """Import a MovieLens folder (100K or CSV layout) as the active source (replaces no other)."""
    from reelops.world.movielens import ImportFormatError, import_movielens

    try:
        result = import_movielens(get_settings(), folder)
    except ImportFormatError as exc:
        _fail(str(exc))
    info = result.info
    _print_source(info)
    for note in (f"{result.layout} layout", *result.notes):
        typer.echo(f"  note: {note}")
    first = info.first_ts.date() if info.first_ts else None
    last = (info.last_ts.date() + timedelta(days=1)) if info.last_ts else None
    typer.echo(f"next: reelops pipeline run --start {first} --end {last}")


import_app.command("scripts")(import_scripts_cmd)


@import_app.command("traces")
def import_traces_cmd(
    folder: Annotated[
        Path, typer.Argument(metavar="DIR", help="Folder of traces: `time_s Mbit/s` per line.")
    ],
) -> None:
    """Import throughput traces (one file per trace), all or nothing."""
    from reelops.abr.traces import TraceFormatError
    from reelops.bitrate.trace_source import import_traces

    try:
        result = import_traces(get_settings(), folder)
    except (TraceFormatError, FileNotFoundError) as exc:
        _fail(str(exc))
    typer.echo(
        f"imported {result.traces} traces ({result.samples:,} samples, "
        f"mean {result.mean_mbps:.2f} Mbit/s) to {result.path}"
    )


@pipeline_app.command("run")
def pipeline_run(
    start: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], metavar=DAY, help="First day (inclusive).")
    ],
    end: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], metavar=DAY, help="Last day (exclusive).")
    ],
    daily: Annotated[
        bool, typer.Option(help="One DAG run per day instead of one run for the interval.")
    ] = False,
    verbose: Verbose = False,
) -> None:
    """Run the daily DAG over [START, END) as one run (or one per day with --daily).

    On the running Airflow (`reelops airflow up`) if there is one, else in-process.
    """
    from reelops.orchestration.api import running_api
    from reelops.orchestration.dispatch import DagPausedError, run_or_trigger

    start, end = _day(start), _day(end)
    if end <= start:
        _fail(f"--end {end.date()} must be after --start {start.date()}")
    intervals = [(start, end)]
    if daily:
        n = (end - start).days
        intervals = [(start + timedelta(days=i), start + timedelta(days=i + 1)) for i in range(n)]
    settings = get_settings()
    api = running_api(settings)
    # In-process, the whole command holds the home's lock, so --daily runs are not
    # interleaved; on a running Airflow the DAG's max_active_runs=1 does that.
    lock = (
        home_lock(settings, f"pipeline run {start.date()}..{end.date()}") if api is None else None
    )
    with lock or contextlib.nullcontext():
        for a, b in intervals:
            conf = {"start": a.date().isoformat(), "end": b.date().isoformat()}
            try:
                result = run_or_trigger(settings, "reelops_daily", conf, api=api, verbose=verbose)
            except DagPausedError as exc:
                _fail(str(exc))
            typer.echo(f"reelops_daily [{a.date()}, {b.date()}): {result.state}")
            _fail_unless_ok(result)


@pipeline_app.command("content")
def pipeline_content(verbose: Verbose = False) -> None:
    """Run the content DAG: analyze the imported scripts, genome, dbt, materialize.

    On the running Airflow (`reelops airflow up`) if there is one, else in-process.
    """
    from reelops.orchestration.content import DAG_ID
    from reelops.orchestration.dispatch import DagPausedError, run_or_trigger

    try:
        result = run_or_trigger(get_settings(), DAG_ID, {}, verbose=verbose)
    except DagPausedError as exc:
        _fail(str(exc))
    typer.echo(f"{DAG_ID}: {result.state}")
    _fail_unless_ok(result)


def _fail_unless_ok(result) -> None:
    """Exit 2 naming the run and its unsuccessful tasks unless the DAG run succeeded."""
    if not result.ok:
        _fail(
            f"DAG run {result.run_id} ended {result.state}; tasks not successful: "
            f"{result.unsuccessful} (their logs: the Airflow UI, or the run log above)"
        )


@warehouse_app.command("build")
def warehouse_build() -> None:
    """Run `dbt build` over the active source's lake, without Airflow."""
    from reelops.sources import active_source
    from reelops.warehouse import WarehouseBuildError, build, describe_build

    settings = get_settings()
    try:
        with home_lock(settings, "warehouse build"):
            typer.echo(describe_build(build(settings, active_source(settings))))
    except WarehouseBuildError as exc:
        _fail(str(exc))


@airflow_app.command("up")
def airflow_up(
    port: Annotated[
        int, typer.Option(min=1, max=65535, metavar="PORT", help="API server / UI port.")
    ] = 8080,
    workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            metavar="N",
            help="Celery workers to start (CeleryExecutor only; default 2 there, 0 otherwise).",
        ),
    ] = None,
) -> None:
    """Start Airflow (api-server, scheduler, dag-processor, triggerer, workers); Ctrl-C stops."""
    from reelops.orchestration.cluster import check_workers
    from reelops.orchestration.local import serve_forever

    settings = get_settings()
    if workers is None:
        workers = 2 if settings.airflow_executor == "CeleryExecutor" else 0
    try:
        check_workers(settings, workers)
    except ValueError as exc:
        _fail(str(exc))
    serve_forever(settings, port, workers)


@airflow_app.command("check-ui")
def airflow_check_ui(
    url: Annotated[
        str, typer.Option(metavar="URL", help="The Airflow UI's address.")
    ] = "http://127.0.0.1:8080",
) -> None:
    """Open the DAG list and the evidence pages in headless Chromium; save screenshots."""
    from reelops.orchestration.ui_check import Page, UICheckError, check_pages

    pages = [
        Page("dag_list", "/dags", ("reelops_daily", "reelops_content")),
        Page("evidence", "/reelops/", ("ReelOps evidence",)),
    ]
    out = get_settings().home / "screenshots"
    try:
        shots = check_pages(url, pages, out)
    except UICheckError as exc:
        _fail(str(exc))
    for name, path in shots.items():
        typer.echo(f"{name:10} {path}")


@app.command("serve")
def serve(
    recommender_port: Annotated[
        int, typer.Option(min=1, max=65535, metavar="PORT", help="Port of /recommend.")
    ] = 3000,
    bitrate_port: Annotated[
        int, typer.Option(min=1, max=65535, metavar="PORT", help="Port of /bitrate.")
    ] = 3001,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=16,
            metavar="N",
            help="Worker processes per service (default REELOPS_SERVING_WORKERS, 1).",
        ),
    ] = None,
) -> None:
    """Serve /recommend and /bitrate (BentoML) with the production models; Ctrl-C stops."""
    from reelops.serving.local import serve_forever as serve_models

    settings = get_settings()
    if workers is not None:
        settings = settings.model_copy(update={"serving_workers": workers})
    ports = {"recommender": recommender_port, "bitrate": bitrate_port}
    serve_models(settings, ports)


@app.command()
def info() -> None:
    """Show the profile, where everything lives, and the active source."""
    from reelops.sources import SourceError, active_source, source_info

    settings = get_settings()
    typer.echo(f"profile      {settings.profile}")
    typer.echo(f"home         {settings.home}")
    typer.echo(f"airflow home {settings.airflow_home}")
    try:
        name = active_source(settings)
    except SourceError as exc:
        typer.echo(str(exc))
        return
    _print_source(source_info(settings, name))
    typer.echo(f"lake         {settings.lake_dir(name)}")
    typer.echo(f"marts        {settings.marts_dir(name)}")


if __name__ == "__main__":
    app()
