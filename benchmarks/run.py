"""`make bench`: time and peak memory of the platform's steps, written as JSON and a table.

Each measured step runs as its own process under ``/usr/bin/time -v`` (falling back to
``getrusage``), so wall time and the peak resident memory of its largest process are
measured the same way for every row. Figures from one run share the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
GNU_TIME = Path("/usr/bin/time")


def measure(cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> dict:
    """Run ``cmd``; return wall seconds and peak RSS (MiB) of its largest process."""
    timed = [str(GNU_TIME), "-v", *cmd] if GNU_TIME.exists() else cmd
    started = time.perf_counter()
    with open(log, "w") as fh:
        done = subprocess.run(timed, env=env, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - started
    text = log.read_text(errors="replace")
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed (exit {done.returncode}); log: {log}")
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    peak = int(match.group(1)) / 1024 if match else float("nan")
    return {"wall_s": round(wall, 1), "peak_rss_mib": round(peak, 1)}


def bench_demo(work: Path) -> list[dict]:
    """`make demo` from a fresh clone: first with the install, then again without it."""
    clone = work / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELOPS_")}
    rows = []
    for label in ("make demo, fresh clone (install included)", "make demo, installed"):
        result = measure(["make", "demo"], env, clone, work / f"demo-{len(rows)}.log")
        rows.append({"step": label, **result})
    return rows


def bench_world(work: Path, size: str) -> list[dict]:
    """World generation, then one daily DAG run over the whole world as one interval."""
    home = work / f"home-{size}"
    env = {**os.environ, "REELOPS_HOME": str(home)}
    reelops = [sys.executable, "-m", "reelops.cli"]
    gen = measure([*reelops, "world", "generate", "--size", size], env, ROOT, work / f"{size}.log")
    meta = json.loads((home / "sources" / "world" / "source.json").read_text())
    start = meta["first_ts"][:10]
    end = str(date.fromisoformat(meta["last_ts"][:10]) + timedelta(days=1))
    run = measure(
        [*reelops, "pipeline", "run", "--start", start, "--end", end],
        env,
        ROOT,
        work / f"{size}-dag.log",
    )
    rows_note = f"{meta['rows']['members']:,} members, {meta['rows']['viewing_events']:,} views"
    return [
        {"step": f"world generate --size {size} ({rows_note})", **gen},
        {"step": f"daily DAG, one run over the {size} world", **run},
    ]


def print_table(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    print(f"  {'step':<64} {'wall s':>8} {'peak MiB':>9}")
    for row in rows:
        print(f"  {row['step']:<64} {row['wall_s']:>8} {row['peak_rss_mib']:>9}")


MODEL_PARTS = (
    "ranker",
    "ranker-movielens",
    "bitrate",
    "serving",
    "scripts",
    "serving-resilience",
    "serving-replicas",
    "artwork-open-bandit",
    "artwork-world",
)
PARTS = ["foundation-demo", "foundation-world", "features", *MODEL_PARTS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only",
        choices=PARTS,
        action="append",
        help="run only these benchmarks (default: all)",
    )
    args = parser.parse_args()
    chosen = set(args.only or PARTS)
    RESULTS.mkdir(parents=True, exist_ok=True)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version()}
    with tempfile.TemporaryDirectory(prefix="reelops-bench-") as tmp:
        work = Path(tmp)
        rows: list[dict] = []
        if "foundation-world" in chosen:
            rows += bench_world(work, "demo") + bench_world(work, "large")
        if "foundation-demo" in chosen:
            rows += bench_demo(work)
        shutil.rmtree(work / "clone", ignore_errors=True)
        if rows:
            out = RESULTS / "foundation.json"
            out.write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))
            print_table("Foundation: world generation, daily DAG, make demo", rows)
            print(f"\nwritten to {out}")
        if "features" in chosen:
            from benchmarks import features

            feature_rows = features.run(work / "features")
            out = RESULTS / "features.json"
            out.write_text(json.dumps({"machine": machine, "rows": feature_rows}, indent=2))
            print("\nFeature store: materialization, online lookup, training sets")
            features.print_table(feature_rows)
            print(f"\nwritten to {out}")
        for part in MODEL_PARTS:
            if part in chosen:
                model_part(part.replace("-", "_"), work / part, machine)


def model_part(part: str, work: Path, machine: dict) -> None:
    """One model or serving benchmark: its rows to ``results/<part>.json`` and a table."""
    import importlib

    module = importlib.import_module(f"benchmarks.{part}")
    try:
        rows = module.run(work)
    except FileNotFoundError as error:  # ../shared traces; MovieLens-100K
        print(f"\n{part}: skipped: {error}")
        return
    out = RESULTS / f"{part}.json"
    out.write_text(json.dumps({"machine": machine, "rows": rows}, indent=2, default=str))
    print(f"\n{part}")
    printer = (
        getattr(module, "print_table", None)
        or importlib.import_module("benchmarks.ranker").print_table
    )
    printer(rows)
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
