"""The content DAG end to end through Airflow (in-process) on a tiny world's scripts."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime

import pytest

from reelops.config import Settings
from reelops.content.store import import_scripts
from reelops.content.world_scripts import write_source_scripts
from reelops.ingest import land_interval
from reelops.world.generator import WorldConfig
from reelops.world.synthetic_source import generate_source


@pytest.mark.slow
def test_content_dag_analyzes_builds_the_mart_and_serves_the_genome(tmp_path):
    from reelops.features.store import open_store
    from reelops.sources import read_source_table
    from reelops.warehouse import read_mart

    settings = Settings(home=tmp_path / "home")
    generate_source(settings, WorldConfig.tiny(days=2))
    land_interval(settings, "world", datetime(2026, 1, 1), datetime(2026, 1, 3))
    import_scripts(settings, write_source_scripts(settings, "world", sentences=300).folder)
    env = {**os.environ, "REELOPS_HOME": str(settings.home)}
    done = subprocess.run(
        [sys.executable, "-m", "reelops.cli", "pipeline", "content"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    tasks = {
        line.split()[0]: line.split()[1] for line in done.stdout.splitlines() if line[:2] == "  "
    }
    assert tasks == dict.fromkeys(
        ["analyze", "genome", "build_warehouse", "materialize_genome"], "success"
    )
    assert "reelops_content: success" in done.stdout

    titles = read_source_table(settings, "world", "titles").column("title_id").to_pylist()
    mart = read_mart(settings, "world", "dim_title_genome")
    assert sorted(mart["title_id"]) == sorted(titles)
    repo = open_store(settings, "world", apply=False)
    online = repo.store.get_online_features(
        features=["title_genome:pace", "title_genome:arc_shape"],
        entity_rows=[{"title_id": titles[0]}],
    ).to_dict()
    row = mart.set_index("title_id").loc[titles[0]]
    assert online["arc_shape"] == [row["arc_shape"]]
    assert online["pace"][0] == pytest.approx(row["pace"])
