"""Serving replicas for `make bench`: `/recommend` with 1, 2 and 4 BentoML workers.

On the production profile (PostgreSQL registry, Redis online store: what every worker
or replica shares), with the demo world's production ranker prepared as
``benchmarks.serving`` does. For each worker count the services are started as real
``bentoml serve`` processes (``REELOPS_SERVING_WORKERS``), warmed up, and the
recommender takes 600 requests at concurrency 8 over HTTP from one load process:
requests per second, p50/p99, errors, and the throughput relative to one worker.

The load generator runs on the same machine, so with ``os.cpu_count()`` cores the
workers and the client share them: the table prints the core count beside the figures.

Run ``python -m benchmarks.run --only serving-replicas``, or ``python -m
benchmarks.serving_replicas [--home DIR]`` to reuse a home that has production models.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from benchmarks import serving

WORKERS = (1, 2, 4)
CONCURRENCY = 8
REQUESTS = 600
TARGET_SPEEDUP_2 = 1.7  # the figure for 2 workers at concurrency 8


def bench_workers(settings, members: list[str]) -> list[dict]:
    """``/recommend`` at concurrency 8 with each worker count."""
    from reelops.serving.keys import configured_keys
    from reelops.serving.local import running_services

    key = configured_keys(settings)[0]
    bodies = [{"member_id": members[i % len(members)], "k": 10} for i in range(REQUESTS)]
    rows = []
    for workers in WORKERS:
        scaled = settings.model_copy(update={"serving_workers": workers})
        ports = {"recommender": serving._free_port(), "bitrate": serving._free_port()}
        with running_services(scaled, ports):
            url = f"http://127.0.0.1:{ports['recommender']}/recommend"
            # Warm every worker: the connections of 8 clients spread over the workers.
            serving._load(url, bodies[: serving.WARM_UP * workers], key, CONCURRENCY)
            figures = serving._load(url, bodies, key, CONCURRENCY)
        rows.append({"workers": workers, "concurrency": CONCURRENCY, **figures})
    one = rows[0]["rps"]
    for row in rows:
        row["vs_one_worker"] = round(row["rps"] / one, 2) if one else None
    return rows


def run(work: Path, home: Path | None = None) -> list[dict]:
    """Prepare (or reuse) the production home, then the worker counts."""
    settings, members = serving.production_members(work, home)
    return bench_workers(settings, members)


def print_table(rows: list[dict]) -> None:
    print(
        f"/recommend over HTTP, {REQUESTS} requests at concurrency {CONCURRENCY}, "
        f"load generator on the same {os.cpu_count()}-core machine"
    )
    print(f"  {'workers':>7} {'req/s':>7} {'x one':>6} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for r in rows:
        print(
            f"  {r['workers']:>7} {r['rps']:>7} {r['vs_one_worker']:>6} {r['p50_ms']:>8} "
            f"{r['p99_ms']:>8} {r['errors']:>6}"
        )
    two = next((r for r in rows if r["workers"] == 2), None)
    if two:
        met = "met" if two["vs_one_worker"] >= TARGET_SPEEDUP_2 else "NOT met"
        print(f"  2 workers vs 1: x{two['vs_one_worker']} (target x{TARGET_SPEEDUP_2}: {met})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, help="a production home with models to reuse")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reelops-replicas-") as tmp:
        rows = run(Path(tmp), args.home)
    print(json.dumps(rows, indent=2))
    print_table(rows)


if __name__ == "__main__":
    main()
