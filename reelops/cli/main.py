"""The `reelops` command: a typed CLI over the package's functions."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from reelops.cli.bitrate import abr_app, bitrate_app
from reelops.cli.console import fail as _fail
from reelops.cli.ranker import app as ranker_app
from reelops.config import get_settings

app = typer.Typer(
    help="ReelOps: the MLOps platform of a video-streaming service.", no_args_is_help=True
)
world_app = typer.Typer(help="The synthetic streaming world.", no_args_is_help=True)
import_app = typer.Typer(
    help="Import real data (MovieLens, throughput traces).", no_args_is_help=True
)
pipeline_app = typer.Typer(help="Run the daily data DAG through Airflow.", no_args_is_help=True)
warehouse_app = typer.Typer(help="The dbt warehouse.", no_args_is_help=True)
airflow_app = typer.Typer(help="Airflow on the local profile.", no_args_is_help=True)
features_app = typer.Typer(
    help="The Feast feature store of the active source.", no_args_is_help=True
)
app.add_typer(world_app, name="world")
app.add_typer(import_app, name="import")
app.add_typer(pipeline_app, name="pipeline")
app.add_typer(warehouse_app, name="warehouse")
app.add_typer(airflow_app, name="airflow")
app.add_typer(features_app, name="features")
models_app = typer.Typer(help="The model registry: versions, stages, audit.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(ranker_app, name="ranker")
app.add_typer(bitrate_app, name="bitrate")
app.add_typer(abr_app, name="abr")


def _print_source(info) -> None:
    typer.echo(f"source {info.name!r} ({info.kind}) at {info.path}")
    typer.echo(f"  events from {info.first_ts} to {info.last_ts}")
    for table, rows in info.rows.items():
        typer.echo(f"  {table:<18} {rows:>10,} rows")


@world_app.command("generate")
def world_generate(
    size: Annotated[str, typer.Option(help="Preset: tiny, demo or large.")] = "demo",
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the preset's).")] = None,
    members: Annotated[int | None, typer.Option(min=1, help="Number of members.")] = None,
    titles: Annotated[int | None, typer.Option(min=1, help="Number of titles.")] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Days of activity.")] = None,
    start: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day of activity.")
    ] = None,
    traces: Annotated[
        Path | None, typer.Option(help="Folder of real throughput traces for playback sessions.")
    ] = None,
) -> None:
    """Generate a seeded synthetic world and make it the active source."""
    import dataclasses

    from reelops.abr.traces import TraceFormatError
    from reelops.world.generator import WorldConfig
    from reelops.world.synthetic_source import generate_source

    presets = {"tiny": WorldConfig.tiny, "demo": WorldConfig.demo, "large": WorldConfig.large}
    if size not in presets:
        _fail(f"--size must be one of {sorted(presets)}, got {size!r}")
    config = presets[size]()
    overrides = {
        "seed": seed,
        "n_members": members,
        "n_titles": titles,
        "days": days,
        "start": start.date() if start else None,
    }
    config = dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})
    try:
        info = generate_source(get_settings(), config, traces)
    except (TraceFormatError, FileNotFoundError) as exc:
        _fail(str(exc))
    _print_source(info)


@import_app.command("movielens")
def import_movielens_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder with u.data, u.item, u.user.")],
) -> None:
    """Import a MovieLens 100K folder as the active source (replaces no other source)."""
    from reelops.world.movielens import ImportFormatError, import_movielens

    try:
        info = import_movielens(get_settings(), folder)
    except ImportFormatError as exc:
        _fail(str(exc))
    _print_source(info)
    first = info.first_ts.date() if info.first_ts else None
    last = (info.last_ts.date() + timedelta(days=1)) if info.last_ts else None
    typer.echo(f"next: reelops pipeline run --start {first} --end {last}")


@import_app.command("traces")
def import_traces_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder of traces: `time_s Mbit/s` per line.")],
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


def _day(value: datetime) -> datetime:
    return datetime.combine(value.date(), datetime.min.time())


@pipeline_app.command("run")
def pipeline_run(
    start: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="First day (inclusive).")],
    end: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="Last day (exclusive).")],
    daily: Annotated[
        bool, typer.Option(help="One DAG run per day instead of one run for the interval.")
    ] = False,
) -> None:
    """Run the daily DAG in-process through Airflow over [START, END) as one run."""
    from reelops.orchestration.runs import run_dag

    start, end = _day(start), _day(end)
    if end <= start:
        _fail(f"--end {end.date()} must be after --start {start.date()}")
    intervals = [(start, end)]
    if daily:
        n = (end - start).days
        intervals = [(start + timedelta(days=i), start + timedelta(days=i + 1)) for i in range(n)]
    settings = get_settings()
    for a, b in intervals:
        conf = {"start": a.isoformat(), "end": b.isoformat()}
        result = run_dag(settings, "reelops_daily", conf=conf)
        typer.echo(f"reelops_daily [{a.date()}, {b.date()}): {result.state} {result.task_states}")
        if not result.ok:
            _fail(f"DAG run {result.run_id} ended {result.state}; see the task logs above")


@warehouse_app.command("build")
def warehouse_build() -> None:
    """Run `dbt build` over the active source's lake, without Airflow."""
    from reelops.sources import active_source
    from reelops.warehouse import WarehouseBuildError, build, describe_build

    settings = get_settings()
    try:
        typer.echo(describe_build(build(settings, active_source(settings))))
    except WarehouseBuildError as exc:
        _fail(str(exc))


@airflow_app.command("up")
def airflow_up(
    port: Annotated[int, typer.Option(min=1, max=65535, help="API server / UI port.")] = 8080,
) -> None:
    """Start Airflow (api-server, scheduler, dag-processor, triggerer); Ctrl-C stops all."""
    from reelops.orchestration.local import serve_forever

    serve_forever(get_settings(), port)


@app.command("serve")
def serve(
    recommender_port: Annotated[int, typer.Option(min=1, max=65535)] = 3000,
    bitrate_port: Annotated[int, typer.Option(min=1, max=65535)] = 3001,
) -> None:
    """Serve /recommend and /bitrate (BentoML) with the production models; Ctrl-C stops."""
    from reelops.serving.local import serve_forever as serve_models

    ports = {"recommender": recommender_port, "bitrate": bitrate_port}
    serve_models(get_settings(), ports)


@features_app.command("apply")
def features_apply() -> None:
    """Register the feature definitions in Feast's registry if they changed."""
    from reelops.features.store import FeatureStoreError, apply_if_changed, open_store

    try:
        repo = open_store(get_settings(), apply=False)
        applied = apply_if_changed(repo)
    except FeatureStoreError as exc:
        _fail(str(exc))
    state = "applied" if applied else "already current, nothing to apply"
    typer.echo(f"feature definitions of project {repo.project} ({repo.settings.profile}): {state}")


@features_app.command("materialize")
def features_materialize(
    start: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="Interval start.")],
    end: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], help="Interval end (exclusive day).")
    ],
) -> None:
    """Materialize every online view up to END, as the daily DAG does for [START, END)."""
    from reelops.features.materialize import describe_materialization, materialize
    from reelops.features.store import FeatureStoreError

    start, end = _day(start), _day(end)
    if end <= start:
        _fail(f"--end {end.date()} must be after --start {start.date()}")
    try:
        result = materialize(get_settings(), start=start, end=end)
    except FeatureStoreError as exc:
        _fail(str(exc))
    typer.echo(describe_materialization(result))


def _print_entity(title: str, entity) -> None:
    typer.echo(title)
    for view, at in entity.event_times.items():
        typer.echo(f"  {view}: row of {at}" if at else f"  {view}: no row")
    for name, value in entity.values.items():
        state = entity.status[name]
        shown = value if state == "present" else f"<{state}>"
        typer.echo(f"    {name:<48} {shown}")


@features_app.command("get")
def features_get(
    member: Annotated[str, typer.Option(help="Raw member id as in the source, e.g. m000042.")],
    network: Annotated[
        str | None,
        typer.Option(help="Network context COUNTRY:CONNECTION (default: the member's own)."),
    ] = None,
    title: Annotated[
        list[str] | None, typer.Option(help="A candidate title id (repeatable).")
    ] = None,
    at: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"],
            help="Request time for staleness (default: the online store's latest watermark).",
        ),
    ] = None,
) -> None:
    """Show a member's online features (and a network context's, and titles'), stale ones marked."""
    from reelops.features.online import member_lookup
    from reelops.features.store import FeatureStoreError

    try:
        result = member_lookup(get_settings(), member, network=network, titles=title or [], at=at)
    except (FeatureStoreError, LookupError) as exc:
        _fail(str(exc))
    typer.echo(
        f"online features at {result.request_time} (values older than their view's ttl "
        f"are shown as <stale>, absent ones as <missing>)"
    )
    _print_entity(f"member (key {result.member.key})", result.member)
    if result.network is not None:
        _print_entity(f"network {result.network.key}", result.network)
    for row, status in zip(
        result.titles.to_dict("records"), result.title_status.to_dict("records"), strict=True
    ):
        typer.echo(f"title {row['title_id']}")
        for name, value in row.items():
            if name != "title_id":
                shown = value if status[name] == "present" else f"<{status[name]}>"
                typer.echo(f"    {name:<48} {shown}")
    typer.echo(f"lookup took {result.seconds * 1000:.1f} ms")


@features_app.command("describe")
def features_describe() -> None:
    """List entities, feature views, on-demand views, services, and each view's freshness."""
    from reelops.features.describe import describe_store, format_description
    from reelops.features.store import FeatureStoreError

    try:
        typer.echo(format_description(describe_store(get_settings())))
    except FeatureStoreError as exc:
        _fail(str(exc))


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


def _registry():
    from reelops.registry import Registry

    return Registry(get_settings())


def _registry_call(action):
    from reelops.registry import RegistryError

    try:
        return action()
    except RegistryError as exc:
        _fail(str(exc))


@models_app.command("list")
def models_list(
    name: Annotated[str | None, typer.Argument(help="Only this model (e.g. ranker).")] = None,
) -> None:
    """List model versions with their stage and headline metrics."""
    versions = _registry().list(name)
    if not versions:
        typer.echo("no model versions yet")
    for v in versions:
        metrics = ", ".join(
            f"{k}={val:.4g}"
            for k, val in list(v.metrics.items())[:3]
            if isinstance(val, (int, float))
        )
        typer.echo(f"{v.tag:<40} {v.stage:<10} {v.created_at}  {metrics}")


@models_app.command("show")
def models_show(
    name: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[str, typer.Argument(help="Version (see `reelops models list`).")],
) -> None:
    """Show one version: stage, metrics, gates, reports, lineage and its audit trail."""
    import json

    registry = _registry()
    v = _registry_call(lambda: registry.get(name, version))
    from reelops.quality.release import gate_table

    typer.echo(f"{v.tag}  stage={v.stage}  created {v.created_at}")
    typer.echo("metrics:")
    typer.echo(json.dumps(v.metrics, indent=2, default=str))
    table = gate_table(v)
    if table is None:
        typer.echo("gates: not run yet")
    else:
        verdict = "PASSED" if v.gates.get("passed") else "FAILED"
        champion = v.gates.get("champion_version") or "none (first model)"
        typer.echo(f"gates: {verdict} (champion {champion}, approval {v.gates.get('approval')})")
        typer.echo(table)
    typer.echo("reports:" + ("" if v.reports else " none"))
    for report, path in v.reports.items():
        typer.echo(f"  {report}: {path}")
    typer.echo("lineage:")
    typer.echo(json.dumps(v.lineage, indent=2, default=str))
    typer.echo("audit:")
    for e in registry.audit_log(name):
        if version in (e.from_version, e.to_version):
            typer.echo(
                f"  {e.at} {e.actor} {e.action} {e.from_version} -> {e.to_version}: {e.reason}"
            )


@models_app.command("promote")
def models_promote(
    name: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[str, typer.Argument(help="Version to put in production.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit log).")],
) -> None:
    """Make a version the production one (the previous production version is retired)."""
    registry = _registry()
    v = _registry_call(lambda: registry.promote(name, version, reason=reason))
    typer.echo(f"{v.tag} is now in production")


@models_app.command("reject")
def models_reject(
    name: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[str, typer.Argument(help="Version to reject.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit log).")],
) -> None:
    """Reject a candidate or approved version; it can never be promoted."""
    import getpass

    registry = _registry()
    v = _registry_call(
        lambda: registry.reject(name, version, actor=getpass.getuser(), reason=reason)
    )
    typer.echo(f"{v.tag} rejected")


@models_app.command("rollback")
def models_rollback(
    name: Annotated[str, typer.Argument(help="Model name.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit log).")],
) -> None:
    """Put back the version that served before the current production version."""
    registry = _registry()
    v = _registry_call(lambda: registry.rollback(name, reason=reason))
    typer.echo(f"rolled back: {v.tag} is in production again")


if __name__ == "__main__":
    app()
