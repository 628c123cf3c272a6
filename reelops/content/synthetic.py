"""Synthetic Fountain scripts with hidden truth, to measure the analyzer against.

Each script is written from a truth: its arc shape (one of the six), its pace (0 slow
.. 1 fast: more and shorter scenes, shorter speeches), and planted flaws: a character
whose stated age, job or relation contradicts an earlier line, a setup ("remember the
X") never paid off, a scene that drags (long, one or two speakers, no conflict). Clean
scripts still restate facts consistently and pay their setups off, so a flag on them
is a false alarm. Lines are drawn from banks of sentences of five sentiment levels
following the arc's template.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reelops.content.arc import SHAPES

BANKS = [
    [  # very negative
        "This is a disaster, everything is ruined!",
        "I hate this, he killed them all.",
        "We are doomed, it is terrible.",
        "She is dead and it is my fault.",
        "Get out, you liar, I despise you!",
        "It's horrible, we lost everything.",
    ],
    [  # negative
        "This is bad.",
        "I'm worried about tomorrow.",
        "That was a mistake.",
        "I don't trust him.",
        "We lost the deal.",
        "It hurts to see this.",
    ],
    [  # neutral
        "The car is outside.",
        "It is three o'clock.",
        "The files are on the table.",
        "We take the north road.",
        "The train leaves at nine.",
        "Tell me where the office is.",
    ],
    [  # positive
        "That sounds good.",
        "I like this plan.",
        "Nice work today.",
        "We can win this.",
        "I'm glad you came.",
        "Things are getting better.",
    ],
    [  # very positive
        "This is wonderful, I love it!",
        "What a beautiful, happy day.",
        "We did it, this is amazing!",
        "I am so proud of you, truly great work.",
        "Thank you, this is the best news ever.",
        "I'm thrilled, everything is perfect!",
    ],
]
NAMES = ["ALEX", "BEA", "CARL", "DANA", "EVAN", "FAYE", "GUS", "HANA", "IVAN", "JUNE"]
PLACES = ["KITCHEN", "OFFICE", "STATION", "GARDEN", "HOSPITAL", "ROOFTOP", "DINER", "GARAGE"]
JOBS = ["nurse", "lawyer", "teacher", "pilot", "chef", "mechanic", "journalist", "farmer"]
OBJECTS = ["key", "letter", "photograph", "locket", "ledger", "map", "ticket", "watch"]
NUMBERS = {
    23: "twenty-three",
    31: "thirty-one",
    38: "thirty-eight",
    45: "forty-five",
    52: "fifty-two",
    60: "sixty",
}


@dataclass
class Truth:
    """What a synthetic script was written to have."""

    title_id: str
    shape: str
    pace: float
    contradiction: tuple[str, str] | None = None  # (character, attribute)
    unpaid_setup: str | None = None
    dragging_scene: int | None = None
    paid_setups: list[str] = field(default_factory=list)


def _scaled_template(shape: str, points: np.ndarray) -> np.ndarray:
    t = SHAPES[shape](points)
    return 2 * (t - t.min()) / (t.max() - t.min()) - 1


def write_script(truth: Truth, seed: int, sentences: int = 700) -> str:
    """Fountain text of a script with ``truth`` (``dragging_scene`` set here if planted)."""
    rng = np.random.default_rng(seed)
    cast = [str(name) for name in rng.choice(NAMES, size=5, replace=False)]
    n_scenes = int(round(12 + 30 * truth.pace))
    speech_len = 1 + int(round(4 * (1 - truth.pace)))  # sentences per speech
    per_scene = sentences // n_scenes
    template = _scaled_template(truth.shape, np.linspace(0, 1, 101))
    facts = {name: (int(rng.choice(list(NUMBERS))), str(rng.choice(JOBS))) for name in cast}
    drag_at = n_scenes // 2 if truth.dragging_scene is not None else None
    truth.dragging_scene = drag_at
    out = [f"Title: {truth.title_id}", f"Title ID: {truth.title_id}", ""]
    done = 0
    plan: dict[int, list[tuple[str, str]]] = {}  # scene -> extra (speaker, sentence) lines

    def plant(scene: int, speaker: str, text: str) -> None:
        plan.setdefault(min(max(scene, 0), n_scenes - 1), []).append((speaker, text))

    # Consistent facts: each of two characters states age and job twice.
    for k, name in enumerate(cast[:2]):
        age, job = facts[name]
        plant(1 + k, name, f"I'm {NUMBERS[age]} years old, for the record.")
        plant(n_scenes - 3 + k, name, f"I am {age} years old, and I know it.")
        plant(2 + k, name, f"I'm a {job}, that's my work.")
        plant(n_scenes - 4 + k, name, f"I work as a {job} these days.")
    # Distractors a careless reader would take for facts: hearsay and numbers that are
    # not ages.
    plant(
        3,
        cast[2],
        f"{cast[0].title()} is a {JOBS[(JOBS.index(facts[cast[0]][1]) + 1) % 8]}, they say.",
    )
    plant(5, cast[1], "I am two steps ahead of you.")
    plant(6, cast[0], "My sister would laugh at this.")
    if truth.contradiction:
        name, attribute = cast[0], truth.contradiction[1]
        truth.contradiction = (name, attribute)
        age, job = facts[name]
        if attribute == "age":
            other = next(a for a in NUMBERS if abs(a - age) > 5)
            plant(n_scenes * 2 // 3, name, f"I am {other} years old, you know.")
        elif attribute == "job":
            other = next(j for j in JOBS if j != job)
            plant(n_scenes * 2 // 3, name, f"I'm a {other}, I always was.")
        else:
            plant(2, name, f"My brother {cast[4].title()} is coming tonight.")
            plant(n_scenes * 2 // 3, name, "I'm an only child, I told you.")
    for obj in truth.paid_setups:
        plant(1, cast[2], f"Remember the {obj}.")
        plant(n_scenes - 2, cast[3], f"Here is the {obj}, as promised.")
    if truth.unpaid_setup:
        plant(2, cast[3], f"Don't forget the {truth.unpaid_setup}.")

    for scene in range(n_scenes):
        place = PLACES[scene % len(PLACES)]
        out += [f"{'INT' if scene % 3 else 'EXT'}. {place} - {'DAY' if scene % 2 else 'NIGHT'}", ""]
        if scene == drag_at:
            speaker = cast[0]
            out += ["The room is still. Nothing moves.", ""]
            for _ in range(max(3 * per_scene // 8, 4)):
                out += [speaker, " ".join(rng.choice(BANKS[2], size=8)), ""]
            continue
        present = list(rng.choice(cast, size=int(rng.integers(2, 5)), replace=False))
        lines = per_scene
        extras = plan.get(scene, [])
        previous = None
        while lines > 0 or extras:
            if extras and (lines <= 0 or rng.random() < 0.3):
                speaker, text = extras.pop(0)
                out += [speaker, text, ""]
                continue
            speaker = str(rng.choice([p for p in present if p != previous]))
            previous = speaker
            words = []
            for _ in range(speech_len):
                position = done / sentences
                target = template[min(int(position * 100), 100)]
                level = int(np.clip(round(2 + 2 * target + rng.normal(0, 1.0)), 0, 4))
                words.append(str(rng.choice(BANKS[level])))
                done += 1
                lines -= 1
            out += [speaker, " ".join(words), ""]
    return "\n".join(out)


def synthetic_truths(n: int, seed: int = 0) -> list[Truth]:
    """``n`` truths: shapes in turn, paces spread, flaws planted in about half."""
    rng = np.random.default_rng(seed)
    shapes = list(SHAPES)
    truths = []
    for i in range(n):
        truth = Truth(f"synthetic-{i:03d}", shapes[i % len(shapes)], float(rng.uniform(0, 1)))
        cast_pick = ["age", "job", "relation"][i % 3]
        if rng.random() < 0.5:
            truth.contradiction = ("", cast_pick)  # the first of the cast, once written
        if rng.random() < 0.5:
            truth.unpaid_setup = "compass"
        if rng.random() < 0.5:
            truth.dragging_scene = -1  # the writer picks the scene
        truth.paid_setups = [str(o) for o in rng.choice(OBJECTS, size=2, replace=False)]
        truths.append(truth)
    return truths


def evaluate(n: int = 60, seed: int = 0) -> dict[str, float]:
    """Write ``n`` synthetic scripts, analyze them and score the analyzer against the truth.

    Returns:
        ``arc_accuracy``, ``pace_spearman``, ``contradiction_precision`` and ``_recall``,
        ``clean_without_flag`` (share of scripts with no planted contradiction that get
        no contradiction flag), ``setup_precision``/``_recall`` and ``drag_precision``/
        ``_recall`` (per script), and ``scripts``.
    """
    from pathlib import Path

    from scipy.stats import spearmanr

    from reelops.content.analyze import analyze
    from reelops.content.fountain import parse_fountain

    rows = []
    for i, truth in enumerate(synthetic_truths(n, seed)):
        text = write_script(truth, seed * 1000 + i)
        result = analyze(parse_fountain(Path(f"{truth.title_id}.fountain"), text))
        flags = {(c.speaker, c.attribute) for c in result.contradictions}
        rows.append(
            {
                "shape_ok": result.arc.shape == truth.shape,
                "pace": truth.pace,
                "pace_index": result.features["pace_index"],
                "planted": truth.contradiction,
                "flags": flags,
                "setup_truth": truth.unpaid_setup is not None,
                "setup_found": {s.word for s in result.unpaid_setups},
                "drag_truth": truth.dragging_scene,
                "drag_found": set(result.scenes.loc[result.scenes["drags"], "scene"]),
            }
        )
    planted = [r for r in rows if r["planted"]]
    flagged = sum(len(r["flags"]) for r in rows)
    hits = sum(r["planted"] in r["flags"] for r in planted)
    clean = [r for r in rows if not r["planted"]]
    setup_hits = sum(r["setup_truth"] and "compass" in r["setup_found"] for r in rows)
    setup_flags = sum(len(r["setup_found"]) for r in rows)
    drag_hits = sum(r["drag_truth"] in r["drag_found"] for r in rows if r["drag_truth"] is not None)
    drag_flags = sum(len(r["drag_found"]) for r in rows)
    drags = sum(r["drag_truth"] is not None for r in rows)
    return {
        "scripts": float(n),
        "arc_accuracy": float(np.mean([r["shape_ok"] for r in rows])),
        "pace_spearman": float(
            spearmanr([r["pace"] for r in rows], [r["pace_index"] for r in rows])[0]
        ),
        "contradiction_precision": hits / flagged if flagged else 1.0,
        "contradiction_recall": hits / len(planted) if planted else 1.0,
        "clean_without_flag": float(np.mean([not r["flags"] for r in clean])) if clean else 1.0,
        "setup_precision": setup_hits / setup_flags if setup_flags else 1.0,
        "setup_recall": setup_hits / max(sum(r["setup_truth"] for r in rows), 1),
        "drag_precision": drag_hits / drag_flags if drag_flags else 1.0,
        "drag_recall": drag_hits / drags if drags else 1.0,
    }
