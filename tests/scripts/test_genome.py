"""The Content Genome: bounded named tags per imported title, and titles alike."""

from __future__ import annotations

from typer.testing import CliRunner

from reelops.cli import app
from reelops.content.genome import TAGS, read_genomes, similar

runner = CliRunner()


def test_genome_build_show_and_titles_alike(settings, fixtures_dir):
    assert runner.invoke(app, ["genome", "show", "night-shift"]).exit_code == 2  # none built
    assert runner.invoke(app, ["import", "scripts", str(fixtures_dir)]).exit_code == 0
    built = runner.invoke(app, ["genome", "build"])
    assert built.exit_code == 0 and "2 genomes written" in built.output
    genomes = read_genomes(settings)
    assert sorted(genomes["title_id"]) == ["night-shift", "the-quarrel"]
    tags = genomes[TAGS].to_numpy()
    assert ((tags >= 0) & (tags <= 1)).all()
    night = genomes.set_index("title_id").loc["night-shift"]
    assert night["arc_shape"] == "rags to riches" and night["arc_rags_to_riches"] > 0.5
    alike = similar(genomes, "night-shift", k=5)
    assert alike["title_id"].tolist() == ["the-quarrel"]

    shown = runner.invoke(app, ["genome", "show", "the-quarrel", "--like", "1"])
    assert shown.exit_code == 0, shown.output
    assert "the-quarrel: arc" in shown.output and "night-shift" in shown.output
    missing = runner.invoke(app, ["genome", "show", "nope"])
    assert missing.exit_code == 2 and "no genome for title 'nope'" in missing.output


def test_genome_similar_lists_titles_like_one(settings, fixtures_dir):
    assert runner.invoke(app, ["import", "scripts", str(fixtures_dir)]).exit_code == 0
    assert runner.invoke(app, ["genome", "build"]).exit_code == 0
    alike = runner.invoke(app, ["genome", "similar", "night-shift", "--top", "3"])
    assert alike.exit_code == 0, alike.output
    assert "titles like night-shift (rags to riches)" in alike.output
    assert "the-quarrel" in alike.output and "similarity" in alike.output
    missing = runner.invoke(app, ["genome", "similar", "nope"])
    assert missing.exit_code == 2 and "no genome for title 'nope'" in missing.output
