"""The `reelops artwork` commands: the bandit judged off-policy on a source's log and on real
logged data; variants rendered as PNG files; two members' home rows in one picture."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reelops.cli.console import Verbose, fail
from reelops.config import get_settings

artwork_app = typer.Typer(
    help="Personalized artwork: the bandit judged off-policy; rendered variants; home rows.",
    no_args_is_help=True,
)

SourceOption = Annotated[
    str | None,
    typer.Option(metavar="SOURCE", help="Source name (default: the active source)."),
]


def _source(source: str | None) -> str:
    from reelops.sources import SourceError, active_source

    try:
        return source or active_source(get_settings())
    except SourceError as exc:
        fail(str(exc))


def _catalogue(source: str):
    from reelops.artwork.catalogue import ArtworkCatalogue

    try:
        return ArtworkCatalogue.load(get_settings(), source)
    except FileNotFoundError:
        fail(f"source {source!r} has no artwork catalogue yet: run `reelops pipeline run` first")


@artwork_app.command("render")
def render_cmd(
    title: Annotated[
        str, typer.Option(metavar="TITLE_ID", help="The title whose artwork to render.")
    ],
    out: Annotated[Path, typer.Option(metavar="DIR", help="Folder the PNG files are written to.")],
    variant: Annotated[
        list[str] | None,
        typer.Option(metavar="VARIANT_ID", help="Only this variant (repeatable; default: all)."),
    ] = None,
    source: SourceOption = None,
) -> None:
    """Render a title's artwork variants as PNG files, `<variant_id>.png` in DIR."""
    from reelops.artwork.catalogue import ArtworkNotFound
    from reelops.artwork.render import render_png

    catalogue = _catalogue(_source(source))
    try:
        specs = (
            [catalogue.spec(title, v) for v in variant] if variant else catalogue.variants(title)
        )
    except ArtworkNotFound as exc:
        wrong = title if exc.field == "title_id" else ", ".join(variant or [])
        fail(f"{exc.field} {wrong!r}: {exc}")
    out.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        path = out / f"{spec.variant_id}.png"
        path.write_bytes(render_png(spec))
        typer.echo(f"{path}  {spec.theme}  {spec.title_name}")


@artwork_app.command("home")
def home_cmd(
    out: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="PNG to write (default: the reports folder)."),
    ] = None,
    source: SourceOption = None,
) -> None:
    """Draw two members with different tastes, their home row with the artwork each sees."""
    from reelops.artwork.home_picture import write_two_members_picture

    settings = get_settings()
    name = _source(source)
    path = out or settings.reports_dir / "artwork_two_members.png"
    _catalogue(name)  # a clear error before any drawing when nothing is built
    try:
        typer.echo(write_two_members_picture(settings, name, path))
    except ValueError as exc:
        fail(str(exc))


def _line(name: str, estimates: dict) -> str:
    parts = [f"{k} {e.value:.4f} [{e.low:.4f}, {e.high:.4f}]" for k, e in estimates.items()]
    return f"  {name:<26} " + "  ".join(parts)


@artwork_app.command("evaluate")
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


@artwork_app.command("train")
def train_command(verbose: Verbose = False) -> None:
    """Run the reelops_artwork DAG: train, judge off-policy, gates, approval, promotion.

    On the running Airflow (`reelops airflow up`) if there is one, else in-process.
    """
    from reelops.orchestration.training import run_training_dag
    from reelops.quality.release import ReleaseError, release_summary
    from reelops.registry import Registry

    settings = get_settings()
    try:
        run_training_dag(settings, "artwork", verbose=verbose)
    except ReleaseError as error:
        fail(str(error))
    newest = Registry(settings).list("artwork")[-1]
    m = newest.metrics
    typer.echo(
        f"artwork {newest.version}: good plays per impression {m['good_play_rate']:.4f} (DR) "
        f"on {m['holdout_impressions']:,.0f} hold-out impressions; minus uniform random "
        f"{m['uplift_vs_uniform_random']:+.4f} (CI low {m['uplift_vs_uniform_random_ci_low']:+.4f})"
    )
    summary = release_summary(settings, "artwork", newest.version)
    verdict = summary.splitlines()[0]
    if not verbose and "gates passed" in verdict:  # failed gates: the whole table says why
        summary = f"{verdict}\n(gate table: reelops models show artwork {newest.version})"
    typer.echo(summary)


@artwork_app.command("open-bandit")
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
