"""The home's lock: one writing run at a time, the holder named, freed when it dies."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from reelops.locks import HOME_LOCK_FILE, HomeBusyError, describe_holder, home_lock
from reelops.world.generator import WorldConfig
from reelops.world.synthetic_source import generate_source

HOLD = """
import sys, time
from reelops.config import get_settings
from reelops.locks import home_lock
with home_lock(get_settings(), "pipeline run"):
    print("held", flush=True)
    time.sleep(float(sys.argv[1]))
"""


def _holder(settings, seconds: float) -> subprocess.Popen:
    env = {**os.environ, "REELOPS_HOME": str(settings.home)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(seconds)], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_run_is_told_who_holds_the_home(settings):
    proc = _holder(settings, 60)
    try:
        with pytest.raises(HomeBusyError) as busy, home_lock(settings, "x", wait=False):
            pass
        assert f"pid {proc.pid} (pipeline run, since " in str(busy.value)
    finally:
        proc.kill()
        proc.wait()
    # The holder was killed: the lock is free at once.
    with home_lock(settings, "warehouse build", wait=False):
        pass


def test_waiting_run_goes_on_when_the_holder_finishes(settings, capsys):
    proc = _holder(settings, 1.5)
    began = time.monotonic()
    with home_lock(settings, "warehouse build"):
        assert time.monotonic() - began > 0.5
    proc.wait()
    assert f"warehouse build: waiting for pid {proc.pid} (pipeline run" in capsys.readouterr().err


def test_a_run_arriving_before_the_holder_recorded_itself_still_names_it(settings, capsys):
    # The holder has the lock but has not written its record yet (two runs started at once).
    settings.home.mkdir(parents=True, exist_ok=True)
    path = settings.home / HOME_LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    script = (
        "import fcntl, json, os, sys, time\n"
        f"fd = {fd}\n"
        "time.sleep(0.3)\n"
        "os.pwrite(fd, json.dumps({'pid': os.getpid(), 'command': 'pipeline run',"
        " 'started': 'now'}).encode(), 0)\n"
        "time.sleep(0.5)\n"
        "fcntl.flock(fd, fcntl.LOCK_UN)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], pass_fds=(fd,))
    os.close(fd)
    with home_lock(settings, "warehouse build"):
        pass
    proc.wait()
    assert f"waiting for pid {proc.pid} (pipeline run" in capsys.readouterr().err


def test_the_lock_is_reentrant_within_a_process(settings):
    with home_lock(settings, "pipeline run"), home_lock(settings, "DAG run", wait=False):
        pass


def _task_context(dag_id: str, task_id: str) -> dict:
    day = datetime(2026, 1, 2, tzinfo=UTC)
    return {
        "ti": SimpleNamespace(dag_id=dag_id, task_id=task_id),
        "dag_run": SimpleNamespace(conf={}, run_id="scheduled__2026-01-02", run_after=day),
        "data_interval_start": day - timedelta(days=1),
        "data_interval_end": day,
    }


def _holder_seen_by_others(settings) -> str | None:
    """Who holds the home's lock, as another process sees it (None: nobody)."""
    path = settings.home / HOME_LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:  # a lock of another open file: held by this process counts as held, as for others
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return describe_holder(path)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _writing_tasks():
    """(adapter, its DAG and task, the domain call to stand in for, its arguments)."""
    from reelops.artwork import train as artwork_steps
    from reelops.bitrate import train as bitrate_steps
    from reelops.features import materialize
    from reelops.orchestration import artwork, bitrate, daily
    from reelops.warehouse import BuildResult

    built = BuildResult("world", "duckdb", [], 0, 0, 0, 0, 0.0, {}, Path("run_results.json"))
    summary = SimpleNamespace(summary=dict)
    return [
        (daily.build_warehouse, "reelops_daily", (daily, "build"), built, ({},)),
        (daily.materialize_features, "reelops_daily", (materialize, "materialize"), summary, ({},)),
        (bitrate.training_set, "reelops_bitrate", (bitrate_steps, "prepare_training_set"), {}, ()),
        (bitrate.train, "reelops_bitrate", (bitrate_steps, "train_model"), {}, ({"spec": None},)),
        (bitrate.save_candidate, "reelops_bitrate", (bitrate_steps, "save_candidate"), {},
         ({"spec": None},)),
        (artwork.training_set, "reelops_artwork", (artwork_steps, "prepare_training_set"),
         {"impressions": 0, "members": 0, "data_interval": ["", ""]}, ()),
        (artwork.train, "reelops_artwork", (artwork_steps, "train_model"), {}, ({"spec": None},)),
        (artwork.evaluate, "reelops_artwork", (artwork_steps, "evaluate_model"), {},
         ({"spec": None},)),
        (artwork.save_candidate, "reelops_artwork", (artwork_steps, "save_candidate"),
         {"version": "v1"}, ({"spec": None},)),
    ]  # fmt: skip


def test_scheduler_tasks_write_holding_the_home_lock_and_name_themselves(settings, monkeypatch):
    from reelops.orchestration import daily

    monkeypatch.setattr(daily, "active_source", lambda _settings: "world")
    monkeypatch.setattr(daily, "describe_build", lambda _result: "built")
    monkeypatch.setattr("reelops.features.materialize.describe_materialization", lambda _r: "")
    for adapter, dag_id, (module, name), result, args in _writing_tasks():
        seen = []

        def domain_call(*_args, result=result, seen=seen, **_kwargs):
            seen.append(_holder_seen_by_others(settings))
            return result

        monkeypatch.setattr(module, name, domain_call)
        adapter(*args, **_task_context(dag_id, adapter.__name__))
        assert seen and seen[0] is not None, f"{adapter.__qualname__} wrote without the lock"
        task = f"Airflow task {dag_id}.{adapter.__name__} of run scheduled__2026-01-02"
        assert seen[0].startswith(f"pid {os.getpid()} ({task}, since "), seen[0]
        assert _holder_seen_by_others(settings) is None  # released when the task ends


def test_a_scheduler_task_waits_for_a_pipeline_run_in_a_shell_and_says_for_whom(settings, capsys):
    from reelops.orchestration import daily

    generate_source(settings, WorldConfig.tiny(days=2))
    proc = _holder(settings, 1.5)  # `reelops pipeline run` in a shell
    began = time.monotonic()
    landed = daily.land(**_task_context("reelops_daily", "land"))
    assert time.monotonic() - began > 0.5  # it waited for the holder to finish
    proc.wait()
    assert landed["rows"]["viewing_events"] > 0
    waiting = "Airflow task reelops_daily.land of run scheduled__2026-01-02: waiting for pid"
    assert f"{waiting} {proc.pid} (pipeline run, since " in capsys.readouterr().err


def test_warehouse_build_in_a_shell_waits_for_the_running_pipeline(settings, monkeypatch):
    from typer.testing import CliRunner

    from reelops.cli.main import app
    from reelops.warehouse import BuildResult

    built = []

    def build(_settings, source):
        built.append(_holder_seen_by_others(settings))
        return BuildResult(source, "duckdb", [], 0, 0, 0, 0, 0.0, {}, Path("run_results.json"))

    monkeypatch.setattr("reelops.warehouse.build", build)
    monkeypatch.setattr("reelops.sources.active_source", lambda _settings: "world")
    proc = _holder(settings, 1.5)  # was a raw DuckDB lock error when both built at once
    result = CliRunner().invoke(app, ["warehouse", "build"])
    proc.wait()
    assert result.exit_code == 0, result.output
    assert f"warehouse build: waiting for pid {proc.pid} (pipeline run, since " in result.output
    assert built[0].startswith(f"pid {os.getpid()} (warehouse build, since ")
