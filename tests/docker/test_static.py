"""docker/ is checked statically, and by `docker compose config` where a client has it
(no Docker engine runs here; `config` needs none)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker" / "compose.yaml"
ENV_EXAMPLE = ROOT / "docker" / ".env.example"
AIRFLOW = (
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)


def _services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def _workdir(dockerfile: str) -> str:
    return re.search(r"^WORKDIR (\S+)$", (ROOT / "docker" / dockerfile).read_text(), re.M)[1]


def test_dockerfile_installs_from_the_lock_and_runs_unprivileged():
    text = (ROOT / "docker" / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", text, re.M)
    assert "requirements.lock" in text
    for folder in ("reelops", "dags", "dbt", "feature_repo", "models"):
        assert f"COPY {folder} ./{folder}" in text
        assert (ROOT / folder).is_dir()
    assert re.search(r"^USER reelops$", text, re.M)


def test_compose_runs_the_production_profile_without_literal_secrets():
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "airflow-api-server", "airflow-scheduler"} <= set(services)
    api = services["airflow-api-server"]
    assert api["environment"]["REELOPS_PROFILE"] == "production"
    for service in services.values():
        for key, value in (service.get("environment") or {}).items():
            if "PASSWORD" in key or "KEY" in key or "SECRET" in key:
                assert str(value).startswith("${"), f"{key} must come from the environment"
    assert (ROOT / api["build"]["context"].replace("..", ".")).exists()


def test_serving_image_runs_the_bentoml_services_unprivileged_with_a_readiness_check():
    text = (ROOT / "docker" / "serving.Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", text, re.M)
    assert "requirements.lock" in text
    for folder in ("reelops", "serving", "feature_repo", "models"):
        assert f"COPY {folder} ./{folder}" in text
        assert (ROOT / folder).is_dir()
    assert re.search(r"^USER reelops$", text, re.M)
    assert "/readyz" in text and "HEALTHCHECK" in text
    assert "bentoml serve serving.service:${SERVICE}" in text
    service = (ROOT / "serving" / "service.py").read_text()
    assert "class Recommender" in service and "class Bitrate" in service


def test_compose_serves_both_endpoints_with_keys_from_the_environment():
    services = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())["services"]
    for name, target in (("recommender", "Recommender"), ("bitrate", "Bitrate")):
        env = services[name]["environment"]
        assert env["SERVICE"] == target and env["REELOPS_PROFILE"] == "production"
        assert env["REELOPS_API_KEYS"].startswith("${REELOPS_API_KEYS:?")
        assert services[name]["build"]["dockerfile"] == "docker/serving.Dockerfile"


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "serving.Dockerfile"])
def test_images_install_the_package_where_it_finds_the_project_files(dockerfile):
    # reelops.config.PROJECT_ROOT is the folder above the package: a non-editable install
    # would put it in site-packages, away from dags/, dbt/, feature_repo/ and models/.
    text = (ROOT / "docker" / dockerfile).read_text()
    assert re.search(r"^RUN uv pip install .*--no-deps -e \.$", text, re.M)
    ignored = (ROOT / "docker" / f"{dockerfile}.dockerignore").read_text().split()
    assert {".venv", ".reelops", ".git", "docker/.env"} <= set(ignored)


def test_airflow_components_find_the_dags_and_the_execution_api():
    services = _services()
    workdir = _workdir("Dockerfile")
    for name in ("airflow-init", *AIRFLOW):
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == f"{workdir}/dags"
        # Task processes run in the scheduler's container and call the API server's.
        url = env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
        assert url == "http://airflow-api-server:8080/execution/"
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW_JWT_SECRET:?")
    api = services["airflow-api-server"]
    assert "8080" in api["entrypoint"] and "8080:8080" in api["ports"]
    assert "/api/v2/monitor/health" in " ".join(api["healthcheck"]["test"])


def test_airflow_waits_for_a_successful_init_and_everything_long_lived_restarts():
    services = _services()
    assert services["airflow-init"]["entrypoint"] == ["airflow", "db", "migrate"]
    assert services["airflow-init"]["restart"] == "no"
    for name in AIRFLOW:
        depends = services[name]["depends_on"]
        assert depends["airflow-init"] == {"condition": "service_completed_successfully"}
        assert depends["postgres"] == {"condition": "service_healthy"}
    for name in ("airflow-scheduler", "airflow-triggerer"):
        assert services[name]["depends_on"]["airflow-api-server"]["condition"] == "service_healthy"
    for name, service in services.items():
        if name != "airflow-init":
            assert service["restart"] == "unless-stopped", name


def test_airflow_runs_tasks_on_celery_workers_through_redis():
    services = _services()
    worker = services["airflow-worker"]
    assert worker["entrypoint"] == ["airflow", "celery", "worker"]
    assert worker["deploy"]["replicas"] == "${AIRFLOW_WORKERS:-2}"
    for name in ("airflow-init", *AIRFLOW):
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == env["REELOPS_AIRFLOW_EXECUTOR"] == "CeleryExecutor"
        broker = env["AIRFLOW__CELERY__BROKER_URL"]
        assert broker == env["REELOPS_CELERY_BROKER_URL"] != env["REELOPS_REDIS_URL"]
        assert broker.startswith("redis://redis:6379/")
        assert env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"] == env["REELOPS_CELERY_QUEUE"]
        # Celery's results beside Airflow's metadata, in the same PostgreSQL database.
        conn = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == f"db+{conn}"


def test_redis_keeps_the_online_store_as_durably_as_feast_keeps_its_watermarks():
    redis = _services()["redis"]
    args = redis["command"]
    option = {args[i]: args[i + 1] for i in range(1, len(args) - 1, 2)}
    assert option["--appendonly"] == "yes"
    assert option["--appendfsync"] == "always"
    assert option["--maxmemory-policy"] == "noeviction"
    assert any(volume.endswith(":/data") for volume in redis["volumes"])
    assert "redis-data" in yaml.safe_load(COMPOSE.read_text())["volumes"]


def test_env_example_sets_every_required_variable_and_is_the_only_env_file_in_git():
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    example = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert required == {
        "REELOPS_PG_PASSWORD",
        "REELOPS_PSEUDONYM_KEY",
        "AIRFLOW_JWT_SECRET",
        "REELOPS_API_KEYS",
    }
    assert required <= set(example)
    assert all(value.startswith("change-me") for key, value in example.items() if key in required)
    assert "docker/.env" in (ROOT / ".gitignore").read_text().split()


def _compose_command() -> list[str] | None:
    """`docker compose` (the v2 plugin) or `docker-compose`, whichever this machine has."""
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_config_accepts_the_file(tmp_path):
    command = _compose_command()
    if command is None:
        pytest.skip("no `docker compose` plugin or `docker-compose` on this machine")
    ok = subprocess.run(
        [*command, "-f", str(COMPOSE), "--env-file", str(ENV_EXAMPLE), "config"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    resolved = yaml.safe_load(ok.stdout)["services"]
    assert resolved["airflow-scheduler"]["environment"]["AIRFLOW__API_AUTH__JWT_SECRET"] == (
        "change-me-jwt-secret"
    )
    # Without the secrets compose refuses, naming the variable.
    empty = tmp_path / "empty.env"
    empty.write_text("")
    refused = subprocess.run(
        [*command, "-f", str(COMPOSE), "--env-file", str(empty), "config"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert refused.returncode != 0
    assert "set REELOPS_PG_PASSWORD" in refused.stderr + refused.stdout
