"""Airflow's REST API (public API v2) for a running api-server: trigger DAG runs and follow them.

``reelops airflow up`` records its port in the Airflow home (:data:`RUNNING_FILE`);
:func:`running_api` finds that api-server, checks that it and the scheduler answer,
and logs in (no password on the local profile; the production profile's generated
password from :func:`reelops.config.airflow_passwords_file`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from reelops.config import (
    AIRFLOW_SQLITE_TIMEOUT_S,
    Settings,
    airflow_passwords_file,
    airflow_user,
)
from reelops.orchestration.runs import DagRunResult, task_line

RUNNING_FILE = "api-server.json"
FINISHED = ("success", "failed")
TASK_DONE = ("success", "failed", "skipped", "upstream_failed", "removed")


def running_file(settings: Settings) -> Path:
    """Where ``reelops airflow up`` records the api-server's port and its own pid."""
    return settings.airflow_home / RUNNING_FILE


def record_running(settings: Settings, port: int) -> Path:
    """Record that this process serves Airflow's API on ``port`` for this home."""
    path = running_file(settings)
    path.write_text(json.dumps({"port": port, "pid": os.getpid()}))
    return path


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


@dataclass
class AirflowApi:
    """A logged-in client of one api-server's public API v2.

    Attributes:
        base_url: ``http://127.0.0.1:<port>``.
        client: An httpx client carrying the bearer token.
    """

    base_url: str
    client: httpx.Client = field(repr=False)

    @classmethod
    def login(
        cls, settings: Settings, port: int, timeout_s: float = AIRFLOW_SQLITE_TIMEOUT_S + 30
    ) -> AirflowApi:
        """Log in to the api-server on ``port`` (the simple auth manager's JWT).

        ``timeout_s`` outlasts the local metadata database's lock wait: a write (pausing a
        DAG, triggering a run) may wait that long behind the scheduler on SQLite.

        Raises:
            httpx.HTTPError: The server refused the login or did not answer.
        """
        base = f"http://127.0.0.1:{port}"
        if settings.profile == "production":
            password = json.loads(airflow_passwords_file(settings).read_text())[airflow_user()]
            answer = httpx.post(
                f"{base}/auth/token",
                json={"username": airflow_user(), "password": password},
                timeout=timeout_s,
            )
        else:
            answer = httpx.get(f"{base}/auth/token", timeout=timeout_s)
        answer.raise_for_status()
        token = answer.json()["access_token"]
        client = httpx.Client(
            base_url=f"{base}/api/v2",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout_s,
        )
        return cls(base_url=base, client=client)

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.client.request(method, path, **kwargs)
        if answer.status_code >= 400:
            raise RuntimeError(f"Airflow API {method} {path}: {answer.status_code} {answer.text}")
        return answer.json()

    def scheduler_healthy(self) -> bool:
        """Whether the scheduler has sent a recent heartbeat (Airflow's health check)."""
        health = self._json("GET", "/monitor/health")
        return (health.get("scheduler") or {}).get("status") == "healthy"

    def wait_for_dag(self, dag_id: str, timeout_s: float = 180.0) -> None:
        """Block until the dag-processor has parsed ``dag_id`` (a new home starts empty)."""
        deadline = time.monotonic() + timeout_s
        while self.client.get(f"/dags/{dag_id}").status_code != 200:
            if time.monotonic() > deadline:
                raise TimeoutError(f"Airflow did not list DAG {dag_id} within {timeout_s:.0f} s")
            time.sleep(1)

    def trigger(self, dag_id: str, conf: dict | None = None, logical_date: str | None = None):
        """Trigger a run as the UI's trigger form does; returns its run id."""
        body = {"logical_date": logical_date, "conf": conf or {}}
        return self._json("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"]

    def asset_event(self, name: str, extra: dict | None = None) -> dict[str, Any]:
        """Record an event of Asset ``name``, as a producing task would: the scheduler
        then runs the DAGs scheduled on it. Returns the event as the API shows it.

        Raises:
            RuntimeError: Airflow knows no Asset of that name (no parsed DAG uses it yet),
                or refused the event.
        """
        found = self._json("GET", "/assets", params={"name_pattern": name, "limit": 100})
        ids = [a["id"] for a in found["assets"] if a["name"] == name]
        if not ids:
            raise RuntimeError(
                f"the running Airflow ({self.base_url}) knows no Asset {name!r}: no parsed "
                "DAG is scheduled on it or produces it yet"
            )
        body = {"asset_id": ids[0], "extra": extra or {}}
        return self._json("POST", "/assets/events", json=body)

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """One run as the API shows it (state, data interval, conf ...)."""
        return self._json("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        """Every run of ``dag_id``, oldest first."""
        body = self._json("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})
        return sorted(body["dag_runs"], key=lambda r: r["run_after"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """The run's task instances (mapped ones once per index)."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        return self._json("GET", path, params={"limit": 1000})["task_instances"]

    def follow(
        self,
        dag_id: str,
        run_id: str,
        echo: Callable[[str], None] = print,
        timeout_s: float = 6 * 3600.0,
        poll_s: float = 2.0,
    ) -> DagRunResult:
        """Poll a run until it finishes, echoing one line per task as it ends.

        A task waiting for a person (``awaiting_input``) is echoed once with where to
        answer it. Returns how the run ended.
        """
        seen: dict[str, str] = {}
        deadline = time.monotonic() + timeout_s
        while True:
            state = self.dag_run(dag_id, run_id)["state"]
            tis = self.task_instances(dag_id, run_id)
            for ti in sorted(tis, key=lambda t: t.get("start_date") or "~"):
                key = ti["task_id"] + (f"[{ti['map_index']}]" if ti["map_index"] >= 0 else "")
                if ti["state"] == seen.get(key):
                    continue
                if ti["state"] in TASK_DONE:
                    seconds = _seconds(ti.get("start_date"), ti.get("end_date"))
                    echo(task_line(key, ti["state"], seconds))
                elif ti["state"] == "awaiting_input":
                    echo(
                        f"  {key:<24} waiting for a person: {self.base_url}/dags/{dag_id}"
                        f"/runs/{run_id}  (Required Actions)"
                    )
                seen[key] = ti["state"]
            if state in FINISHED:
                states = {ti["task_id"]: ti["state"] for ti in tis if ti["map_index"] < 1}
                return DagRunResult(dag_id=dag_id, run_id=run_id, state=state, task_states=states)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{dag_id} run {run_id} still {state} after {timeout_s:.0f} s")
            time.sleep(poll_s)


def running_api(settings: Settings) -> AirflowApi | None:
    """The logged-in API of this home's running Airflow, or None when none is up.

    "Up" means ``reelops airflow up`` recorded a port whose api-server answers and
    reports a healthy scheduler; anything else (no record, a stale one, a stopped
    scheduler) means runs go in-process.
    """
    path = running_file(settings)
    try:
        port = json.loads(path.read_text())["port"]
        api = AirflowApi.login(settings, port, timeout_s=5.0)
        return api if api.scheduler_healthy() else None
    except (OSError, ValueError, KeyError, RuntimeError, httpx.HTTPError):
        return None
