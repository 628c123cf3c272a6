"""The daily DAG on the CeleryExecutor: two workers share a run; a killed worker's task is retried.

One production-profile home (a PostgreSQL database of its own; Redis database
:data:`BROKER_DB` with a queue named for this run, so no other Celery on the machine
takes its tasks) and one Airflow with two Celery workers serve both tests, in order:

1. an in-process run over the tiny world's whole span: the reference lake and marts;
2. the lake removed, the same interval on Celery: it must use both workers and land
   the same bytes;
3. the same interval again; while ``build_warehouse`` runs, its worker is killed with
   its task (SIGKILL, as a lost host): the scheduler finds the task without heartbeat,
   the retry runs on the other worker, and the run ends with the same lake and marts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from airflow_stack import airflow_stack, finished_run, lake_digests, pause_all_but, wait

from reelops.config import Settings, airflow_environ
from reelops.world.generator import WorldConfig
from reelops.world.synthetic_source import generate_source

# About 5 minutes on a quiet machine (13 under load): outside `make test`; run by
# `make test-cluster`.
pytestmark = [pytest.mark.production, pytest.mark.slow, pytest.mark.cluster]

DAG = "reelops_daily"
BROKER_DB = 14  # no other test uses this Redis database; only this run's keys are removed
START = date(2026, 1, 1)
DAYS = 2
CONF = {"start": str(START), "end": str(START + timedelta(days=DAYS))}
# The scheduler fails a task whose heartbeat stopped this long ago (Airflow's default: 5 min).
HEARTBEAT_TIMEOUT_S = 20


def _mart_rows(api, run_id: str) -> dict[str, int]:
    path = f"/dags/{DAG}/dagRuns/{run_id}/taskInstances/build_warehouse/xcomEntries/return_value"
    value = api.client.get(path, params={"deserialize": True, "stringify": False}).json()["value"]
    return value["mart_rows"]


def _first_try_log(settings: Settings, run_id: str, task_id: str) -> Path:
    run = settings.airflow_home / "logs" / f"dag_id={DAG}" / f"run_id={run_id}"
    return run / f"task_id={task_id}" / "attempt=1.log"


def _mid_build(api, settings: Settings, run_id: str) -> dict | None:
    """A probe: ``build_warehouse`` once dbt is building models on a worker, else None."""
    ti = next(t for t in api.task_instances(DAG, run_id) if t["task_id"] == "build_warehouse")
    if ti["state"] in ("success", "failed", "upstream_failed"):
        raise AssertionError(f"build_warehouse ended ({ti['state']}) before it was seen running")
    log = _first_try_log(settings, run_id, "build_warehouse")
    building = log.exists() and " START sql " in log.read_text(errors="replace")
    return ti if ti["state"] == "running" and building else None


def _celery_inspect(settings: Settings) -> str:
    """What `celery inspect ping` answers for this cluster (the README's way to see workers)."""
    from reelops.orchestration.cluster import CELERY_APP

    celery = Path(sys.executable).with_name("celery")
    done = subprocess.run(
        [str(celery), "--app", CELERY_APP, "inspect", "ping", "--timeout", "10"],
        env={**os.environ, **airflow_environ(settings)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _in_process_run() -> str:
    """``reelops pipeline run`` over the span with no Airflow up (in-process); its output.

    In a process of its own, as a user runs it: the scheduler must not meet this
    process's open database sessions later.
    """
    done = subprocess.run(
        [sys.executable, "-m", "reelops.cli", "pipeline", "run"]
        + ["--start", CONF["start"], "--end", CONF["end"]],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    return done.stdout


def _forget_queue(settings: Settings) -> None:
    """Remove this run's queue and its unacknowledged messages from the broker's database."""
    import redis

    broker = redis.Redis.from_url(settings.celery_broker_url)
    queue = settings.celery_queue
    for key in broker.scan_iter(f"*{queue}*"):
        broker.delete(key)
    for tag, message in broker.hgetall("unacked").items():
        if queue.encode() in message:
            broker.hdel("unacked", tag)
            broker.zrem("unacked_index", tag)


@pytest.fixture(scope="module")
def celery_runs(tmp_path_factory):
    """Steps 1-3 above, once; what each produced, for the tests to judge."""
    import psycopg2
    import redis

    from reelops.features.store import teardown
    from reelops.orchestration import cluster
    from reelops.orchestration.runs import use_home_database
    from reelops.warehouse import create_database, drop_database

    tag = uuid.uuid4().hex[:8]
    patch = pytest.MonkeyPatch()
    environ = {
        "REELOPS_HOME": str(tmp_path_factory.mktemp("celery") / "home"),
        "REELOPS_PROFILE": "production",
        "REELOPS_PG_DATABASE": f"reelops_celery_{tag}",
        "REELOPS_REDIS_URL": f"redis://127.0.0.1:6379/{BROKER_DB}",
        "REELOPS_AIRFLOW_EXECUTOR": "CeleryExecutor",
        "REELOPS_CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{BROKER_DB}",
        "REELOPS_CELERY_QUEUE": f"reelops_test_{tag}",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT_S),
    }
    for key, value in environ.items():
        patch.setenv(key, value)
    patch.delenv("REELOPS_PSEUDONYM_KEY", raising=False)
    settings = Settings()
    broker = redis.Redis.from_url(settings.celery_broker_url, socket_connect_timeout=3)
    try:
        broker.ping()
        create_database(settings)
    except (psycopg2.Error, redis.RedisError) as error:
        patch.undo()
        pytest.skip(f"production backends unreachable: {error}")
    try:
        generate_source(settings, WorldConfig.tiny(days=DAYS, start=START))
        found = {"settings": settings, "in_process": _in_process_run()}
        found["lake_reference"] = lake_digests(settings)
        use_home_database(settings)
        from airflow.dag_processing.dagbag import DagBag

        dag_ids = DagBag(dag_folder=str(settings.dags_dir)).dag_ids
        shutil.rmtree(settings.lake_dir("world"))
        names = cluster.worker_names(settings, 2)
        found["workers"] = names
        with airflow_stack(settings, workers=2) as (api, processes):
            workers = dict(zip(names, processes[-2:], strict=True))
            pause_all_but(api, dag_ids, DAG)
            found["inspect"] = _celery_inspect(settings)

            run = api.trigger(DAG, conf=CONF)
            found["state"] = wait("the Celery run", lambda: finished_run(api, DAG, run))
            found["run"] = run
            found["tis"] = api.task_instances(DAG, run)
            found["lake"] = lake_digests(settings)

            faulted = api.trigger(DAG, conf=CONF)
            running = wait(
                "dbt to build models in build_warehouse",
                lambda: _mid_build(api, settings, faulted),
                every_s=0.5,
            )
            cluster.kill_worker(workers[running["hostname"]])
            found["killed"] = running["hostname"]
            found["killed_log"] = _first_try_log(settings, faulted, "build_warehouse").read_text()
            found["fault_state"] = wait(
                "the run with a killed worker", lambda: finished_run(api, DAG, faulted), 600
            )
            found["faulted"] = faulted
            tries = f"/dags/{DAG}/dagRuns/{faulted}/taskInstances/build_warehouse/tries"
            found["tries"] = api.client.get(tries).json()["task_instances"]
            found["fault_tis"] = api.task_instances(DAG, faulted)
            reference = next(r for r in api.dag_runs(DAG) if r["triggered_by"] == "test")
            found["reference"] = reference["dag_run_id"]
            found["marts"] = {r: _mart_rows(api, r) for r in (found["reference"], run, faulted)}
        found["lake_fault"] = lake_digests(settings)
        yield found
    finally:
        try:
            teardown(settings, "world")
            _forget_queue(settings)
        finally:
            drop_database(settings)
            patch.undo()


def test_a_celery_run_uses_both_workers_and_lands_the_in_process_bytes(celery_runs):
    found = celery_runs
    assert found["state"] == "success", found["tis"]
    # Each worker's task instances carry its Celery node name; both took part.
    hosts = {ti["task_id"]: ti["hostname"] for ti in found["tis"]}
    assert set(hosts.values()) == set(found["workers"]), hosts
    assert all(name in found["inspect"] for name in found["workers"]), found["inspect"]
    assert found["lake_reference"] and found["lake"] == found["lake_reference"]
    marts = found["marts"]
    assert marts[found["run"]] == marts[found["reference"]] and marts[found["run"]]


def test_a_killed_workers_task_is_retried_on_the_other_worker_with_the_same_outputs(celery_runs):
    found = celery_runs
    assert found["fault_state"] == "success", found["fault_tis"]
    (survivor,) = set(found["workers"]) - {found["killed"]}
    tries = sorted(found["tries"], key=lambda t: t["try_number"])
    assert [(t["try_number"], t["hostname"], t["state"]) for t in tries] == [
        (1, found["killed"], "failed"),
        (2, survivor, "success"),
    ]
    # Killed while dbt built the models: the first try never got to its end.
    assert (
        " START sql " in found["killed_log"] and "Done. Returned value" not in found["killed_log"]
    )
    after = [ti for ti in found["fault_tis"] if ti["task_id"] == "materialize_features"]
    assert after[0]["hostname"] == survivor
    assert found["lake_fault"] == found["lake_reference"]
    assert found["marts"][found["faulted"]] == found["marts"][found["reference"]]
