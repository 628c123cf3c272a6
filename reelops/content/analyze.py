"""The Script Analyzer: scenes, characters, interactions, arc, pacing, flags, suggestions."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from reelops.content.arc import Arc, arc_of, sentiment
from reelops.content.consistency import Contradiction, Setup, contradictions, setups, stated_facts
from reelops.content.model import DIALOGUE, Script
from reelops.content.themes import theme_features

NEGATIVE = -0.25  # VADER compound at or below: a line of conflict or distress
POSITIVE = 0.25
SETUP_WINDOW = 0.85  # setups in the last 15 % may pay off after the script (a sequel hook)


@dataclass
class Analysis:
    """What the analyzer found in one script.

    Attributes:
        scenes: One row per scene: ``scene``, ``heading``, ``line``, ``words``,
            ``dialogue_share``, ``speakers``, ``turns``, ``turns_per_100_words``,
            ``interaction_density``, ``sentiment``, ``conflict_share``, ``drags``.
        characters: One row per speaking character: ``character``, ``speeches``,
            ``words``, ``scenes``, ``first_scene``, ``last_scene``.
        interactions: One row per pair who exchange speeches: ``a``, ``b``, ``exchanges``.
        arc: The sentiment arc and its shape.
        contradictions, unpaid_setups: The consistency flags.
        features: Named numbers summarising the script (pacing, tone, cast, arc).
        suggestions: Short notes a writer can act on.
    """

    script: Script
    scenes: pd.DataFrame
    characters: pd.DataFrame
    interactions: pd.DataFrame
    arc: Arc
    contradictions: list[Contradiction]
    unpaid_setups: list[Setup]
    features: dict[str, float]
    suggestions: list[str] = field(default_factory=list)
    line_sentiment: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per script line


def _scene_rows(script: Script, scores: np.ndarray) -> tuple[pd.DataFrame, dict]:
    rows, pairs = [], {}
    i = 0
    for scene in script.scenes:
        n = len(scene.lines)
        own = scores[i : i + n]
        i += n
        words = sum(len(ln.text.split()) for ln in scene.lines)
        spoken = sum(len(ln.text.split()) for ln in scene.lines if ln.kind == DIALOGUE)
        speakers = scene.speakers
        turns = 0
        exchanged = set()
        previous = None
        for line in scene.lines:
            if line.kind != DIALOGUE:
                continue
            if previous and line.speaker != previous:
                turns += 1
                pair = tuple(sorted((previous, line.speaker)))
                pairs[pair] = pairs.get(pair, 0) + 1
                exchanged.add(pair)
            previous = line.speaker
        possible = len(list(combinations(speakers, 2)))
        rows.append(
            {
                "scene": scene.index,
                "heading": scene.heading,
                "act": scene.act,
                "line": scene.number,
                "words": words,
                "dialogue_share": spoken / words if words else 0.0,
                "speakers": len(speakers),
                "turns": turns,
                "turns_per_100_words": 100 * turns / words if words else 0.0,
                "interaction_density": len(exchanged) / possible if possible else 0.0,
                "sentiment": float(own.mean()) if n else 0.0,
                "conflict_share": float((own <= NEGATIVE).mean()) if n else 0.0,
            }
        )
    frame = pd.DataFrame(rows)
    median = frame["words"].median()
    frame["drags"] = (
        (frame["words"] >= 2 * median)
        & (frame["speakers"] <= 2)
        & (frame["turns_per_100_words"] < frame["turns_per_100_words"].median())
        & (frame["conflict_share"] < 0.1)
    )
    return frame, pairs


def _character_rows(script: Script) -> pd.DataFrame:
    stats: dict[str, dict] = {}
    for scene in script.scenes:
        for line in scene.lines:
            if not line.speaker:
                continue
            row = stats.setdefault(
                line.speaker,
                {"character": line.speaker, "speeches": 0, "words": 0, "scenes": set()},
            )
            row["speeches"] += 1
            row["words"] += len(line.text.split())
            row["scenes"].add(scene.index)
    rows = [
        {
            **r,
            "scenes": len(r["scenes"]),
            "first_scene": min(r["scenes"]),
            "last_scene": max(r["scenes"]),
        }
        for r in stats.values()
    ]
    columns = ["character", "speeches", "words", "scenes", "first_scene", "last_scene"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["speeches", "character"], ascending=[False, True], ignore_index=True)


def _features(scenes: pd.DataFrame, characters: pd.DataFrame, scores, words, arc: Arc) -> dict:
    total = max(int(words.sum()), 1)
    speeches = characters["speeches"].to_numpy(dtype=float)
    share = np.sort(speeches / speeches.sum())[::-1] if speeches.sum() else np.zeros(1)
    tenth = max(len(arc.value) // 10, 1)
    turns = scenes["turns"].sum()
    features = {
        "scenes": float(len(scenes)),
        "characters": float(len(characters)),
        "words": float(total),
        "mean_scene_words": float(scenes["words"].mean()),
        "scene_words_cv": float(scenes["words"].std(ddof=0) / max(scenes["words"].mean(), 1)),
        "scenes_per_1000_words": 1000 * len(scenes) / total,
        "dialogue_share": float(np.average(scenes["dialogue_share"], weights=scenes["words"] + 1)),
        "turns_per_100_words": 100 * turns / total,
        "speakers_per_scene": float(scenes["speakers"].mean()),
        "interaction_density": float(scenes["interaction_density"].mean()),
        "words_per_speech": float(characters["words"].sum() / max(speeches.sum(), 1)),
        "top_character_share": float(share[0]),
        "top3_character_share": float(share[:3].sum()),
        "one_scene_character_share": float((characters["scenes"] == 1).mean()),
        "sentiment_mean": float(np.average(scores, weights=words)) if len(scores) else 0.0,
        "sentiment_sd": float(scores.std()) if len(scores) else 0.0,
        "negative_share": float((scores <= NEGATIVE).mean()) if len(scores) else 0.0,
        "positive_share": float((scores >= POSITIVE).mean()) if len(scores) else 0.0,
        "arc_start": float(arc.value[:tenth].mean()),
        "arc_end": float(arc.value[-tenth:].mean()),
        "arc_end_minus_mean": float(arc.value[-tenth:].mean() - arc.value.mean()),
        "arc_range": float(arc.value.max() - arc.value.min()),
        "arc_min_position": float(arc.position[int(arc.value.argmin())]),
        "arc_max_position": float(arc.position[int(arc.value.argmax())]),
    }
    features |= {f"arc_fit_{name.lower().replace(' ', '_')}": v for name, v in arc.fit.items()}
    # One number for pace: geometric mean of scene rate and turn rate, each per word.
    features["pace_index"] = float(
        np.sqrt(features["scenes_per_1000_words"] * max(features["turns_per_100_words"], 1e-6))
    )
    return features


def _suggestions(analysis: Analysis) -> list[str]:
    notes = []
    for flag in analysis.contradictions:
        notes.append(
            f"{flag.speaker} states two different {flag.attribute}s (line {flag.first.line}: "
            f"{flag.first.value}; line {flag.second.line}: {flag.second.value}): keep one."
        )
    for setup in analysis.unpaid_setups[:5]:
        notes.append(
            f"'{setup.word}' is set up on line {setup.line} and never comes back: pay it off "
            "in a later scene or cut it."
        )
    scenes = analysis.scenes
    for row in scenes[scenes["drags"]].head(3).itertuples():
        notes.append(
            f"Scene {row.scene + 1} ({row.heading}, line {row.line}) runs {row.words} words, "
            f"{row.words / scenes['words'].median():.1f}x the median, with {row.speakers} "
            "speaker(s) and no conflict: cut it down or give it a turn."
        )
    if analysis.arc.fit[analysis.arc.shape] < 0.3:
        notes.append(
            f"The emotional arc is flat or unclear (best fit {analysis.arc.shape}, r="
            f"{analysis.arc.fit[analysis.arc.shape]:.2f}): sharpen its highs and lows."
        )
    chars = analysis.characters
    if len(chars) >= 8 and (chars["speeches"] == 1).mean() > 0.3:
        notes.append(
            f"{int((chars['speeches'] == 1).sum())} of {len(chars)} characters speak once: "
            "merge walk-on parts so the audience can follow the cast."
        )
    last_quarter = scenes[scenes["scene"] >= 0.75 * len(scenes)]
    if len(last_quarter) and len(scenes) >= 8:
        late, overall = (
            last_quarter["turns_per_100_words"].mean(),
            scenes["turns_per_100_words"].mean(),
        )
        if late < 0.7 * overall:
            notes.append(
                f"The last quarter slows down ({late:.1f} exchanges per 100 words against "
                f"{overall:.1f} overall): tighten the ending."
            )
    return notes or ["No problem found by the analyzer's checks."]


def analyze(script: Script) -> Analysis:
    """Analyze one script (pure: no I/O)."""
    lines = script.lines
    scores = sentiment([ln.text for ln in lines])
    words = np.array([max(len(ln.text.split()), 1) for ln in lines], dtype=float)
    scenes, pairs = _scene_rows(script, scores)
    characters = _character_rows(script)
    interactions = pd.DataFrame(
        [{"a": a, "b": b, "exchanges": n} for (a, b), n in pairs.items()],
        columns=["a", "b", "exchanges"],
    ).sort_values("exchanges", ascending=False, ignore_index=True)
    arc = arc_of(scores, words) if len(lines) else arc_of(np.zeros(1), np.ones(1))
    flags = contradictions(stated_facts(script))
    cut = SETUP_WINDOW * len(script.scenes)
    unpaid = [s for s in setups(script) if s.payoff_line is None and s.scene < cut]
    analysis = Analysis(
        script,
        scenes,
        characters,
        interactions,
        arc,
        flags,
        unpaid,
        _features(scenes, characters, scores, words, arc) | theme_features(script),
    )
    analysis.suggestions = _suggestions(analysis)
    analysis.line_sentiment = scores
    return analysis
