"""The synthetic world's scripts: one per title with hidden truth, imported by default."""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr
from typer.testing import CliRunner

from reelops.cli import app
from reelops.content.analyze import analyze
from reelops.content.arc import SHAPES
from reelops.content.store import load_script, stored_titles
from reelops.content.world_scripts import source_scripts_dir, write_source_scripts
from reelops.sources import read_source_table, read_truth
from reelops.world.generator import WorldConfig
from reelops.world.synthetic_source import generate_source

runner = CliRunner()


def test_world_writes_a_script_per_title_with_truth_that_the_analyzer_recovers(settings):
    generate_source(settings, WorldConfig.tiny(days=2))
    titles = read_source_table(settings, "world", "titles").column("title_id").to_pylist()
    written = write_source_scripts(settings, "world", seed=7)
    folder = source_scripts_dir(settings, "world")
    assert sorted(p.stem for p in folder.glob("*.fountain")) == sorted(titles)
    truth = read_truth(settings, "world", "script_truth")
    assert sorted(truth["title_id"]) == sorted(titles) and written.scripts == len(titles)
    assert set(truth["arc_shape"]) <= set(SHAPES) and truth["pace"].between(0, 1).all()
    assert 0.2 < truth["contradiction_attribute"].notna().mean() < 0.8  # flaws in some only
    first = (folder / f"{titles[0]}.fountain").read_text()
    write_source_scripts(settings, "world", seed=7)
    assert (folder / f"{titles[0]}.fountain").read_text() == first  # seeded

    imported = runner.invoke(app, ["import", "scripts"])  # no DIR: the active source's
    assert imported.exit_code == 0, imported.output
    assert f"{len(titles)} scripts imported" in imported.output
    assert stored_titles(settings) == sorted(titles)

    by_title = truth.set_index("title_id")
    results = [analyze(load_script(settings, t)) for t in titles]
    shapes_ok = [r.arc.shape == by_title.loc[r.script.title_id, "arc_shape"] for r in results]
    assert np.mean(shapes_ok) >= 0.8
    paces = [by_title.loc[r.script.title_id, "pace"] for r in results]
    assert spearmanr(paces, [r.features["pace_index"] for r in results])[0] >= 0.8
    planted = by_title["contradiction_attribute"].dropna()
    found = {
        r.script.title_id
        for r in results
        if any(c.attribute == planted.get(r.script.title_id) for c in r.contradictions)
    }
    assert len(found & set(planted.index)) >= 0.9 * len(planted)
