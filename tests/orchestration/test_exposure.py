"""Local services listen on this machine only; raw source and private files are owner-only."""

from __future__ import annotations

import stat

import pandas as pd

from reelops.config import airflow_environ
from reelops.orchestration import local
from reelops.privacy import load_key
from reelops.sources import write_source


def test_local_airflow_binds_loopback_and_serves_no_logs_on_the_network(settings, monkeypatch):
    assert airflow_environ(settings)["AIRFLOW__API__HOST"] == "127.0.0.1"
    started = {}
    monkeypatch.setattr(
        local, "start_group", lambda args, env, log: started.update({args[1]: args})
    )
    for component in local.COMPONENTS:
        local._start(component, {}, 8080, settings.home)
    api = started["api-server"]
    assert api[api.index("--host") + 1] == "127.0.0.1"
    # Airflow's log server binds every interface with no setting to change it; the
    # LocalExecutor's logs are files the api-server reads directly, so none is started.
    assert "--skip-serve-logs" in started["scheduler"]
    assert "--skip-serve-logs" in started["triggerer"]


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_raw_source_and_private_files_are_owner_only(settings):
    write_source(settings, "world", "synthetic", {}, extras={"t": pd.DataFrame({"a": [1]})})
    load_key(settings)
    for folder in (settings.sources_dir, settings.private_dir):
        assert mode(folder) == 0o700, folder
        for path in folder.rglob("*"):
            assert mode(path) == (0o700 if path.is_dir() else 0o600), path
    assert any(settings.sources_dir.rglob("*.parquet"))


def test_local_executor_runs_as_many_tasks_as_the_machine_has_cores(settings, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert airflow_environ(settings)["AIRFLOW__CORE__PARALLELISM"] == "2"
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert airflow_environ(settings)["AIRFLOW__CORE__PARALLELISM"] == "16"


def test_production_airflow_needs_a_login_with_an_owner_only_generated_password(
    settings, monkeypatch
):
    import json

    from reelops.config import Settings, airflow_passwords_file, airflow_user

    assert airflow_environ(settings)["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "True"
    assert local.ensure_airflow_password(settings) is None  # local: no login, no file
    production = Settings(home=settings.home, profile="production")
    env = airflow_environ(production)
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "False"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == f"{airflow_user()}:admin"
    path = local.ensure_airflow_password(production)
    assert path == airflow_passwords_file(production)
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(path)
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    password = json.loads(path.read_text())[airflow_user()]
    assert len(password) >= 20
    # Generated once: a restart keeps the password people were given.
    local.ensure_airflow_password(production)
    assert json.loads(path.read_text())[airflow_user()] == password
