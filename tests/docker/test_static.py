"""docker/ is checked statically (no Docker engine runs here)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


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
