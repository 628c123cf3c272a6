"""The Content Genome: a per-title vector of named tags, each in 0..1, and titles alike.

Tags come from the Script Analyzer (pace, tone, themes, dialogue, arc shape, character
growth, ensemble) and, where the catalogue knows the title, its genres (the genre
blend: one ``blend_<genre>`` tag per genre, shares summing to 1). Densities are
squashed into 0..1 as ``x / (x + half)``, where ``half`` is the value that maps to
0.5, so tags stay comparable across titles and monotone in what they measure.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from reelops.config import Settings
from reelops.content.analyze import Analysis, analyze
from reelops.content.arc import SHAPES
from reelops.content.store import load_script, scripts_dir, stored_titles
from reelops.features.transforms import genre_slug
from reelops.lake import write_partition
from reelops.schema import DERIVED_TABLES
from reelops.sources import SourceError, active_source, read_source_table

LAKE_TABLE = "title_genome"

# feature -> value that maps to 0.5
_SQUASH = {
    "pace_index": 2.0,
    "turns_per_100_words": 3.0,
    "theme_death": 3.0,
    "theme_violence": 3.0,
    "theme_war_power": 5.0,
    "theme_love": 5.0,
    "theme_mirth": 2.0,
}
TAGS = [
    "pace",
    "tone_positive",
    "tone_dark",
    "dialogue_share",
    "dialogue_density",
    "romance",
    "mirth",
    "war_power",
    "character_growth",
    "ensemble",
    *[f"arc_{name.lower().replace(' ', '_')}" for name in SHAPES],
]


def _squash(value: float, half: float) -> float:
    return float(max(value, 0.0) / (max(value, 0.0) + half))


def character_growth(analysis: Analysis, top: int = 3) -> float:
    """How far the leading characters' tone moves from their first to their last third.

    The mean absolute change of VADER sentiment between the first and last third of
    each of the ``top`` characters' speeches, halved into 0..1.
    """
    lines = analysis.script.lines
    changes = []
    for name in analysis.characters["character"].head(top):
        own = np.array(
            [s for s, ln in zip(analysis.line_sentiment, lines, strict=True) if ln.speaker == name]
        )
        if len(own) >= 6:
            third = len(own) // 3
            changes.append(abs(own[-third:].mean() - own[:third].mean()))
    return float(np.mean(changes) / 2) if changes else 0.0


def genome(analysis: Analysis, genres: list[str] | None = None) -> dict[str, float | str]:
    """The genome of one analyzed title: ``title_id``, ``arc_shape`` and every tag."""
    f = analysis.features
    tags: dict[str, float | str] = {
        "title_id": analysis.script.title_id,
        "arc_shape": analysis.arc.shape,
        "pace": _squash(f["pace_index"], _SQUASH["pace_index"]),
        "tone_positive": (f["sentiment_mean"] + 1) / 2,
        "tone_dark": _squash(f["theme_death"] + f["theme_violence"], 2 * _SQUASH["theme_death"]),
        "dialogue_share": f["dialogue_share"],
        "dialogue_density": _squash(f["turns_per_100_words"], _SQUASH["turns_per_100_words"]),
        "romance": _squash(f["theme_love"], _SQUASH["theme_love"]),
        "mirth": _squash(f["theme_mirth"], _SQUASH["theme_mirth"]),
        "war_power": _squash(f["theme_war_power"], _SQUASH["theme_war_power"]),
        "character_growth": character_growth(analysis),
        "ensemble": 1 - f["top_character_share"],
    }
    for name, fit in analysis.arc.fit.items():
        tags[f"arc_{name.lower().replace(' ', '_')}"] = max(fit, 0.0)
    return tags | genre_blend(genres)


def genre_blend(genres: list[str] | None) -> dict[str, float]:
    """One ``blend_<genre slug>`` tag per genre of the title, equal shares summing to 1."""
    return {f"blend_{genre_slug(g)}": 1 / len(genres) for g in genres or []}


def similar(genomes: pd.DataFrame, title_id: str, k: int = 5) -> pd.DataFrame:
    """The ``k`` titles whose genome is nearest ``title_id``'s (cosine over the tags).

    Raises:
        KeyError: ``title_id`` has no genome.
    """
    if title_id not in set(genomes["title_id"]):
        raise KeyError(f"no genome for title {title_id!r}; run `reelops genome build`")
    numeric = genomes.set_index("title_id").select_dtypes("number").fillna(0.0)
    # Centre each tag so similarity reflects how titles differ, not what all share.
    centred = numeric - numeric.mean()
    norms = np.linalg.norm(centred.to_numpy(), axis=1)
    norms[norms == 0] = 1.0
    unit = centred.to_numpy() / norms[:, None]
    scores = unit @ unit[numeric.index.get_loc(title_id)]
    out = pd.DataFrame({"title_id": numeric.index, "similarity": scores})
    out = out[out["title_id"] != title_id]
    return out.sort_values("similarity", ascending=False, ignore_index=True).head(k)


def genome_path(settings) -> Path:
    return scripts_dir(settings) / "genome.parquet"


def _catalogue_genres(settings) -> dict[str, list[str]]:
    """Genres of the active source's titles, or nothing when there is no source yet."""
    try:
        titles = read_source_table(settings, active_source(settings), "titles").to_pandas()
    except (SourceError, FileNotFoundError, OSError):
        return {}
    return {
        str(t): [g for g in str(genres).split("|") if g and g != "unknown"]
        for t, genres in zip(titles["title_id"], titles["genres"], strict=True)
    }


FLAG_COLUMNS = ("contradictions", "unpaid_setups", "dragging_scenes")


def analyses_path(settings: Settings) -> Path:
    return scripts_dir(settings) / "analyses.parquet"


def _write_atomic(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)


def analyze_scripts(settings: Settings) -> pd.DataFrame:
    """Analyze every imported script; write and return one row per title.

    A row holds the script's own genome tags (no catalogue genres yet) and how many
    flags the analyzer raised (:data:`FLAG_COLUMNS`), in ``scripts/analyses.parquet``.

    Raises:
        FileNotFoundError: no script was imported.
    """
    titles = stored_titles(settings)
    if not titles:
        raise FileNotFoundError("no scripts imported; run `reelops import scripts DIR` first")
    rows = []
    for title_id in titles:
        analysis = analyze(load_script(settings, title_id))
        row = genome(analysis)
        row["contradictions"] = len(analysis.contradictions)
        row["unpaid_setups"] = len(analysis.unpaid_setups)
        row["dragging_scenes"] = int(analysis.scenes["drags"].sum())
        rows.append(row)
    frame = pd.DataFrame(rows)
    _write_atomic(frame, analyses_path(settings))
    return frame


def genomes_from_analyses(settings: Settings, analyses: pd.DataFrame | None = None) -> pd.DataFrame:
    """Genomes from the analyses (default: the stored ones) plus the catalogue's genre blend.

    Written to ``scripts/genome.parquet``.

    Raises:
        FileNotFoundError: no analyses are stored (naming the command that makes them).
    """
    if analyses is None:
        path = analyses_path(settings)
        if not path.is_file():
            raise FileNotFoundError(f"no analyses at {path}; run `reelops genome build`")
        analyses = pd.read_parquet(path)
    genres = _catalogue_genres(settings)
    frame = analyses.drop(columns=[c for c in FLAG_COLUMNS if c in analyses.columns])
    blends = pd.DataFrame(
        [genre_blend(genres.get(t)) for t in frame["title_id"]], index=frame.index
    )
    frame = pd.concat([frame, blends], axis=1)
    _write_atomic(frame, genome_path(settings))
    return frame


def build_genomes(settings: Settings) -> pd.DataFrame:
    """Analyze every imported script and write the genomes to ``scripts/genome.parquet``.

    Raises:
        FileNotFoundError: no script was imported.
    """
    return genomes_from_analyses(settings, analyze_scripts(settings))


def genome_long(genomes: pd.DataFrame, built_at: datetime) -> pa.Table:
    """The genomes as the lake holds them: one row per title and tag that has a value."""
    tags = genomes.drop(columns=["title_id", "arc_shape"])
    long = (
        genomes[["title_id", "arc_shape"]]
        .join(tags)
        .melt(id_vars=["title_id", "arc_shape"], var_name="tag", value_name="value")
    )
    long = long.dropna(subset=["value"]).sort_values(["title_id", "tag"], ignore_index=True)
    long["built_at"] = pd.Timestamp(built_at).tz_localize(None)
    return pa.Table.from_pandas(
        long, schema=DERIVED_TABLES[LAKE_TABLE].schema, preserve_index=False
    )


def publish_genomes(
    settings: Settings, source: str, genomes: pd.DataFrame, built_at: datetime | None = None
) -> Path:
    """Write ``genomes`` into ``source``'s lake as the day's ``title_genome`` snapshot.

    dbt's ``dim_title_genome`` reads the latest snapshot. ``built_at`` (naive UTC,
    default now) dates the partition; a second build on one day replaces the first.
    """
    built_at = built_at or datetime.now(UTC).replace(tzinfo=None)
    table = genome_long(genomes, built_at)
    return write_partition(settings.lake_dir(source), LAKE_TABLE, built_at.date(), table)


def read_genomes(settings) -> pd.DataFrame:
    """The genomes :func:`build_genomes` wrote.

    Raises:
        FileNotFoundError: none built yet (naming the command that builds them).
    """
    path = genome_path(settings)
    if not path.is_file():
        raise FileNotFoundError(f"no genomes at {path}; run `reelops genome build`")
    return pd.read_parquet(path)
