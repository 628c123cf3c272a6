"""The tiny daily DAG run on the LocalExecutor and on Celery with 2 workers: wall time per run.

Slow (two Airflow stacks; minutes), so not part of `make bench`:

    .venv/bin/python -m benchmarks.celery_cluster [--days 2]

Needs the machine's PostgreSQL (a database of its own, dropped after) and Redis
(database 15, a queue named for this run). One production-profile home, one tiny
world; the same interval is run on each executor in turn (the second run replaces
the first one's partitions). The figure is each DAG run's own duration (its start
to its end in Airflow), so the scheduler's run of yesterday, which the daily DAG's
timetable makes as it starts, does not count.
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import redis

from benchmarks.run import RESULTS
from reelops.config import Settings
from reelops.features.store import teardown
from reelops.orchestration.api import AirflowApi
from reelops.orchestration.local import running_airflow
from reelops.orchestration.runs import use_home_database
from reelops.warehouse import create_database, drop_database
from reelops.world.generator import WorldConfig
from reelops.world.synthetic_source import generate_source

DAG = "reelops_daily"
SCHEDULING = ("api-server", "scheduler", "dag-processor")


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_once(api: AirflowApi, dag_ids: list[str], conf: dict) -> dict:
    for dag_id in dag_ids:
        if dag_id != DAG:  # the training DAGs would start on the daily DAG's Asset events
            api.wait_for_dag(dag_id)
            api.client.patch(f"/dags/{dag_id}", json={"is_paused": True}).raise_for_status()
    run_id = api.trigger(DAG, conf=conf)
    result = api.follow(DAG, run_id, echo=lambda line: print(line, flush=True))
    run = api.dag_run(DAG, run_id)
    seconds = (
        datetime.fromisoformat(run["end_date"]) - datetime.fromisoformat(run["start_date"])
    ).total_seconds()
    tis = api.task_instances(DAG, run_id)
    return {
        "state": result.state,
        "run_s": round(seconds, 1),
        "hosts": {ti["task_id"]: ti["hostname"] for ti in tis},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=2, metavar="N", help="days of tiny world")
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:8]
    start = date(2026, 1, 1)
    conf = {"start": str(start), "end": str(start + timedelta(days=args.days))}
    with tempfile.TemporaryDirectory(prefix="reelops-celery-bench-") as work:
        base = {
            "home": Path(work) / "home",
            "profile": "production",
            "pg_database": f"reelops_bench_celery_{tag}",
            "redis_url": "redis://127.0.0.1:6379/15",
            "celery_broker_url": "redis://127.0.0.1:6379/15",
            "celery_queue": f"reelops_bench_{tag}",
        }
        local = Settings(**base)
        create_database(local)
        try:
            generate_source(local, WorldConfig.tiny(days=args.days, start=start))
            use_home_database(local)
            from airflow.dag_processing.dagbag import DagBag

            dag_ids = DagBag(dag_folder=str(local.dags_dir)).dag_ids
            rows = []
            for executor, workers in (("LocalExecutor", 0), ("CeleryExecutor", 2)):
                settings = Settings(**base, airflow_executor=executor)
                port = _port()
                started = time.perf_counter()
                with running_airflow(settings, port, SCHEDULING, workers):
                    up_s = time.perf_counter() - started
                    found = _run_once(AirflowApi.login(settings, port), dag_ids, conf)
                rows.append({"executor": executor, "workers": workers, "up_s": round(up_s, 1)})
                rows[-1].update(found)
                print(json.dumps(rows[-1]), flush=True)
        finally:
            try:
                teardown(local, "world")  # its online rows in Redis
                broker = redis.Redis.from_url(local.celery_broker_url)
                for key in broker.scan_iter(f"*{local.celery_queue}*"):
                    broker.delete(key)
            finally:
                drop_database(local)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "celery_cluster.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(f"\n{'executor':<16}{'workers':>8}{'stack up s':>12}{'DAG run s':>11}  state")
    for row in rows:
        print(
            f"{row['executor']:<16}{row['workers']:>8}{row['up_s']:>12}{row['run_s']:>11}"
            f"  {row['state']}"
        )


if __name__ == "__main__":
    main()
