"""The daily DAG under Airflow's own scheduler, executor and REST API, beside the CLI's runs.

One Airflow stack (api-server, scheduler, dag-processor on a free port) serves every
test here, on a tiny world whose six days end yesterday. In order:

1. ``reelops pipeline run`` over the whole span with no Airflow up: in-process, quiet;
2. the scheduler's own run of yesterday (its data interval, nobody asked for it);
3. ``reelops pipeline run`` again with Airflow up: triggered through the REST API with
   Params, as the UI's trigger form does, and followed to the end;
4. a trigger without conf (the UI's form left empty): it covers the day before it;
5. ``airflow backfill create`` over two days: one run per day.

Every run must succeed, cover the interval it should, and land the same bytes as
the in-process run.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from airflow_stack import airflow_stack, finished_run, lake_digests, wait

from reelops.config import Settings, airflow_environ
from reelops.orchestration.runs import airflow_bin
from reelops.schema import RAW_TABLES
from reelops.world.generator import WorldConfig
from reelops.world.synthetic_source import generate_source

DAG = "reelops_daily"
TODAY = datetime.now(UTC).date()
DAYS = [TODAY - timedelta(days=n) for n in range(6, 0, -1)]  # the world's six days
BACKFILL = DAYS[2:4]  # logical dates; each run covers [day, day + 1)
SNAPSHOTS = {name for name, spec in RAW_TABLES.items() if spec.kind == "snapshot"}
# The module's one fixture runs every step (about 8 minutes on a quiet machine); its
# time counts against the first test, so allow more than the suite's 15 minutes.
pytestmark = pytest.mark.timeout(2400)


def _midnight(day: date) -> str:
    return datetime.combine(day, datetime.min.time()).isoformat()


def _reelops(settings: Settings, *args: str, code: int = 0) -> str:
    env = {**os.environ, "REELOPS_HOME": str(settings.home), "REELOPS_PROFILE": "local"}
    done = subprocess.run(
        [sys.executable, "-m", "reelops.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == code, (done.stdout[-4000:], done.stderr[-4000:])
    return done.stdout + done.stderr


def _landed(api, run_id: str) -> tuple[str, str]:
    """The interval the run's ``land`` task says it landed."""
    path = f"/dags/{DAG}/dagRuns/{run_id}/taskInstances/land/xcomEntries/return_value"
    value = api.client.get(path, params={"deserialize": True, "stringify": False}).json()["value"]
    return value["start"], value["end"]


def _pause_training_dags(settings: Settings) -> None:
    # The in-process run queued Asset events for both training DAGs; this module is
    # about the daily DAG, so they must not start when the scheduler does.
    with sqlite3.connect(settings.airflow_home / "airflow.db", timeout=60) as db:
        db.execute("update dag set is_paused = 1 where dag_id != ?", (DAG,))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Everything above, once; what each step produced, for the tests to judge."""
    settings = Settings(home=tmp_path_factory.mktemp("scheduling") / "home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REELOPS_HOME", str(settings.home))
        patch.setenv("REELOPS_PROFILE", "local")
        generate_source(settings, WorldConfig.tiny(days=len(DAYS), start=DAYS[0]))
        found = {"settings": settings}
        found["cli_quiet"] = _reelops(
            settings, "pipeline", "run", "--start", str(DAYS[0]), "--end", str(TODAY)
        )
        found["lake_in_process"] = lake_digests(settings)
        _pause_training_dags(settings)
        with airflow_stack(settings) as (api, _):
            api.wait_for_dag(DAG)
            in_process = [r for r in api.dag_runs(DAG) if r["run_type"] == "manual"]
            found["in_process"] = in_process
            scheduled = wait(
                "the scheduler's own run",
                lambda: next((r for r in api.dag_runs(DAG) if r["run_type"] == "scheduled"), None),
            )
            found["scheduled"] = scheduled
            found["scheduled_state"] = wait(
                "the scheduled run", lambda: finished_run(api, DAG, scheduled["dag_run_id"])
            )
            found["cli_rest"] = _reelops(
                settings, "pipeline", "run", "--start", str(DAYS[0]), "--end", str(DAYS[1])
            )
            empty = api.trigger(DAG, conf={})
            found["empty_state"] = wait("the empty trigger", lambda: finished_run(api, DAG, empty))
            found["empty"] = api.dag_run(DAG, empty)
            env = {**os.environ, **airflow_environ(settings)}
            backfill = subprocess.run(
                [str(airflow_bin()), "backfill", "create", "--dag-id", DAG]
                + ["--from-date", str(BACKFILL[0]), "--to-date", str(BACKFILL[-1])]
                + ["--max-active-runs", "1"],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert backfill.returncode == 0, backfill.stderr[-3000:]

            def backfilled():
                got = [r for r in api.dag_runs(DAG) if r["run_type"] == "backfill"]
                done = len(got) == len(BACKFILL) and all(
                    r["state"] in ("success", "failed") for r in got
                )
                return got if done else None

            found["backfill"] = wait("the backfill's runs", backfilled, timeout_s=600)
            found["all_runs"] = api.dag_runs(DAG)
            found["landed"] = {
                r["dag_run_id"]: _landed(api, r["dag_run_id"]) for r in found["all_runs"]
            }
            log = api.client.get(
                f"/dags/{DAG}/dagRuns/{in_process[0]['dag_run_id']}/taskInstances/land/logs/1"
                if in_process
                else "/version"
            )
            found["in_process_log"] = log.json()
            api.client.patch(f"/dags/{DAG}", json={"is_paused": True}).raise_for_status()
            found["cli_paused"] = _reelops(
                settings, "pipeline", "run", "--start", str(DAYS[0]), "--end", str(DAYS[1]), code=2
            )
        found["lake_after"] = lake_digests(settings)
        yield found


@pytest.mark.slow
def test_the_cli_without_airflow_runs_in_process_quietly_and_keeps_logs_for_the_ui(runs):
    out = runs["cli_quiet"].splitlines()
    assert len(out) <= 8, out
    assert "in-process run; Airflow and tool output in" in out[0]
    assert [line.split()[:2] for line in out[1:4]] == [
        ["land", "success"],
        ["build_warehouse", "success"],
        ["materialize_features", "success"],
    ]
    assert out[-1] == f"reelops_daily [{DAYS[0]}, {TODAY}): success"
    assert len(runs["in_process"]) == 1
    # The UI reads the task's log, not "Log file not found".
    events = [line.get("event", "") for line in runs["in_process_log"]["content"]]
    assert any(e.startswith("landed world [") for e in events), events[-20:]


@pytest.mark.slow
def test_the_scheduler_runs_yesterday_over_its_data_interval(runs):
    scheduled = runs["scheduled"]
    assert runs["scheduled_state"] == "success"
    assert scheduled["data_interval_start"].startswith(str(DAYS[-1]))
    assert scheduled["data_interval_end"].startswith(str(TODAY))
    assert runs["landed"][scheduled["dag_run_id"]] == (_midnight(DAYS[-1]), _midnight(TODAY))


@pytest.mark.slow
def test_the_cli_triggers_through_the_rest_api_with_params_when_airflow_is_up(runs):
    out = runs["cli_rest"]
    assert "reelops_daily: triggered on the running Airflow: http://127.0.0.1:" in out
    assert f"reelops_daily [{DAYS[0]}, {DAYS[1]}): success" in out
    assert "in-process" not in out
    # A paused DAG would leave the triggered run queued forever: the CLI says so instead.
    assert "reelops_daily is paused in the running Airflow" in runs["cli_paused"]
    triggered = [
        r for r in runs["all_runs"] if r["conf"] == {"start": str(DAYS[0]), "end": str(DAYS[1])}
    ]
    assert len(triggered) == 1 and triggered[0]["triggered_by"] == "rest_api"
    assert runs["landed"][triggered[0]["dag_run_id"]] == (_midnight(DAYS[0]), _midnight(DAYS[1]))


@pytest.mark.slow
def test_a_trigger_without_conf_covers_the_day_before_it(runs):
    empty = runs["empty"]
    assert runs["empty_state"] == "success"
    assert runs["landed"][empty["dag_run_id"]] == (_midnight(DAYS[-1]), _midnight(TODAY))


@pytest.mark.slow
def test_a_backfill_makes_one_run_per_day_over_its_interval(runs):
    backfill = sorted(runs["backfill"], key=lambda r: r["logical_date"])
    assert [r["state"] for r in backfill] == ["success"] * len(BACKFILL)
    landed = [runs["landed"][r["dag_run_id"]] for r in backfill]
    assert landed == [(_midnight(d), _midnight(d + timedelta(days=1))) for d in BACKFILL]


@pytest.mark.slow
def test_every_run_landed_the_same_bytes_as_the_in_process_run(runs):
    before, after = runs["lake_in_process"], runs["lake_after"]
    assert before and all(after[path] == digest for path, digest in before.items())
    # New files are only the dimension snapshots dated by each shorter run's last day.
    added = {path.split("/")[1] for path in set(after) - set(before)}
    assert added <= SNAPSHOTS, added
    assert all(r["state"] == "success" for r in runs["all_runs"]), runs["all_runs"]
    # Nothing deleted another run: the in-process run, the scheduled one, the CLI's,
    # the empty trigger and the backfill's two.
    assert len(runs["all_runs"]) == 1 + 1 + 1 + 1 + len(BACKFILL)
