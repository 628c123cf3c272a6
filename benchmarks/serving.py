"""Serving figures for `make bench`: /recommend and /bitrate in process and over HTTP.

On the demo world with its production ranker, bitrate model and artwork policy
(trained here through the CLI, as `make demo` does, unless ``--home`` points at a home
that has them):

* in process: the endpoint classes the services wrap (pseudonymize, candidates,
  Feast online features, model, each title's artwork, answer), p50/p99 over many
  members, and the artwork policy's share alone (``/recommend artwork``: choosing the
  variants of the same answers' 10 titles);
* over HTTP: both services as real `bentoml serve` processes, at concurrency 1, 8
  and 32 (threads with keep-alive clients): p50/p99 latency, requests per second and
  errors. HTTP p50 / in-process p50 is the framework's overhead as a ratio.

Figures are for a warmed-up service, as a running one is: every endpoint answers 100
requests (in process, the recommender one per member) before anything is timed.

Both profiles are measured: ``local`` (SQLite online store) and ``production``
(PostgreSQL warehouse and registry, Redis online store), each on its own home. The
production run uses a database of its own (``reelops_bench``, created if missing) and
Redis database 2, so it clashes with no test; it is skipped, saying why, when either
service does not answer.

On production, "Redis down" is measured beside a store-up baseline: both services are
started once with the real Redis and once with ``REELOPS_REDIS_URL`` on a closed port of
127.0.0.1, and each endpoint takes concurrency 8 while ``/healthz`` of the same service
is polled alongside (the issue's target: fallback p99 <= 100 ms, healthz under 10 ms).

Run ``python -m benchmarks.serving [--home DIR] [--profile local|production]
[--store-down]`` (``--store-down``: only the store up/down comparison, production only).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from reelops.serving.schemas import EXAMPLE_BITRATE as SESSION

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
IN_PROCESS_CALLS = 300
WARM_UP = 100  # requests before measuring (in process, the recommender warms on every member)
HTTP_REQUESTS = {1: 200, 8: 400, 32: 640}
UNDER_LOAD = (8, 400)  # concurrency and requests per endpoint for the store up/down rows
HEALTH_EVERY_S = 0.01  # /healthz poll interval beside the load


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


BENCH_DATABASE = "reelops_bench"
BENCH_REDIS = "redis://127.0.0.1:6379/2"
STORES = {"local": "SQLite", "production": "Redis"}


def _reelops(home: Path, *args: str) -> None:
    env = {**os.environ, "REELOPS_HOME": str(home)}
    _log(f"reelops {' '.join(args)}")
    subprocess.run(
        [sys.executable, "-m", "reelops.cli", *args], env=env, check=True, stdout=subprocess.DEVNULL
    )


def production_environ() -> str | None:
    """Point this process (and what it starts) at the benchmark's own PostgreSQL database
    and Redis database; returns why production cannot be measured, or None."""
    import secrets

    import psycopg2
    import redis

    os.environ.setdefault("REELOPS_PG_DATABASE", BENCH_DATABASE)
    os.environ.setdefault("REELOPS_REDIS_URL", BENCH_REDIS)
    os.environ.setdefault("REELOPS_API_KEYS", secrets.token_urlsafe(24))
    from reelops.config import Settings
    from reelops.warehouse import create_database

    settings = Settings(profile="production")
    try:
        create_database(settings)
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3).ping()
    except (psycopg2.Error, redis.RedisError) as error:
        return f"production backends unreachable: {error}"
    return None


SERVED_MODELS = ("ranker", "bitrate", "artwork")


def prepare(home: Path) -> None:
    """The demo world through the daily DAG, then the training DAGs (auto release): the
    ranker, the bitrate model and the artwork policy `/recommend` chooses artwork with."""
    from reelops.config import Settings
    from reelops.registry import Registry

    registry = Registry(Settings(home=home))
    if all(registry.production(m) for m in SERVED_MODELS):
        return
    if not registry.production("ranker"):
        _reelops(home, "world", "generate", "--size", "demo")
        _reelops(home, "pipeline", "run", "--start", "2026-01-01", "--end", "2026-01-22")
    for model in SERVED_MODELS:
        if not registry.production(model):
            _reelops(home, model, "train")
    if not all(registry.production(m) for m in SERVED_MODELS):
        raise SystemExit(
            f"{home}: the trained models did not reach production (see `reelops models list`)"
        )


def _stats(samples: list[float]) -> dict:
    ms = np.asarray(samples) * 1e3
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
    }


def production_members(work: Path, home: Path | None = None):
    """The production home with its models (prepared here unless ``home`` has them) as
    this process's ``REELOPS_HOME``, its settings and members to request for.

    Raises:
        FileNotFoundError: PostgreSQL or Redis does not answer (``run.py`` reports the
            part as skipped).
    """
    from reelops.config import Settings

    os.environ["REELOPS_PROFILE"] = "production"
    if why := production_environ():
        raise FileNotFoundError(why)
    home = home or work / "serving-production"
    prepare(home)
    os.environ["REELOPS_HOME"] = str(home)
    settings = Settings(home=home, profile="production")
    return settings, _members(settings, IN_PROCESS_CALLS)


def _members(settings, n: int) -> list[str]:
    from reelops.privacy import MemberKeyVault
    from reelops.warehouse import read_mart

    daily = read_mart(settings, "world", "fct_member_daily")
    keys = sorted(daily.loc[daily["views_28d"] > 0, "member_key"].unique())
    rng = np.random.default_rng(0)
    chosen = rng.choice(keys, size=min(n, len(keys)), replace=False).tolist()
    with MemberKeyVault(settings) as vault:
        raw = vault.raw_ids("world", chosen)
    return [raw[k] for k in chosen]


def bench_in_process(settings, members: list[str]) -> list[dict]:
    from reelops.serving.bitrate import BitrateEndpoint
    from reelops.serving.recommend import RecommendEndpoint
    from reelops.serving.schemas import DecisionRequest, RecommendRequest

    recommend = RecommendEndpoint(settings, poll_seconds=0)
    for member in members:  # steady state, as a running service is: one pass to warm up
        recommend(RecommendRequest(member_id=member, k=10))
    samples, answers = [], []
    for member in members:
        t0 = time.perf_counter()
        answers.append(recommend(RecommendRequest(member_id=member, k=10)))
        samples.append(time.perf_counter() - t0)
    # The artwork share of it: the production artwork policy choosing for the same answers.
    from reelops.privacy import load_key, pseudonym

    key = load_key(settings)
    art_samples = []
    for member, answer in zip(members, answers, strict=True):
        titles = [t.title_id for t in answer.titles]
        member_key = pseudonym(member, key)
        t0 = time.perf_counter()
        recommend.artwork.choose(member_key, titles)
        art_samples.append(time.perf_counter() - t0)
    bitrate = BitrateEndpoint(settings, poll_seconds=0)
    request = DecisionRequest.model_validate(SESSION)
    for _ in range(WARM_UP):
        bitrate(request)
    bit_samples = []
    for _ in range(IN_PROCESS_CALLS):
        t0 = time.perf_counter()
        bitrate(request)
        bit_samples.append(time.perf_counter() - t0)
    return [
        {
            "endpoint": "/recommend",
            "mode": "in process",
            "concurrency": 1,
            **_stats(samples),
            "rps": round(len(samples) / sum(samples), 1),
            "errors": 0,
            "artwork_version": answers[0].artwork_version,
            "titles_with_artwork": sum(
                t.artwork_variant is not None for a in answers for t in a.titles
            ),  # fmt: skip
        },
        {
            "endpoint": "/recommend artwork",
            "mode": "in process",
            "concurrency": 1,
            **_stats(art_samples),
            "rps": round(len(art_samples) / sum(art_samples), 1),
            "errors": 0,
        },
        {
            "endpoint": "/bitrate",
            "mode": "in process",
            "concurrency": 1,
            **_stats(bit_samples),
            "rps": round(len(bit_samples) / sum(bit_samples), 1),
            "errors": 0,
        },
    ]


def _load(url: str, bodies: list[dict], key: str, concurrency: int) -> dict:
    import httpx

    latencies: list[float] = []
    errors = fallbacks = 0
    lock = threading.Lock()
    chunks = [bodies[i::concurrency] for i in range(concurrency)]

    def worker(mine: list[dict]) -> None:
        nonlocal errors, fallbacks
        with httpx.Client(headers={"X-API-Key": key}, timeout=30) as client:
            for body in mine:
                t0 = time.perf_counter()
                answer = client.post(url, json=body)
                took = time.perf_counter() - t0
                ok = answer.status_code == 200
                with lock:
                    latencies.append(took)
                    errors += not ok
                    fallbacks += ok and answer.json().get("fallback") is not None

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {
        **_stats(latencies),
        "rps": round(len(bodies) / wall, 1),
        "errors": errors,
        "fallbacks": fallbacks,
    }


# The /healthz prober as a process of its own, as a load balancer's probe is: polled from
# a thread of the load generator, its timings would include waiting for that process's
# GIL behind the eight client threads (the "from the load process" rows show how much).
PROBE = """
import json, sys, threading
from benchmarks.serving import poll
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
ready = lambda: print("probing", flush=True)
print(json.dumps(poll(sys.argv[1], stop, on_start=ready)))
"""


def poll(url: str, stop: threading.Event, on_start=None) -> dict:
    """GET ``url`` every ``HEALTH_EVERY_S`` until ``stop`` is set; the latencies and the
    number of answers other than 200. With ``on_start``, one untimed GET opens the
    connection first, then ``on_start()`` says probing has begun."""
    import httpx

    latencies, errors = [], 0
    with httpx.Client(timeout=30) as client:
        if on_start is not None:
            client.get(url)
            on_start()
        while not stop.is_set():
            t0 = time.perf_counter()
            status = client.get(url).status_code
            latencies.append(time.perf_counter() - t0)
            errors += status != 200
            stop.wait(HEALTH_EVERY_S)
    return {"latencies": latencies, "errors": errors}


@contextmanager
def _polled(url: str):
    """Poll ``url`` (GET) every ``HEALTH_EVERY_S`` while the block runs, from a prober
    process of its own and from a thread of this (the load's) process; yields a dict
    ``{"own process": stats, "load process": stats}``, filled in when the block ends."""
    probe = subprocess.Popen(
        [sys.executable, "-c", PROBE, url],
        cwd=RESULTS.parents[1],  # the checkout, where `benchmarks` imports from
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert probe.stdout.readline().strip() == "probing"
    stop, in_thread = threading.Event(), {}
    thread = threading.Thread(target=lambda: in_thread.update(poll(url, stop)))
    thread.start()
    out: dict = {}
    try:
        yield out
    finally:
        stop.set()
        thread.join()
        own = json.loads(probe.communicate(input="", timeout=60)[0])
        for where, polled in (("own process", own), ("load process", in_thread)):
            out[where] = {
                **_stats(polled["latencies"]),
                "rps": None,
                "errors": polled["errors"],
                "fallbacks": 0,
                "n": len(polled["latencies"]),
            }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_http(settings, members: list[str]) -> list[dict]:
    from reelops.serving.keys import configured_keys
    from reelops.serving.local import running_services

    key = configured_keys(settings)[0]
    ports = {"recommender": _free_port(), "bitrate": _free_port()}
    rows = []
    with running_services(settings, ports):
        rec = f"http://127.0.0.1:{ports['recommender']}/recommend"
        bit = f"http://127.0.0.1:{ports['bitrate']}/bitrate"
        # Warm up both services (caches, allocator, the first requests' imports).
        _load(rec, [{"member_id": m, "k": 10} for m in members[:WARM_UP]], key, 1)
        _load(bit, [SESSION] * WARM_UP, key, 1)
        for concurrency, n in HTTP_REQUESTS.items():
            bodies = [{"member_id": members[i % len(members)], "k": 10} for i in range(n)]
            rows.append(
                {
                    "endpoint": "/recommend",
                    "mode": "HTTP",
                    "concurrency": concurrency,
                    **_load(rec, bodies, key, concurrency),
                }
            )
            rows.append(
                {
                    "endpoint": "/bitrate",
                    "mode": "HTTP",
                    "concurrency": concurrency,
                    **_load(bit, [SESSION] * n, key, concurrency),
                }
            )
    return rows


@contextmanager
def _redis_url(url: str):
    """``REELOPS_REDIS_URL`` for the services started inside the block."""
    before = os.environ.get("REELOPS_REDIS_URL")
    os.environ["REELOPS_REDIS_URL"] = url
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("REELOPS_REDIS_URL", None)
        else:
            os.environ["REELOPS_REDIS_URL"] = before


def bench_under_load(settings, members: list[str], store: str) -> list[dict]:
    """Each endpoint at concurrency 8 over HTTP with its service's ``/healthz`` polled
    alongside; ``store`` labels the rows (the services read ``REELOPS_REDIS_URL``)."""
    from reelops.serving.keys import configured_keys
    from reelops.serving.local import running_services

    key = configured_keys(settings)[0]
    ports = {"recommender": _free_port(), "bitrate": _free_port()}
    concurrency, n = UNDER_LOAD
    rows = []
    with running_services(settings, ports):
        loads = {
            "recommender": (
                "/recommend",
                [{"member_id": members[i % len(members)], "k": 10} for i in range(n)],
            ),
            "bitrate": ("/bitrate", [SESSION] * n),
        }
        for name, (route, bodies) in loads.items():
            base = f"http://127.0.0.1:{ports[name]}"
            _load(base + route, bodies[:WARM_UP], key, 1)
            with _polled(base + "/healthz") as health:
                answered = _load(base + route, bodies, key, concurrency)
            probes = [(f"/healthz ({name}, {where})", health[where]) for where in health]
            for endpoint, figures in ((route, answered), *probes):
                rows.append(
                    {"endpoint": endpoint, "mode": "HTTP", "concurrency": concurrency}
                    | figures
                    | {"online_store": store}
                )
    return rows


def bench_store_down(settings, members: list[str]) -> list[dict]:
    """The same load with Redis up, then with ``REELOPS_REDIS_URL`` on a closed port."""
    rows = bench_under_load(settings, members, "Redis up")
    closed = f"redis://127.0.0.1:{_free_port()}/0"  # bound, then closed: nothing listens
    with _redis_url(closed):
        rows += bench_under_load(settings, members, "Redis down")
    return rows


def run(
    work: Path,
    home: Path | None = None,
    profiles: tuple[str, ...] = ("local", "production"),
    *,
    store_down_only: bool = False,
) -> list[dict]:
    """Prepare (or reuse) a served world per profile and measure; one row per profile,
    endpoint, mode and load (``home`` is reused for the first profile only). On
    production, the store up/down rows follow (only those with ``store_down_only``)."""
    rows = []
    for i, profile in enumerate(profiles):
        os.environ["REELOPS_PROFILE"] = profile  # the CLI runs and the services read it
        if profile == "production" and (why := production_environ()):
            _log(f"production profile skipped: {why}")
            continue
        if store_down_only and profile != "production":
            continue
        profile_home = (home if i == 0 else None) or work / f"serving-{profile}"
        rows += _run_profile(profile_home, profile, store_down_only=store_down_only)
    return rows


def _run_profile(home: Path, profile: str, *, store_down_only: bool = False) -> list[dict]:
    from reelops.config import Settings

    prepare(home)
    os.environ["REELOPS_HOME"] = str(home)
    settings = Settings(home=home, profile=profile)
    members = _members(settings, IN_PROCESS_CALLS)
    rows = []
    if not store_down_only:
        rows = bench_in_process(settings, members) + bench_http(settings, members)
        base = {r["endpoint"]: r["p50_ms"] for r in rows if r["mode"] == "in process"}
        for row in rows:
            row["p50_vs_in_process"] = round(row["p50_ms"] / base[row["endpoint"]], 2)
            row["online_store"] = STORES[profile]
    if profile == "production":
        rows += bench_store_down(settings, members)
    return rows


def print_table(rows: list[dict]) -> None:
    print(
        f"{'store':<7} {'endpoint':<18} {'mode':<11} {'conc':>4} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'req/s':>7} {'errors':>6} {'p50/in-proc':>11}"
    )
    for r in rows:
        if "p50_vs_in_process" not in r:
            continue
        print(
            f"{r['online_store']:<7} {r['endpoint']:<18} {r['mode']:<11} {r['concurrency']:>4} "
            f"{r['p50_ms']:>8} "
            f"{r['p99_ms']:>8} {r['rps']:>7} {r['errors']:>6} {r['p50_vs_in_process']:>11}"
        )
    loaded = [r for r in rows if "p50_vs_in_process" not in r]
    if loaded:
        print(
            f"\nRedis up vs down (closed port), concurrency {UNDER_LOAD[0]} over HTTP, "
            "/healthz polled during each endpoint's load"
        )
        print(
            f"{'store':<10} {'endpoint':<40} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>7} "
            f"{'errors':>6} {'fallbacks':>9}"
        )
        for r in loaded:
            print(
                f"{r['online_store']:<10} {r['endpoint']:<40} {r['p50_ms']:>8} {r['p99_ms']:>8} "
                f"{r['rps'] if r['rps'] is not None else '':>7} {r['errors']:>6} "
                f"{r['fallbacks']:>9}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, help="a REELOPS_HOME with production models")
    parser.add_argument(
        "--profile",
        choices=list(STORES),
        action="append",
        help="measure only these profiles (default: local, then production)",
    )
    parser.add_argument(
        "--store-down",
        action="store_true",
        help="only the Redis up vs down comparison (production profile)",
    )
    args = parser.parse_args()
    import tempfile

    profiles = tuple(args.profile or (["production"] if args.store_down else STORES))
    with tempfile.TemporaryDirectory(prefix="reelops-serving-") as tmp:
        rows = run(Path(tmp), args.home, profiles, store_down_only=args.store_down)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / ("serving_store_down.json" if args.store_down else "serving.json")
    out.write_text(json.dumps({"cpus": os.cpu_count(), "rows": rows}, indent=2))
    print_table(rows)
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
