"""Serving under faults for `make bench`: Redis down, and 2,000 distinct bitrate ladders.

On the production profile (PostgreSQL warehouse and registry, Redis online store), with
the demo world's production ranker and bitrate model (trained here through the CLI as
``benchmarks.serving`` does, in the database ``reelops_bench`` and Redis database 2):

* **Redis down**: both services started as real ``bentoml serve`` processes with
  ``REELOPS_REDIS_URL`` on a closed port of 127.0.0.1. Each endpoint takes 400 requests
  at concurrency 8 over HTTP while its service's ``/healthz`` is polled every 10 ms;
  p50/p99 of the fallback answers and of ``/healthz``, against the issue's targets
  (fallback p99 <= 100 ms, ``/healthz`` under 10 ms). Recovery when the store returns
  is tested (``tests/serving/test_serving_store_down.py``), not timed here.
* **Ladders**: the bitrate service (Redis up) answers 2,000 requests, each with a
  ladder it has not seen, at concurrency 8; the resident memory of its worker (its
  largest process) after a warm-up of 200 ladders and after every 500 more. Flat means
  within +-10 % of the warm-up figure (the per-ladder cache is an LRU of
  ``REELOPS_LADDER_CACHE_SIZE`` entries).

Run ``python -m benchmarks.run --only serving-resilience``, or ``python -m
benchmarks.serving_resilience [--home DIR]`` to reuse a home that has production models.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from benchmarks import serving
from reelops.serving.schemas import EXAMPLE_BITRATE as SESSION

FALLBACK_P99_MS = 100.0
HEALTHZ_MS = 10.0
LADDERS = 2000
LADDER_WARM_UP = 200
LADDER_STEP = 500
FLAT = 0.10


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _listener_pid(port: int) -> int:
    """A process holding the socket that listens on 127.0.0.1:``port``."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":  # LISTEN
            inodes.add(f"socket:[{fields[9]}]")
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        try:
            if str(fd.readlink()) in inodes:
                return int(fd.parent.parent.name)
        except OSError:
            continue
    raise RuntimeError(f"no process listens on port {port}")


def worker_rss_mib(port: int) -> float:
    """Resident memory of the largest process of the service on ``port`` (its worker).

    ``reelops serve`` starts each service as the leader of a process group of its own
    (BentoML's arbiter and its workers), so the group is the service.
    """
    group = os.getpgid(_listener_pid(port))
    sizes = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            sizes.append(_rss_mib(int(stat.parent.name)))
    return max(sizes)


def _ladder(i: int) -> list[float]:
    return [300 + i / 10, 750.0, 1200.0]  # 2,000 distinct ladders, every one valid


def bench_ladders(settings) -> list[dict]:
    """The bitrate worker's memory over ``LADDERS`` distinct ladders."""
    from reelops.serving.keys import configured_keys
    from reelops.serving.local import running_services

    key = configured_keys(settings)[0]
    ports = {"recommender": serving._free_port(), "bitrate": serving._free_port()}
    rows = []
    with running_services(settings, ports):
        url = f"http://127.0.0.1:{ports['bitrate']}/bitrate"
        bodies = [{**SESSION, "ladder_kbps": _ladder(i)} for i in range(LADDERS)]
        serving._load(url, [SESSION] * serving.WARM_UP, key, 1)
        serving._load(url, bodies[:LADDER_WARM_UP], key, 8)
        base = worker_rss_mib(ports["bitrate"])
        rows.append({"ladders": LADDER_WARM_UP, "worker_rss_mib": round(base, 1), "vs_warm": 0.0})
        for done in range(LADDER_WARM_UP, LADDERS, LADDER_STEP):
            upto = min(done + LADDER_STEP, LADDERS)
            answered = serving._load(url, bodies[done:upto], key, 8)
            if answered["errors"]:
                raise RuntimeError(f"{answered['errors']} ladder requests failed")
            rss = worker_rss_mib(ports["bitrate"])
            rows.append(
                {"ladders": upto, "worker_rss_mib": round(rss, 1), "vs_warm": (rss - base) / base}
            )
    return [
        {
            "kind": "ladders",
            **row,
            "vs_warm": round(row["vs_warm"], 3),
            "flat": abs(row["vs_warm"]) <= FLAT,
        }
        for row in rows
    ]


def bench_fallback(settings, members: list[str]) -> list[dict]:
    """Both services with Redis on a closed port: the fallback and /healthz under load."""
    closed = f"redis://127.0.0.1:{serving._free_port()}/0"  # bound, then closed
    with serving._redis_url(closed):
        rows = serving.bench_under_load(settings, members, "Redis down")
    for row in rows:
        health = row["endpoint"].startswith("/healthz")
        # The target is the probe's view (a process of its own); the probe from a thread
        # of the load generator is printed beside it, as the reference it used to be.
        target = None if "load process" in row["endpoint"] else HEALTHZ_MS
        target = target if health else FALLBACK_P99_MS
        met = None if target is None else row["p99_ms"] <= target
        row |= {"kind": "store down", "target_ms": target, "met": met}
    return rows


def run(work: Path, home: Path | None = None) -> list[dict]:
    """Prepare (or reuse) the production home, then both measurements."""
    settings, members = serving.production_members(work, home)
    return bench_fallback(settings, members) + bench_ladders(settings)


def print_table(rows: list[dict]) -> None:
    down = [r for r in rows if r["kind"] == "store down"]
    concurrency, n = serving.UNDER_LOAD
    print(
        f"Redis down (closed port): {n} requests per endpoint at concurrency {concurrency}, "
        f"/healthz polled every {serving.HEALTH_EVERY_S * 1e3:g} ms meanwhile"
    )
    print(
        f"  {'endpoint':<40} {'p50 ms':>8} {'p99 ms':>8} {'target':>8} {'met':>4} "
        f"{'errors':>6} {'fallbacks':>9} {'n':>5}"
    )
    for r in down:
        print(
            f"  {r['endpoint']:<40} {r['p50_ms']:>8} {r['p99_ms']:>8} "
            f"{r['target_ms'] if r['target_ms'] else '-':>8} "
            f"{'-' if r['met'] is None else 'yes' if r['met'] else 'NO':>4} "
            f"{r['errors']:>6} {r['fallbacks']:>9} "
            f"{r.get('n', n):>5}"
        )
    print(f"\nBitrate worker memory over {LADDERS:,} distinct ladders (flat: within +-10 %)")
    print(f"  {'ladders':>8} {'RSS MiB':>9} {'vs warm':>8} {'flat':>5}")
    for r in (r for r in rows if r["kind"] == "ladders"):
        print(
            f"  {r['ladders']:>8} {r['worker_rss_mib']:>9} {r['vs_warm']:>+8.1%} "
            f"{'yes' if r['flat'] else 'NO':>5}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, help="a REELOPS_HOME with production models")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reelops-resilience-") as tmp:
        try:
            rows = run(Path(tmp), args.home)
        except FileNotFoundError as error:
            sys.exit(f"skipped: {error}")
    serving.RESULTS.mkdir(parents=True, exist_ok=True)
    out = serving.RESULTS / "serving_resilience.json"
    out.write_text(json.dumps({"cpus": os.cpu_count(), "rows": rows}, indent=2))
    print_table(rows)
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
