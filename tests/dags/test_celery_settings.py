"""Choosing the CeleryExecutor: what Airflow is told, and the errors for what cannot work."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from reelops.cli.main import app
from reelops.config import Settings, airflow_environ
from reelops.orchestration.cluster import check_workers, worker_names


def _celery(tmp_path, **values) -> Settings:
    return Settings(
        home=tmp_path, profile="production", airflow_executor="CeleryExecutor", **values
    )


def test_the_local_executor_stays_the_default_and_sets_no_celery_option(tmp_path):
    env = airflow_environ(Settings(home=tmp_path))
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert not [key for key in env if "CELERY" in key]
    # Tasks are queued where Celery workers would look, should the home switch executor.
    assert env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"] == "reelops"


def test_celery_sends_tasks_through_redis_and_keeps_results_beside_the_metadata(tmp_path):
    settings = _celery(tmp_path, celery_broker_url="redis://127.0.0.1:6379/9", celery_queue="q1")
    env = airflow_environ(settings)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://127.0.0.1:6379/9"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == (
        "db+" + env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    )
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg2://")
    assert env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"] == "q1"
    assert worker_names(settings, 2)[1].startswith("q1-2@")


def test_celery_on_the_local_profile_or_a_bad_queue_name_is_refused_by_name(tmp_path):
    with pytest.raises(ValidationError, match="needs REELOPS_PROFILE=production"):
        Settings(home=tmp_path, airflow_executor="CeleryExecutor")
    with pytest.raises(ValidationError, match="celery_queue"):
        _celery(tmp_path, celery_queue="two words")


def test_workers_without_the_celery_executor_are_an_error_that_says_what_to_set(settings):
    with pytest.raises(ValueError, match="REELOPS_AIRFLOW_EXECUTOR=CeleryExecutor"):
        check_workers(settings, 2)
    check_workers(settings, 0)
    result = CliRunner().invoke(app, ["airflow", "up", "--workers", "2"])
    assert result.exit_code == 2
    assert "error: 2 Celery worker(s) asked for, but the executor is LocalExecutor" in (
        result.output
    )
