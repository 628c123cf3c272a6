"""`reelops script` and `reelops import scripts`: scripts as data, the Script Analyzer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reelops.cli.console import fail
from reelops.config import get_settings

SHOWN = 20  # scripts listed one per line by `import scripts`
script_app = typer.Typer(
    help="The Script Analyzer: scenes, characters, arc, pacing, flags.", no_args_is_help=True
)


def import_scripts_cmd(
    folder: Annotated[
        Path | None,
        typer.Argument(
            metavar="DIR",
            help="Folder of .fountain screenplays and .txt plays (one per title). "
            "Default: the active source's scripts (the synthetic world writes one per title).",
        ),
    ] = None,
) -> None:
    """Import scripts, one per title, all or nothing (problems named by file and line)."""
    from reelops.content.model import ScriptFormatError
    from reelops.content.store import import_scripts, scripts_dir
    from reelops.content.world_scripts import source_scripts_dir
    from reelops.sources import SourceError, active_source

    settings = get_settings()
    try:
        folder = folder or source_scripts_dir(settings, active_source(settings))
        scripts = import_scripts(settings, folder)
    except (ScriptFormatError, FileNotFoundError, SourceError) as exc:
        fail(f"nothing imported:\n{exc}")
    for script in scripts[:SHOWN] if len(scripts) > SHOWN + 1 else scripts:
        lines = len(script.lines)
        typer.echo(
            f"  {script.title_id:<28} {script.format:<9} {len(script.scenes):>4} scenes "
            f"{len(script.characters):>4} characters {lines:>6} lines"
        )
    if len(scripts) > SHOWN + 1:
        typer.echo(f"  ... and {len(scripts) - SHOWN} more")
    typer.echo(f"{len(scripts)} scripts imported into {scripts_dir(settings)}")
    from reelops.orchestration.content import announce_scripts

    try:
        announced = announce_scripts(settings, len(scripts))
    except RuntimeError as exc:
        fail(f"imported, but the running Airflow was not told: {exc}")
    typer.echo(announced or "next: reelops script analyze --title ID, or reelops pipeline content")


@script_app.command("list")
def list_cmd() -> None:
    """The titles with an imported script."""
    from reelops.content.store import stored_titles

    titles = stored_titles(get_settings())
    if not titles:
        fail("no scripts imported; run `reelops import scripts DIR`")
    for title in titles:
        typer.echo(title)


@script_app.command("analyze")
def analyze_cmd(
    file: Annotated[
        Path | None,
        typer.Argument(metavar="FILE", help="A .fountain screenplay or .txt play to analyze."),
    ] = None,
    title: Annotated[
        str | None,
        typer.Option("--title", metavar="ID", help="Analyze the imported script of this title."),
    ] = None,
) -> None:
    """Analyze a script: scenes, characters, arc, pacing, flags; writes an HTML report."""
    from reelops.content.analyze import analyze
    from reelops.content.model import ScriptFormatError
    from reelops.content.report import write_report
    from reelops.content.store import load_script, parse_script

    settings = get_settings()
    if (file is None) == (title is None):
        fail("give a FILE or --title ID (one of them)")
    try:
        script = load_script(settings, title) if title else parse_script(file)
    except (ScriptFormatError, FileNotFoundError) as exc:
        fail(str(exc))
    result = analyze(script)
    f = result.features
    typer.echo(
        f"{script.title} ({script.title_id}): {len(script.scenes)} scenes, "
        f"{len(result.characters)} characters, {int(f['words']):,} words"
    )
    top = ", ".join(result.characters["character"].head(5))
    typer.echo(f"  characters (most lines first): {top}")
    if len(result.interactions):
        a, b, n = result.interactions.iloc[0]
        typer.echo(f"  most exchanges: {a} and {b} ({n})")
    fit = result.arc.fit[result.arc.shape]
    typer.echo(f"  arc: {result.arc.shape} (r = {fit:.2f})")
    typer.echo(
        f"  pacing: {f['mean_scene_words']:.0f} words per scene, "
        f"dialogue {f['dialogue_share']:.0%},"
        f" {f['turns_per_100_words']:.1f} exchanges per 100 words"
    )
    for flag in result.contradictions:
        typer.echo(f"  contradiction: {flag.message}")
    for setup in result.unpaid_setups:
        typer.echo(f"  unpaid setup: {setup.word!r} (line {setup.line})")
    typer.echo("suggestions:")
    for note in result.suggestions:
        typer.echo(f"  - {note}")
    path = write_report(result, settings.reports_dir / "scripts" / f"{script.title_id}.html")
    typer.echo(f"report: {path.resolve().as_uri()}")


genome_app = typer.Typer(
    help="The Content Genome: named 0..1 tags per title and titles alike.", no_args_is_help=True
)


@genome_app.command("build")
def genome_build_cmd() -> None:
    """Analyze every imported script, store its genome and write it into the lake."""
    from reelops.content.genome import build_genomes, genome_path, publish_genomes
    from reelops.sources import SourceError, active_source

    settings = get_settings()
    try:
        frame = build_genomes(settings)
    except FileNotFoundError as exc:
        fail(str(exc))
    typer.echo(f"{len(frame)} genomes written to {genome_path(settings)}")
    try:
        source = active_source(settings)
    except SourceError:
        return  # no lake to write into yet
    partition = publish_genomes(settings, source, frame)
    typer.echo(f"  and into source {source!r}'s lake: {partition}")
    typer.echo("next: reelops warehouse build (dim_title_genome), reelops features materialize")


def _genomes_and_alike(title_id: str, k: int):
    """Every stored genome and the ``k`` titles most like ``title_id`` (exit 2 if none)."""
    from reelops.content.genome import read_genomes, similar

    try:
        genomes = read_genomes(get_settings())
        alike = similar(genomes, title_id, k)
    except (FileNotFoundError, KeyError) as exc:
        fail(str(exc).strip("'\""))
    return genomes, alike


@genome_app.command("show")
def genome_show_cmd(
    title_id: Annotated[str, typer.Argument(metavar="ID", help="The title.")],
    like: Annotated[
        int, typer.Option(min=0, metavar="N", help="How many similar titles to list.")
    ] = 5,
) -> None:
    """A title's genome tags and the titles most like it."""
    genomes, alike = _genomes_and_alike(title_id, like)
    row = genomes.set_index("title_id").loc[title_id]
    typer.echo(f"{title_id}: arc {row['arc_shape']}")
    for tag, value in row.drop("arc_shape").dropna().items():
        typer.echo(f"  {tag:<26} {value:.2f}  {'#' * round(20 * float(value))}")
    typer.echo("titles like this one:")
    for other in alike.itertuples():
        typer.echo(f"  {other.title_id:<28} similarity {other.similarity:+.2f}")


@genome_app.command("similar")
def genome_similar_cmd(
    title_id: Annotated[str, typer.Argument(metavar="ID", help="The title.")],
    top: Annotated[
        int, typer.Option("--top", min=1, metavar="N", help="How many titles to list.")
    ] = 10,
) -> None:
    """Titles like this one: the nearest genomes (cosine over the centred tags)."""
    genomes, alike = _genomes_and_alike(title_id, top)
    arcs = genomes.set_index("title_id")["arc_shape"]
    typer.echo(f"titles like {title_id} ({arcs[title_id]}):")
    for other in alike.itertuples():
        typer.echo(
            f"  {other.title_id:<28} similarity {other.similarity:+.2f}  {arcs[other.title_id]}"
        )
