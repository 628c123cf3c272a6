"""`make demo`: generate a world, run the daily DAG through Airflow, show what it built."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from reelops.config import get_settings
from reelops.sources import source_info

DAILY_RUNS = 2  # the last days run one DAG run each, like the scheduler would


def _step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def _reelops(args: list[str], log: Path) -> float:
    """Run a `reelops` command, its (long) output going to ``log``; returns seconds."""
    started = time.perf_counter()
    with open(log, "w") as fh:
        done = subprocess.run(
            [sys.executable, "-m", "reelops.cli", *args], stdout=fh, stderr=subprocess.STDOUT
        )
    if done.returncode != 0:
        print(log.read_text()[-4000:])
        raise SystemExit(f"`reelops {' '.join(args)}` failed; full log: {log}")
    return time.perf_counter() - started


def _dbt_tests(run_results: Path) -> tuple[int, int]:
    results = json.loads(run_results.read_text())["results"]
    tests = [r for r in results if r["unique_id"].startswith(("test.", "unit_test."))]
    return sum(r["status"] == "pass" for r in tests), len(tests)


def _show_online_features(settings) -> None:
    """One member's and one network context's online features, then each view's freshness."""
    from reelops.features.describe import describe_store, freshness_lines
    from reelops.features.online import member_lookup
    from reelops.features.store import open_store
    from reelops.privacy import MemberKeyVault
    from reelops.warehouse import read_mart

    repo = open_store(settings, "world")
    daily = read_mart(settings, "world", "fct_member_daily")
    latest = daily[daily["feature_date"] == daily["feature_date"].max()]
    busiest = latest.sort_values(["views_7d", "member_key"], ascending=False).iloc[0]
    with MemberKeyVault(settings) as vault:
        member_id = vault.raw_ids("world", [busiest["member_key"]])[busiest["member_key"]]
    member_lookup(settings, member_id, repo=repo)  # the first call loads the registry
    result = member_lookup(settings, member_id, repo=repo)
    member = result.member
    values = {name.split("__", 1)[1]: value for name, value in member.values.items()}
    tastes = sorted(
        ((name[4:], v) for name, v in values.items() if name.startswith("aff_") and v),
        key=lambda item: -item[1],
    )[:3]
    print(f"  request time {result.request_time}; ttl-expired values would show as missing")
    print(
        f"  member {member_id} (pseudonym {member.key[:12]}…): {len(member.values)} features, "
        f"{len(member.missing)} missing or stale"
    )
    print(
        f"    views_7d {values['views_7d']}, watch_hours_28d {values['watch_hours_28d']:.1f}, "
        f"completion_rate_28d {values['completion_rate_28d']:.2f}, top genres "
        + ", ".join(f"{g} {v:.2f}" for g, v in tastes)
    )
    if result.network is not None:
        net = {n.split("__", 1)[1]: v for n, v in result.network.values.items()}
        if result.network.missing:
            print(f"  network {result.network.key}: missing {result.network.missing}")
        else:
            print(
                f"  network {result.network.key}: {net['sessions_7d']} sessions in 7 days, "
                f"throughput p10/p50/p90 {net['throughput_p10_7d']:.1f}/"
                f"{net['throughput_p50_7d']:.1f}/{net['throughput_p90_7d']:.1f} Mbit/s, "
                f"rebuffer ratio {net['rebuffer_ratio_7d']:.3%}"
            )
    print(f"  online lookup took {result.seconds * 1000:.0f} ms")
    print("  freshness (materialization watermark vs newest feature in the marts)")
    for line in freshness_lines(describe_store(settings, repo=repo)):
        print("  " + line)


def main() -> None:
    settings = get_settings()
    logs = settings.home / "demo-logs"
    logs.mkdir(parents=True, exist_ok=True)
    print(f"ReelOps demo — profile {settings.profile}, everything under {settings.home}")

    _step("1. Generate the synthetic streaming world (seeded, with hidden ground truth)")
    took = _reelops(["world", "generate", "--size", "demo"], logs / "world.log")
    info = source_info(settings, "world")
    for table, rows in info.rows.items():
        print(f"  {table:<18} {rows:>10,} rows")
    print(f"  generated in {took:.1f} s; ground truth kept apart in {info.path / 'truth'}")

    first = datetime.combine(info.first_ts.date(), datetime.min.time())
    end = datetime.combine(info.last_ts.date(), datetime.min.time()) + timedelta(days=1)
    history_end = end - timedelta(days=DAILY_RUNS)
    _step("2. Run the daily DAG through Airflow (dag.test: real task runs, XComs, Assets)")
    runs = [(first, history_end)] + [
        (history_end + timedelta(days=i), history_end + timedelta(days=i + 1))
        for i in range(DAILY_RUNS)
    ]
    for i, (a, b) in enumerate(runs):
        label = "history backfill as one run" if i == 0 else "one day"
        log = logs / f"pipeline-{a.date()}.log"
        args = ["pipeline", "run", "--start", str(a.date()), "--end", str(b.date())]
        took = _reelops(args, log)
        print(f"  reelops_daily [{a.date()}, {b.date()})  {label:<28} ok in {took:5.1f} s")

    _step("3. What the warehouse holds now")
    marts = settings.marts_dir("world")
    for path in sorted(marts.glob("*.parquet")):
        print(f"  {path.stem:<26} {pq.read_metadata(path).num_rows:>10,} rows")
    run_results = settings.home / "dbt" / "world" / "target" / "run_results.json"
    passed, total = _dbt_tests(run_results)
    print(f"  dbt tests (data + unit): {passed}/{total} passed in the last build")

    _step("4. Online features from Feast, as of the last run's end")
    _show_online_features(settings)

    _step("Where things are")
    print(f"  raw source (upstream)   {info.path}")
    print(f"  lake (pseudonymized)    {settings.lake_dir('world') / 'raw'}")
    print(f"  warehouse (DuckDB)      {settings.duckdb_path('world')}")
    print(f"  feature marts (parquet) {marts}")
    print(f"  Feast registry + online {settings.home / 'feast' / 'world'}")
    print(f"  Airflow home            {settings.airflow_home}")
    print(f"  private key + id vault  {settings.private_dir}  (owner-only)")
    print(f"  logs of this demo       {logs}")

    _step("Try next")
    print("  make airflow                          # the Airflow UI with these DAG runs")
    print("  .venv/bin/reelops info                # profile, paths, active source")
    print("  .venv/bin/reelops features describe   # entities, views, services, freshness")
    print("  .venv/bin/reelops features get --member m000001")
    print("  .venv/bin/reelops world generate --size large")
    print("  .venv/bin/reelops import movielens ~/ml-100k && .venv/bin/reelops pipeline run ...")


if __name__ == "__main__":
    main()
