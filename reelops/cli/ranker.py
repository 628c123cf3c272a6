"""`reelops ranker`: train through Airflow, evaluate a version, batch recommendations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from reelops.cli.console import RegistryVersion, Verbose
from reelops.cli.console import fail as _fail
from reelops.config import get_settings

app = typer.Typer(
    help="The recommendation ranker: train, evaluate, recommend.", no_args_is_help=True
)


@app.command("train")
def train_command(
    verbose: Verbose = False,
) -> None:
    """Run the reelops_ranker DAG: train, evaluate, gates, approval, promotion.

    On the running Airflow (`reelops airflow up`) if there is one, else in-process.
    """
    from reelops.orchestration.training import run_training_dag
    from reelops.quality.release import ReleaseError, release_summary
    from reelops.ranking.train import run_dir

    settings = get_settings()
    try:
        result = run_training_dag(settings, "ranker", verbose=verbose)
    except ReleaseError as error:
        _fail(str(error))
    workdir = run_dir(settings, result.run_id)
    report = (workdir / "report.txt").read_text()
    saved = json.loads((workdir / "candidate.json").read_text())
    summary = release_summary(settings, "ranker", saved["version"])
    if not verbose:  # the headline: the hold-out and the table beside the baselines
        report = "\n\n".join(report.split("\n\n")[:2])
        report += f"\n(full report: {workdir / 'report.txt'})"
        verdict = summary.splitlines()[0]
        if "gates passed" in verdict:  # failed gates: the whole table says why
            summary = f"{verdict}\n(gate table: reelops models show ranker {saved['version']})"
    typer.echo(report)
    typer.echo(f"trained ranker version {saved['version']} (work folder {workdir})")
    typer.echo(summary)


@app.command("evaluate")
def evaluate_command(
    version: RegistryVersion = None,
    out: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write the JSON report here.")
    ] = None,
    holdout: Annotated[
        Literal["per_member", "global"] | None,
        typer.Option(help="The hold-out (default: the one the version was judged on)."),
    ] = None,
) -> None:
    """Evaluate a ranker version's judged model beside the baselines on a hold-out."""
    from reelops.ranking.evidence import evaluate_version
    from reelops.ranking.recommend import RecommendError, resolve_version

    settings = get_settings()
    try:
        version, stage = resolve_version(settings, version)
        report = evaluate_version(settings, version, holdout)
    except (RecommendError, FileNotFoundError, ValueError) as error:
        _fail(str(error))
    typer.echo(f"ranker {version} ({stage})")
    typer.echo(report.table())
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report.to_dict(), indent=2, default=str))
        typer.echo(f"report written to {out}")


@app.command("recommend")
def recommend_command(
    out: Annotated[Path, typer.Option(metavar="FILE", help="Output file, .csv or .parquet.")],
    members: Annotated[
        str, typer.Option(metavar="all|ID,ID,...", help="'all' or comma-separated member ids.")
    ] = "all",
    k: Annotated[int, typer.Option(min=1, max=1000, metavar="N", help="Titles per member.")] = 10,
    version: RegistryVersion = None,
) -> None:
    """Top-k unwatched titles per member from the trained ranker."""
    from reelops.ranking.recommend import (
        RecommendError,
        batch_recommendations,
        write_recommendations,
    )

    if out.suffix not in (".csv", ".parquet"):
        _fail(f"--out must end in .csv or .parquet, got {out.name!r}")
    settings = get_settings()
    try:
        frame, version, stage = batch_recommendations(settings, members, k, version)
    except (RecommendError, FileNotFoundError) as error:
        _fail(str(error))
    write_recommendations(frame, out)
    typer.echo(
        f"ranker {version} ({stage}): {frame['member_id'].nunique()} members x top {k} "
        f"-> {out} ({len(frame)} rows)"
    )
