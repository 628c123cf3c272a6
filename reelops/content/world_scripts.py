"""A script for every title of a stored source, written beside its raw tables, with hidden truth.

The synthetic world's catalogue gets one Fountain screenplay per title in the source's
``scripts/`` folder (what ``reelops import scripts`` imports when given no folder) and
the truth each was written from in ``truth/script_truth.parquet``: its arc shape, its
pace and the flaws planted in it (see :mod:`reelops.content.synthetic`). The truth
leans on the title's genres, as a writers' room would: comedies and romances rise more
often than they fall, war, horror and crime titles fall more often, action and
thrillers run faster than dramas and documentaries.
"""

from __future__ import annotations

import os
import shutil
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from reelops.config import Settings
from reelops.content.synthetic import OBJECTS, Truth, write_script
from reelops.sources import read_source_table, source_dir

SCRIPTS_DIR = "scripts"
TRUTH_NAME = "script_truth"
RISING = {"Comedy", "Romance", "Children's", "Musical", "Animation", "Fantasy"}
FALLING = {"War", "Horror", "Film-Noir", "Crime", "Thriller", "Drama"}
FAST = {"Action", "Thriller", "Adventure", "Sci-Fi", "Horror"}
SLOW = {"Drama", "Documentary", "Romance", "Film-Noir"}
# Shapes that end higher than they start (or climb back), and those that end lower.
UP_SHAPES = ("rags to riches", "man in a hole", "Cinderella")
DOWN_SHAPES = ("riches to rags", "Icarus", "Oedipus")


@dataclass(frozen=True)
class SourceScripts:
    """What :func:`write_source_scripts` wrote."""

    source: str
    folder: Path
    scripts: int
    truth: pd.DataFrame


def source_scripts_dir(settings: Settings, source: str) -> Path:
    """The folder of a stored source's scripts (``reelops import scripts`` with no DIR)."""
    return source_dir(settings, source) / SCRIPTS_DIR


def title_truth(title_id: str, genres: list[str], seed: int = 0) -> Truth:
    """The truth one title's script is written from, drawn from its genres.

    The same title id, genres and seed give the same truth.
    """
    rng = np.random.default_rng([zlib.crc32(title_id.encode()), seed])
    rising = len(RISING.intersection(genres))
    falling = len(FALLING.intersection(genres))
    p_up = 0.5 + 0.3 * np.sign(rising - falling)
    family = UP_SHAPES if rng.random() < p_up else DOWN_SHAPES
    shape = str(rng.choice(family))
    lean = 0.2 * len(FAST.intersection(genres)) - 0.2 * len(SLOW.intersection(genres))
    pace = float(np.clip(rng.uniform(0.15, 0.85) + lean, 0.0, 1.0))
    truth = Truth(title_id, shape, pace)
    if rng.random() < 0.5:
        truth.contradiction = ("", str(rng.choice(["age", "job", "relation"])))
    if rng.random() < 0.5:
        truth.unpaid_setup = "compass"
    if rng.random() < 0.5:
        truth.dragging_scene = -1  # write_script picks the scene
    truth.paid_setups = [str(o) for o in rng.choice(OBJECTS, size=2, replace=False)]
    return truth


def _truth_row(truth: Truth) -> dict:
    name, attribute = truth.contradiction or (None, None)
    return {
        "title_id": truth.title_id,
        "arc_shape": truth.shape,
        "pace": truth.pace,
        "contradiction_character": name,
        "contradiction_attribute": attribute,
        "unpaid_setup": truth.unpaid_setup,
        "dragging_scene": truth.dragging_scene,
        "paid_setups": "|".join(truth.paid_setups),
    }


def write_source_scripts(
    settings: Settings, source: str, *, seed: int = 0, sentences: int = 700
) -> SourceScripts:
    """Write a screenplay per title of ``source``'s catalogue, and the truth behind each.

    Both are built beside their final place and renamed into it, so a reader sees the
    previous scripts or the new ones; the scripts of an earlier call are replaced.

    Args:
        settings: Platform settings.
        source: A stored source (its ``titles`` table names the titles).
        seed: Varies every title's truth and text.
        sentences: Sentences of dialogue per script (700 is a feature-length script).
    """
    titles = read_source_table(settings, source, "titles").to_pandas()
    root = source_dir(settings, source)
    final = source_scripts_dir(settings, source)
    tmp = root / f".{SCRIPTS_DIR}.{uuid.uuid4().hex}.tmp"
    old = root / f".{SCRIPTS_DIR}.{uuid.uuid4().hex}.old"
    rows = []
    try:
        tmp.mkdir(mode=0o700)
        for title_id, genres in zip(titles["title_id"], titles["genres"], strict=True):
            truth = title_truth(str(title_id), str(genres).split("|"), seed)
            text = write_script(truth, zlib.crc32(f"{title_id}/{seed}".encode()), sentences)
            path = tmp / f"{title_id}.fountain"
            path.write_text(text + "\n", encoding="utf-8")
            os.chmod(path, 0o600)
            rows.append(_truth_row(truth))
        truth_frame = pd.DataFrame(rows)
        truth_dir = root / "truth"
        truth_dir.mkdir(mode=0o700, exist_ok=True)
        staged = truth_dir / f".{TRUTH_NAME}.{uuid.uuid4().hex}.tmp"
        truth_frame.to_parquet(staged, index=False)
        os.chmod(staged, 0o600)
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        os.replace(staged, truth_dir / f"{TRUTH_NAME}.parquet")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return SourceScripts(source, final, len(rows), truth_frame)
