"""The genome in the warehouse and the feature store: dim_title_genome and title_genome."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from reelops.config import get_settings
from reelops.content.genome import TAGS, build_genomes, publish_genomes
from reelops.content.store import import_scripts
from reelops.content.world_scripts import write_source_scripts
from reelops.features.transforms import GENRE_SLUGS, genre_slug

START, END = datetime(2026, 1, 1), datetime(2026, 1, 3)
BLENDS = [f"blend_{slug}" for slug in GENRE_SLUGS if slug != "unknown"]


@pytest.fixture(scope="module")
def genome_world(tmp_path_factory):
    """A tiny world landed, its scripts imported, genomes built into its lake, dbt built."""
    from reelops.ingest import land_interval
    from reelops.warehouse import build
    from reelops.world.generator import WorldConfig
    from reelops.world.synthetic_source import generate_source

    patch = pytest.MonkeyPatch()
    patch.setenv("REELOPS_HOME", str(tmp_path_factory.mktemp("genome") / "home"))
    patch.setenv("REELOPS_PROFILE", "local")
    patch.delenv("REELOPS_PSEUDONYM_KEY", raising=False)
    get_settings.cache_clear()
    try:
        settings = get_settings()
        generate_source(settings, WorldConfig.tiny(days=2))
        land_interval(settings, "world", START, END)
        import_scripts(settings, write_source_scripts(settings, "world", sentences=300).folder)
        genomes = build_genomes(settings)
        publish_genomes(settings, "world", genomes)
        build(settings, "world")
        yield settings, genomes
    finally:
        patch.undo()
        get_settings.cache_clear()


def test_the_mart_has_one_row_per_title_with_bounded_named_tags(genome_world):
    from reelops.sources import read_source_table
    from reelops.warehouse import read_mart

    settings, genomes = genome_world
    mart = read_mart(settings, "world", "dim_title_genome")
    titles = read_source_table(settings, "world", "titles").to_pandas()
    assert sorted(mart["title_id"]) == sorted(titles["title_id"])  # one row per title
    assert mart["in_catalogue"].all()
    tags = mart[TAGS + BLENDS].to_numpy(dtype=float)
    assert ((tags >= 0) & (tags <= 1)).all() and not np.isnan(tags).any()
    np.testing.assert_allclose(mart[BLENDS].sum(axis=1), 1.0)  # every title has a genre
    row = mart.set_index("title_id").loc[titles["title_id"].iloc[0]]
    genre = titles["genres"].iloc[0].split("|")[0]
    assert row[f"blend_{genre_slug(genre)}"] > 0
    expected = genomes.set_index("title_id").loc[row.name]
    assert row["arc_shape"] == expected["arc_shape"]
    np.testing.assert_allclose(row[TAGS].to_numpy(float), expected[TAGS].to_numpy(float))


def test_the_feature_view_serves_a_titles_genome_after_materialize(genome_world):
    from reelops.features.materialize import materialize
    from reelops.features.store import open_store
    from reelops.warehouse import read_mart

    settings, _ = genome_world
    repo = open_store(settings, "world")
    result = materialize(settings, end=END, repo=repo, views=["title_genome"])
    assert [v.mode for v in result.views] == ["full"]
    mart = read_mart(settings, "world", "dim_title_genome").head(3)
    online = repo.store.get_online_features(
        features=[f"title_genome:{c}" for c in ("arc_shape", "pace", "tone_dark", *BLENDS)],
        entity_rows=[{"title_id": t} for t in mart["title_id"]],
    ).to_dict()
    assert online["arc_shape"] == mart["arc_shape"].tolist()
    np.testing.assert_allclose(online["pace"], mart["pace"].to_numpy(float))
    np.testing.assert_allclose(online["tone_dark"], mart["tone_dark"].to_numpy(float))
    unknown = repo.store.get_online_features(
        features=["title_genome:pace"], entity_rows=[{"title_id": "no-such-title"}]
    ).to_dict()
    assert unknown["pace"] == [None]


def test_ranker_v2_joins_the_genome_to_labels_of_any_time(genome_world):
    import pandas as pd

    from reelops.features.store import open_store
    from reelops.features.training import build_training_set
    from reelops.warehouse import read_mart

    settings, _ = genome_world
    repo = open_store(settings, "world")
    member = read_mart(settings, "world", "dim_members")["member_key"].iloc[0]
    mart = read_mart(settings, "world", "dim_title_genome").set_index("title_id")
    titles = list(mart.index[:4])
    labels = pd.DataFrame(
        {"member_key": member, "title_id": titles, "event_timestamp": datetime(2026, 1, 2)}
    )
    joined = build_training_set(settings, labels, "ranker_v2", repo=repo)
    v1 = build_training_set(settings, labels, "ranker_v1", repo=repo)
    genome_columns = [c for c in joined.columns if c.startswith("title_genome__")]
    assert set(joined.columns) - set(v1.columns) == set(genome_columns)
    assert len(genome_columns) == len(TAGS) + len(BLENDS)  # every numeric tag, no arc name
    np.testing.assert_allclose(
        joined["title_genome__pace"].to_numpy(float), mart.loc[titles, "pace"].to_numpy(float)
    )
