"""Themes of a script: how densely it speaks of death, violence, war and power, love, mirth.

Small hand-made lexicons (word stems matched at word starts), counted per 1,000 words
over the whole script and over its ending (the last fifth), and deaths counted in the
action lines (stage directions): the tone tags of the genome and what tells a tragedy
from a comedy or a history play.
"""

from __future__ import annotations

import re

from reelops.content.model import ACTION, Script

LEXICONS = {
    "death": "death dead die dies died dying grave tomb corpse mourn funeral ghost slain buried",
    "violence": "kill killed murder blood bloody stab sword dagger poison wound slay strike "
    "revenge fight",
    "war_power": "war battle army armies soldier crown throne kingdom king realm lords duke "
    "traitor rebel enemy enemies march alarum herald england france",
    "love": "love lover loving kiss marry married marriage wed wedding bride husband wife "
    "sweetheart woo wooing",
    "mirth": "merry mirth jest jesting laugh laughter sport fool foolery wit jolly dance sing song",
}
_PATTERNS = {
    name: re.compile(r"\b(?:" + "|".join(map(re.escape, words.split())) + r")\b", re.I)
    for name, words in LEXICONS.items()
}
_DEATH_EVENT = re.compile(
    r"\b(dies|die|dead|stabs|kills|slain|slays|killed|bod(?:y|ies)|falls on his sword)\b", re.I
)
ENDING = 0.8  # the ending: the last fifth of the script's words


def theme_features(script: Script) -> dict[str, float]:
    """Per-1,000-word theme densities (whole script and ending) and deaths on stage."""
    lines = script.lines
    lengths = [len(ln.text.split()) for ln in lines]
    total = max(sum(lengths), 1)
    done = 0
    counts = {name: [0, 0] for name in LEXICONS}  # whole, ending
    ending_words = 0
    deaths = 0
    for line, n in zip(lines, lengths, strict=True):
        in_ending = done >= ENDING * total
        done += n
        ending_words += n if in_ending else 0
        for name, pattern in _PATTERNS.items():
            hits = len(pattern.findall(line.text))
            counts[name][0] += hits
            counts[name][1] += hits if in_ending else 0
        if line.kind == ACTION and _DEATH_EVENT.search(line.text):
            deaths += 1
    features = {}
    for name, (whole, ending) in counts.items():
        features[f"theme_{name}"] = 1000 * whole / total
        features[f"ending_{name}"] = 1000 * ending / max(ending_words, 1)
    features["deaths_on_stage"] = float(deaths)
    return features
