"""`reelops artwork`: the artwork bandit judged off-policy on a source's log and on real data."""

from __future__ import annotations

from typing import Annotated

import typer

from reelops.cli.console import fail
from reelops.config import get_settings

app = typer.Typer(
    help="Personalised artwork: a contextual bandit judged off-policy.", no_args_is_help=True
)


def _line(name: str, estimates: dict) -> str:
    parts = [f"{k} {e.value:.4f} [{e.low:.4f}, {e.high:.4f}]" for k, e in estimates.items()]
    return f"  {name:<26} " + "  ".join(parts)


@app.command("evaluate")
def evaluate_command(
    source: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Data source (default: the active one)."),
    ] = None,
) -> None:
    """Train the artwork policy on a source's log and estimate it beside the baselines.

    The log's days in thirds: taste, training impressions, evaluation impressions.
    """
    from reelops.artwork.experiment import BEST_SINGLE, TABLES, UNIFORM, run_experiment
    from reelops.artwork.policy import load_artwork_spec
    from reelops.sources import SourceError, active_source, read_source_table
    from reelops.specs import SpecError

    settings = get_settings()
    try:
        name = source or active_source(settings)
        tables = {t: read_source_table(settings, name, t).to_pandas() for t in TABLES}
        spec = load_artwork_spec()
    except (SourceError, SpecError, FileNotFoundError) as error:
        fail(str(error))
    if tables["impressions"].empty:
        typer.echo(f"source {name!r} has no impressions: nothing to evaluate")
        raise typer.Exit(code=2)
    try:
        exp = run_experiment(tables, spec)
    except ValueError as error:
        fail(str(error))
    typer.echo(
        f"artwork policy ({spec.exploration.rule}, epsilon {spec.exploration.epsilon}) on "
        f"{name!r}: trained on {len(exp.train.impressions):,} impressions from "
        f"{exp.history:%Y-%m-%d}, judged on {len(exp.test.impressions):,} from {exp.cut:%Y-%m-%d}"
    )
    typer.echo(f"  reward: a play reaching {spec.good_play_completion:.0%} completion")
    for policy, report in exp.reports().items():
        typer.echo(_line(policy, report.estimates))
    for other in (UNIFORM, BEST_SINGLE):
        diff, low, high = exp.uplift(other)
        typer.echo(f"  learned - {other}: DR {diff:+.4f} [{low:+.4f}, {high:+.4f}]")
    for column in ("country", "age_band"):
        worst = min(exp.segment_uplift(tables["members"], column).items(), key=lambda x: x[1][1])
        label, (diff, low, high) = worst
        typer.echo(
            f"  worst {column} vs logging: {label} DR {diff:+.4f} [{low:+.4f}, {high:+.4f}]"
            + ("  (worse off)" if high < 0 else "")
        )


@app.command("open-bandit")
def open_bandit_command(
    campaign: Annotated[
        str, typer.Option(metavar="all|men|women", help="Open Bandit campaign.")
    ] = "all",
) -> None:
    """Bernoulli TS valued from the Random log of the Open Bandit sample (Saito et al. 2021)."""
    from reelops.artwork.open_bandit import PUBLISHED_RELATIVE_IPS, evaluate_bts
    from reelops.datasets import datasets_dir
    from reelops.datasets.open_bandit import CAMPAIGNS, NAME

    if campaign not in CAMPAIGNS:
        fail(f"campaign must be one of {CAMPAIGNS}, got {campaign!r}")
    try:
        result = evaluate_bts(datasets_dir(get_settings()) / NAME, campaign)
    except FileNotFoundError as error:
        fail(str(error))
    typer.echo(f"Bernoulli TS from the Random log, campaign {campaign!r} ({result.rows:,} rows)")
    for name, e in result.estimates.items():
        typer.echo(
            f"  {name:<6} {e.value:.5f} [{e.low:.5f}, {e.high:.5f}]  relative to Random "
            f"{result.relative(name):.7f}"
        )
    typer.echo(f"  on-policy truth (mean click of the BTS log): {result.on_policy_truth:.5f}")
    if campaign == "all":
        typer.echo(f"  obp README's published relative IPS: {PUBLISHED_RELATIVE_IPS}")
