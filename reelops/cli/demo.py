"""`make demo`: generate a world, run the daily DAG through Airflow, show what it built."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pyarrow.parquet as pq

from reelops.config import get_settings
from reelops.sources import source_info

DAILY_RUNS = 2  # the last days run one DAG run each, like the scheduler would


def _step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def _reelops(args: list[str], log: Path, ok: tuple[int, ...] = (0,)) -> float:
    """Run a `reelops` command, its (long) output going to ``log``; returns seconds.

    ``ok``: the exit codes that are answers, not failures (``monitor run`` exits 1 when a
    check failed)."""
    started = time.perf_counter()
    with open(log, "w") as fh:
        done = subprocess.run(
            [sys.executable, "-m", "reelops.cli", *args], stdout=fh, stderr=subprocess.STDOUT
        )
    if done.returncode not in ok:
        print(log.read_text()[-4000:])
        raise SystemExit(f"`reelops {' '.join(args)}` failed; full log: {log}")
    return time.perf_counter() - started


def _dbt_tests(run_results: Path) -> tuple[int, int]:
    results = json.loads(run_results.read_text())["results"]
    tests = [r for r in results if r["unique_id"].startswith(("test.", "unit_test."))]
    return sum(r["status"] == "pass" for r in tests), len(tests)


def _show_online_features(settings) -> None:
    """One member's and one network context's online features, then each view's freshness."""
    from reelops.features.describe import describe_store, freshness_lines, member_lookup
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


def _show_model(settings, model: str) -> None:
    """The production version's evaluation beside the baselines, and its gate table."""
    from reelops.bitrate.train import demo_summary as bitrate_summary
    from reelops.quality.release import release_summary
    from reelops.ranking.train import demo_summary as ranker_summary
    from reelops.registry import Registry

    newest = Registry(settings).list(model)[-1]
    summary = ranker_summary if model == "ranker" else bitrate_summary
    print(_indent(summary(settings, newest.version)))
    print(_indent(release_summary(settings, model, newest.version)))


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.rstrip().splitlines())


def _show_artwork(settings) -> None:
    """Draw two members with different tastes and the artwork each sees on one home row."""
    from reelops.artwork.home_picture import write_two_members_picture

    path = write_two_members_picture(
        settings, "world", settings.reports_dir / "artwork_two_members.png"
    )
    print(f"  picture: {path}")
    print("  one title's variants as PNG: .venv/bin/reelops artwork render --title ID --out DIR")


def _show_content(settings, logs: Path) -> None:
    """The world's scripts through the content DAG, then the genome of one title."""
    from reelops.warehouse import read_mart

    took = _reelops(["import", "scripts"], logs / "scripts-import.log")
    print(f"  reelops import scripts: one screenplay per title landed in {took:.0f} s")
    took = _reelops(["pipeline", "content"], logs / "content.log")
    print(f"  reelops_content (analyze, genome, dbt, materialize) ok in {took:.0f} s")
    genome = read_mart(settings, "world", "dim_title_genome")
    shapes = genome["arc_shape"].value_counts()
    print(
        f"  dim_title_genome: {len(genome)} titles; arc shapes "
        + ", ".join(f"{shape} {count}" for shape, count in shapes.items())
    )
    title = str(genome["title_id"].iloc[0])
    _reelops(["genome", "similar", title, "--top", "3"], logs / "genome-similar.log")
    for line in (logs / "genome-similar.log").read_text().splitlines()[-4:]:
        print(f"  {line}")


def _show_monitoring(day: datetime, logs: Path) -> None:
    """One day of members answering the endpoints, landed, then the monitoring checks."""
    took = _reelops(["world", "traffic", "--days", "1"], logs / "traffic.log")
    print(f"  reelops world traffic --days 1: {day.date()} played in {took:.0f} s")
    after = day + timedelta(days=1)
    args = ["pipeline", "run", "--start", str(day.date()), "--end", str(after.date())]
    took = _reelops(args, logs / f"pipeline-{day.date()}.log")
    print(f"  reelops_daily [{day.date()}, {after.date()}) landed the day in {took:.0f} s")
    log = logs / "monitor.log"
    _reelops(["monitor", "run", "--date", str(day.date())], log, ok=(0, 1))
    for line in log.read_text().splitlines():
        if line.strip() and not line.startswith(" " * 4):
            print(f"  {line}")


def _call_services(settings) -> None:
    """Start both services, call each endpoint with real examples, print, stop."""

    from reelops.serving.keys import configured_keys
    from reelops.serving.local import running_services
    from reelops.serving.recommend import example_member
    from reelops.serving.schemas import EXAMPLE_BITRATE

    key = configured_keys(settings)[0]
    member = example_member(settings)
    headers = {"X-API-Key": key}
    print(f"  API key (local profile, header X-API-Key): {key}")
    with running_services(settings) as ports:
        rec = f"http://127.0.0.1:{ports['recommender']}"
        bit = f"http://127.0.0.1:{ports['bitrate']}"
        body = {"member_id": member, "k": 5}
        answer = httpx.post(f"{rec}/recommend", json=body, headers=headers, timeout=30)
        print(f"  POST /recommend {json.dumps(body)} -> {answer.status_code}")
        answer_titles = [title["title_id"] for title in answer.json()["titles"]]
        # The picture of the variant the member was served (v1 without an artwork policy).
        served_variant = answer.json()["titles"][0].get("artwork_variant")
        for title in answer.json()["titles"]:
            artwork = (
                f"  artwork {title['artwork_variant']} (p={title['artwork_propensity']:.2f})"
                if title.get("artwork_variant")
                else ""
            )
            print(
                f"    {title['rank']}. {title['title_id']:<8} score {title['score']:.3f}"
                f"  via {title['source']}{artwork}"
            )
        cold = {"member_id": "someone-new", "k": 3, "context": {"country": "BR"}}
        answer = httpx.post(f"{rec}/recommend", json=cold, headers=headers, timeout=30).json()
        print(
            f"  POST /recommend {json.dumps(cold)} -> cold_start={answer['cold_start']}: "
            + ", ".join(t["title_id"] for t in answer["titles"])
        )
        session = EXAMPLE_BITRATE
        answer = httpx.post(f"{bit}/bitrate", json=session, headers=headers, timeout=30).json()
        print(
            f"  POST /bitrate (3 chunks, 9.5 s buffer, US cable) -> level {answer['level']} "
            f"({answer['bitrate_kbps']:.0f} kbit/s), throughput quantiles {answer['quantiles']}"
        )
        bad = httpx.post(f"{bit}/bitrate", json={**session, "buffer_s": -1}, headers=headers)
        print(f"  POST /bitrate with buffer_s -1 -> {bad.status_code}: {bad.json()['error'][:60]}")
        nokey = httpx.post(f"{rec}/recommend", json=body)
        print(f"  POST /recommend without a key -> {nokey.status_code}")
        top = answer_titles[0]
        variant = served_variant or f"{top}-v1"
        for path in (f"/artwork/{top}/{variant}.png", f"/artwork/{top}/no-such-variant.png"):
            image = httpx.get(f"{rec}{path}", headers=headers, timeout=30)
            print(f"  GET {path} -> {image.status_code} {image.headers['content-type']}, "
                  f"{len(image.content):,} bytes")  # fmt: skip
        info = httpx.post(f"{rec}/model-info", headers=headers, json={}).json()
        print(f"  model-info: ranker {info['version']} ({info['stage']}), ready={info['ready']}")
    print("  services stopped; prediction logs flushed to the lake's serving_logs")


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

    _step("5. Train the ranker: reelops_ranker DAG (search, train, evaluate, gates, release)")
    took = _reelops(["ranker", "train"], logs / "ranker.log")
    print(f"  reelops_ranker ok in {took:.0f} s")
    _show_model(settings, "ranker")

    _step("6. Train the bitrate model: reelops_bitrate DAG (train, simulate, gates, release)")
    took = _reelops(["bitrate", "train"], logs / "bitrate.log")
    print(f"  reelops_bitrate ok in {took:.0f} s")
    _show_model(settings, "bitrate")

    _step("7. Train the artwork policy: reelops_artwork DAG (off-policy evaluation, gates)")
    log = logs / "artwork.log"
    took = _reelops(["artwork", "train"], log)
    print(f"  reelops_artwork ok in {took:.0f} s")
    print(_indent("\n".join(log.read_text().strip().splitlines()[-2:])))

    _step("8. Serve the models (BentoML) and call each endpoint")
    _call_services(settings)

    _step("9. Personalized artwork: two members' home rows, artwork chosen from logged plays")
    _show_artwork(settings)

    _step("10. Scripts and the content genome: reelops_content DAG")
    _show_content(settings, logs)

    _step("11. Closing the loop: members answer the endpoints for a day, then monitoring")
    _show_monitoring(end, logs)

    _step("Where things are")
    print(f"  raw source (upstream)   {info.path}")
    print(f"  lake (pseudonymized)    {settings.lake_dir('world') / 'raw'}")
    print(f"  warehouse (DuckDB)      {settings.duckdb_path('world')}")
    print(f"  feature marts (parquet) {marts}")
    print(f"  Feast registry + online {settings.home / 'feast' / 'world'}")
    print(f"  Airflow home            {settings.airflow_home}")
    print(f"  models (BentoML store)  {settings.home / 'bentoml' / 'models'}")
    print(f"  gate reports            {settings.reports_dir}")
    print(f"  serving logs (lake)     {settings.lake_dir('world') / 'raw' / 'serving_logs'}")
    print(f"  monitoring reports      {settings.home / 'monitoring' / 'world'}")
    print(f"  private key + id vault  {settings.private_dir}  (owner-only)")
    print(f"  logs of this demo       {logs}")

    _step("Try next")
    print("  make airflow                          # the Airflow UI with these DAG runs")
    print("    then http://127.0.0.1:8080/reelops/  # gate tables, plots, Evidently reports")
    print("  make serve                            # /recommend and /bitrate on :3000 / :3001")
    print("  .venv/bin/reelops models list         # versions, stages; `models show` for gates")
    print("  .venv/bin/reelops info                # profile, paths, active source")
    print("  .venv/bin/reelops features describe   # entities, views, services, freshness")
    print("  .venv/bin/reelops features get --member m000001")
    print("  .venv/bin/reelops world generate --size large")
    print("  .venv/bin/reelops import movielens ~/ml-100k && .venv/bin/reelops pipeline run ...")


if __name__ == "__main__":
    main()
