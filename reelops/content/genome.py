"""The Content Genome: a per-title vector of named tags, each in 0..1, and titles alike.

Tags come from the Script Analyzer (pace, tone, themes, dialogue, arc shape, character
growth, ensemble) and, where the catalogue knows the title, its genres (the genre
blend: one tag per genre, shares summing to 1). Densities are squashed into 0..1 as
``x / (x + half)``, where ``half`` is the value that maps to 0.5, so tags stay
comparable across titles and monotone in what they measure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reelops.content.analyze import Analysis, analyze
from reelops.content.arc import SHAPES
from reelops.content.store import load_script, scripts_dir, stored_titles
from reelops.sources import SourceError, active_source, read_source_table

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
    for genre in genres or []:
        tags[f"genre_{genre.lower()}"] = 1 / len(genres)
    return tags


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


def build_genomes(settings) -> pd.DataFrame:
    """Analyze every imported script and write the genomes to ``scripts/genome.parquet``.

    Raises:
        FileNotFoundError: no script was imported.
    """
    titles = stored_titles(settings)
    if not titles:
        raise FileNotFoundError("no scripts imported; run `reelops import scripts DIR` first")
    genres = _catalogue_genres(settings)
    rows = [genome(analyze(load_script(settings, t)), genres.get(t)) for t in titles]
    frame = pd.DataFrame(rows)
    path = genome_path(settings)
    tmp = path.with_suffix(".tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)
    return frame


def read_genomes(settings) -> pd.DataFrame:
    """The genomes :func:`build_genomes` wrote.

    Raises:
        FileNotFoundError: none built yet (naming the command that builds them).
    """
    path = genome_path(settings)
    if not path.is_file():
        raise FileNotFoundError(f"no genomes at {path}; run `reelops genome build`")
    return pd.read_parquet(path)
