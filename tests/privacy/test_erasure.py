"""Export, scan and erasure of one member across every store of a small world."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from small_world import END, START

from reelops import lake
from reelops.erasure.file_stores import ServingLogStore
from reelops.erasure.identity import UnknownMemberError, resolve
from reelops.erasure.report import export, scan, scan_summary, with_sessions
from reelops.erasure.requests import (
    DONE,
    QUEUED,
    RUNNING,
    audit_path,
    erase_member,
    known_member,
    list_requests,
    load_request,
    process_queue,
    queue_erasure,
)
from reelops.erasure.stores import STORE_TYPES

pytestmark = pytest.mark.slow


def _snapshot(home) -> dict[str, tuple[int, int]]:
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(home.rglob("*"))
        if p.is_file() and p.name != ".run.lock"
    }


def _rows_about(settings, member) -> dict[str, int]:
    return scan_summary(scan(settings, known_member(settings, member)))


def test_unknown_member_is_refused_and_nothing_changes(world):
    settings = world.settings
    before = _snapshot(settings.home)
    with pytest.raises(UnknownMemberError, match="no member 'm999999' in source 'world'"):
        erase_member(settings, "world", "m999999")
    with pytest.raises(UnknownMemberError):
        queue_erasure(settings, "world", "m999999")
    assert _snapshot(settings.home) == before


def test_export_lists_every_store_and_only_this_member(world):
    settings = world.settings
    member, erased = resolve(settings, "world", world.members[1])
    assert not erased
    document = export(settings, member)
    assert [s["store"] for s in document["stores"]] == [t.name for t in STORE_TYPES]
    tables = {s["store"]: {t["table"]: t["rows"] for t in s["tables"]} for s in document["stores"]}
    assert tables["id_vault"]["member_keys"][0]["member_id"] == world.members[1]
    assert len(tables["lake"]["members"]) == 1
    assert tables["lake"]["viewing_events"], "a member with views has viewing rows"
    assert tables["feast_online"], "materialized member features are in the online store"
    sessions = {r["session_id"] for r in tables["lake"].get("playback_sessions", [])}
    for store, by_table in tables.items():
        for table, rows in by_table.items():
            for row in rows:
                if "member_key" in row:
                    assert row["member_key"] == member.member_key, (store, table)
                elif "session_id" in row:
                    assert row["session_id"] in sessions, (store, table)
    for store in document["stores"]:
        assert store["purposes"], store["store"]
    [ranker] = [m for m in document["models_trained_on_your_data"] if m["model"] == "ranker"]
    assert ranker["source"] == "world" and len(ranker["data_interval"]) == 2
    json.dumps(document, default=str)  # the CLI writes it as JSON


def test_erasure_killed_between_stores_resumes_and_scan_is_clean(world, monkeypatch):
    settings = world.settings
    member_id = world.members[2]
    member, _ = resolve(settings, "world", member_id)
    assert sum(_rows_about(settings, member).values()) > 0

    def killed(self, member):
        raise KeyboardInterrupt("killed between two stores")

    monkeypatch.setattr(ServingLogStore, "erase", killed)
    with pytest.raises(KeyboardInterrupt):
        erase_member(settings, "world", member_id)
    [request] = [r for r in list_requests(settings) if r.member_key == member.member_key]
    # As a killed process leaves it: still running, the first store recorded done.
    assert request.state == RUNNING
    assert request.stores["lake"]["state"] == DONE and "serving_logs" not in request.stores
    assert _rows_about(settings, member)["lake"] == 0
    assert _rows_about(settings, member)["warehouse"] > 0  # not reached yet

    monkeypatch.undo()
    done = erase_member(settings, "world", member_id)
    assert done.state == DONE and done.member_id is None
    assert done.stores["lake"]["removed"] > 0  # the first run's count, kept
    assert set(done.scan_after.values()) == {0}
    assert set(_rows_about(settings, member).values()) == {0}
    entry = json.loads(audit_path(settings).read_text().splitlines()[-1])
    assert entry["request"] == done.id and set(entry["scan_after"].values()) == {0}
    assert [m["model"] for m in entry["models_trained_before_erasure"]] == ["ranker"]
    assert member_id not in audit_path(settings).read_text()
    assert member_id not in (settings.home / "privacy" / "requests" / f"{done.id}.json").read_text()

    again = erase_member(settings, "world", member_id)  # harmless
    assert again.state == DONE and sum(s["removed"] for s in again.stores.values()) == 0
    assert again.session_ids == done.session_ids  # still known to later scans
    assert again.models_trained_on == done.models_trained_on


def test_relanding_the_source_does_not_bring_an_erased_member_back(world):
    from reelops.features.materialize import materialize
    from reelops.ingest import land_interval
    from reelops.warehouse import build

    settings = world.settings
    for member_id in world.members[3:20]:  # one with playback sessions
        member, _ = resolve(settings, "world", member_id)
        sessions = with_sessions(settings, member).session_ids
        if sessions:
            break
    assert sessions
    erase_member(settings, "world", member_id)
    land_interval(settings, "world", START, END)
    build(settings, "world")
    materialize(settings, start=START, end=END, source="world")
    assert set(_rows_about(settings, member).values()) == {0}
    # Their sessions' chunk telemetry (no member column) stays out as well.
    lake_dir = settings.lake_dir("world")
    landed = {
        session
        for _, path in lake.partitions(lake_dir, "delivery_chunks")
        for session in pq.read_table(path, columns=["session_id"]).column(0).to_pylist()
    }
    assert landed and not sessions & landed
    # Others are still there.
    other, _ = resolve(settings, "world", world.members[20])
    assert _rows_about(settings, other)["lake"] > 0


def test_queued_requests_are_carried_out_and_recorded(world):
    settings = world.settings
    request = queue_erasure(settings, "world", world.members[5])
    assert load_request(settings, request.id).state == QUEUED
    member, _ = resolve(settings, "world", world.members[5])
    assert _rows_about(settings, member)["id_vault"] == 1
    from reelops.orchestration.privacy import process_erasures

    handled = process_erasures()  # the reelops_privacy DAG's task, outside Airflow
    assert {"id": request.id, "state": DONE, "error": None} in handled
    assert load_request(settings, request.id).state == DONE
    assert set(_rows_about(settings, member).values()) == {0}
    assert process_queue(settings) == []


def test_recommend_answers_an_erased_member_as_a_newcomer(world):
    from reelops.serving.recommend import RecommendEndpoint
    from reelops.serving.schemas import RecommendRequest

    settings = world.settings
    member_id = world.members[0]
    ask = RecommendRequest(member_id=member_id, k=10, context={"country": "US"})
    newcomer = RecommendRequest(member_id="never-seen", k=10, context={"country": "US"})
    before = RecommendEndpoint(settings, poll_seconds=0)(ask)
    assert not before.cold_start
    erase_member(settings, "world", member_id)
    endpoint = RecommendEndpoint(settings, poll_seconds=0)  # a service (re)started after
    after, fresh = endpoint(ask), endpoint(newcomer)
    assert after.cold_start and after.fallback is None
    assert [t.title_id for t in after.titles] == [t.title_id for t in fresh.titles]


def test_cli_scan_exit_codes_export_file_and_unknown_member(world, tmp_path):
    from typer.testing import CliRunner

    from reelops.cli.main import app

    runner = CliRunner()
    member_id = world.members[6]
    present = runner.invoke(app, ["privacy", "scan", "--member", member_id])
    assert present.exit_code == 1, present.output
    assert "lake" in present.output and "rows/mentions found" in present.output
    out = tmp_path / "export.json"
    exported = runner.invoke(app, ["privacy", "export", "--member", member_id, "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert json.loads(out.read_text())["member_id"] == member_id
    erased = runner.invoke(app, ["privacy", "erase", "--member", member_id])
    assert erased.exit_code == 0, erased.output
    clean = runner.invoke(app, ["privacy", "scan", "--member", member_id])
    assert clean.exit_code == 0 and "(erased): no traces found" in clean.output
    unknown = runner.invoke(app, ["privacy", "erase", "--member", "m999999"])
    assert unknown.exit_code == 2 and "no member 'm999999'" in unknown.output


def test_privacy_dag_carries_out_a_queued_request_through_airflow(world):
    from reelops.orchestration.runs import run_dag

    settings = world.settings
    member_id = world.members[7]
    request = queue_erasure(settings, "world", member_id)
    result = run_dag(settings, "reelops_privacy")
    assert result.state == "success", result.task_states
    assert result.task_states == {"process_erasures": "success"}
    assert load_request(settings, request.id).state == DONE
    member, _ = resolve(settings, "world", member_id)
    found = _rows_about(settings, member)
    assert set(found.values()) == {0}, found  # Airflow's own XComs and logs included


def test_serving_logs_and_their_spill_folder_lose_only_this_members_rows(world):
    from datetime import UTC, datetime

    import pyarrow as pa

    from reelops.serving.prediction_log import SCHEMA, append_rows, read_logs

    settings = world.settings
    lake_dir = settings.lake_dir("world")
    gone, _ = resolve(settings, "world", world.members[8])
    kept, _ = resolve(settings, "world", world.members[9])

    def row(key: str, extra: str = "") -> dict:
        return {
            "logged_at": datetime(2026, 1, 12, 9, tzinfo=UTC),
            "endpoint": "recommend",
            "model_name": "ranker",
            "model_version": "v",
            "member_key": key,
            "features": json.dumps({"k": 10, "seen_with": extra}),
            "output": json.dumps({"titles": ["t00001"]}),
            "latency_ms": 1.0,
            "fallback": False,
        }

    # One of theirs, one of another member's that merely mentions theirs in its JSON.
    append_rows(lake_dir, [row(gone.member_key), row(kept.member_key), row("x", gone.member_key)])
    # The writer's default spill folder and the one the BentoML services use.
    spills = [lake_dir.parent / ".spill-serving_logs", settings.home / "spill" / "serving_logs"]
    spilled = pa.Table.from_pylist([row(gone.member_key)], schema=SCHEMA)
    for spill in spills:
        spill.mkdir(parents=True, exist_ok=True)
        pq.write_table(spilled, spill / "spill-1.parquet")
    assert _rows_about(settings, gone)["serving_logs"] == 4

    done = erase_member(settings, "world", world.members[8])
    assert done.stores["serving_logs"]["removed"] == 4
    assert read_logs(lake_dir).column("member_key").to_pylist() == [kept.member_key]
    for spill in spills:
        assert pq.read_table(spill / "spill-1.parquet").num_rows == 0
