"""`eval "$(reelops env)"` in a new shell: dbt, Feast and BentoML's own CLIs on the active
source, with nothing written to the home directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reelops.cli import app
from reelops.config import PROJECT_ROOT, Settings
from reelops.features.environment import feast_environ
from reelops.tools_environ import tools_environ
from reelops.warehouse import MARTS, dbt_environ

REELOPS = Path(sys.executable).parent / "reelops"
runner = CliRunner()


def _shell(home: Path, user_home: Path, script: str) -> subprocess.CompletedProcess:
    """``script`` in a fresh bash with a bare PATH, HOME at ``user_home``, after the eval."""
    user_home.mkdir(exist_ok=True)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(user_home),
        "LANG": "C.UTF-8",
        "REELOPS_HOME": str(home),
    }
    return subprocess.run(
        ["bash", "-c", f'eval "$("{REELOPS}" env)" && {script}'],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_tools_cli_work_in_a_new_shell_and_write_nothing_to_home(world, tmp_path):
    home, version = world
    user_home = tmp_path / "user"

    dbt_ls = _shell(home, user_home, "cd dbt && dbt --quiet ls --resource-type model --output name")
    assert dbt_ls.returncode == 0, dbt_ls.stdout + dbt_ls.stderr
    assert set(MARTS) <= set(dbt_ls.stdout.split())
    # dbt by hand keeps its own target folder under REELOPS_HOME, not in the checkout.
    assert (home / "dbt" / "world" / "shell" / "target" / "manifest.json").is_file()

    show = _shell(
        home,
        user_home,
        "cd dbt && dbt --quiet show --output json "
        "--inline \"select count(*) as n from {{ ref('dim_members') }}\"",
    )
    assert show.returncode == 0, show.stdout + show.stderr
    assert json.loads(show.stdout[show.stdout.index("{") :])["show"] == [{"n": 400}]

    feast = _shell(home, user_home, "cd feature_repo && feast feature-views list")
    assert feast.returncode == 0, feast.stdout + feast.stderr
    listed = {line.split()[0] for line in feast.stdout.splitlines()[1:] if line.strip()}
    assert {"member_activity", "title_popularity", "network_throughput"} <= listed
    assert "AVAILABLE_ONLINE" in feast.stdout

    bentoml = _shell(home, user_home, "bentoml models list")
    assert bentoml.returncode == 0, bentoml.stdout + bentoml.stderr
    assert f"ranker:{version}" in bentoml.stdout

    assert sorted(p.name for p in user_home.rglob("*")) == []


@pytest.mark.slow
def test_dbt_refuses_a_lake_with_no_partitions(world, tmp_path):
    home, _ = world
    result = _shell(
        home,
        tmp_path / "user",
        f"export REELOPS_DBT_LAKE_DIR='{home}/lake/nosuch' && cd dbt && "
        "dbt run --select stg_lake__members",
    )
    assert result.returncode != 0
    assert "has no partitions" in result.stdout and "reelops env" in result.stdout
    # The raw views still read the real lake: the refusal came before any view was replaced.
    show = _shell(
        home,
        tmp_path / "user",
        "cd dbt && dbt --quiet show --output json "
        "--inline \"select count(*) as n from {{ source('lake', 'members') }}\"",
    )
    assert show.returncode == 0, show.stdout + show.stderr
    assert json.loads(show.stdout[show.stdout.index("{") :])["show"][0]["n"] > 0


@pytest.mark.slow
def test_without_the_environment_dbt_names_the_missing_variable(world, tmp_path):
    home, _ = world
    user_home = tmp_path / "user"
    user_home.mkdir()
    result = subprocess.run(
        ["bash", "-c", f'"{Path(sys.executable).parent}/dbt" ls'],
        cwd=PROJECT_ROOT / "dbt",
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(user_home),
            "REELOPS_HOME": str(home),
            # Only so that the failing dbt leaves no log folder in the checkout.
            "DBT_LOG_PATH": str(tmp_path / "logs"),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "REELOPS_DUCKDB_PATH" in result.stdout + result.stderr


@pytest.mark.parametrize("profile", ["local", "production"])
def test_environment_is_the_platforms_own_and_points_under_reelops_home(tmp_path, profile):
    settings = Settings(home=tmp_path / "home", profile=profile)
    env = tools_environ(settings, "world")
    for part in (dbt_environ(settings, "world"), feast_environ(settings, "world")):
        for key, value in part.items():
            if key != "REELOPS_DBT_MARTS_DIR":  # hand runs write their marts apart
                assert env[key] == value, key
    assert env["BENTOML_HOME"] == str(settings.bentoml_home)
    assert env["REELOPS_DBT_LAKE_DIR"] == str(settings.lake_dir("world"))
    assert env["FEAST_FS_YAML_FILE_PATH"].endswith(f"feature_repo/{profile}/feature_store.yaml")
    for key in ("BENTOML_HOME", "MPLCONFIGDIR", "AIRFLOW_HOME", "DBT_TARGET_PATH", "DBT_LOG_PATH"):
        assert env[key].startswith(str(settings.home)), key
    assert not any("~" in value for value in env.values())


def test_env_without_a_source_still_sets_bentoml_and_warns(settings):
    result = runner.invoke(app, ["env"])
    assert result.exit_code == 0, result.output
    assert f"export BENTOML_HOME={settings.bentoml_home}" in result.stdout
    assert "REELOPS_DUCKDB_PATH" not in result.stdout
    assert "dbt and Feast are not set up" in result.stderr


def test_env_for_an_unknown_source_fails(settings):
    result = runner.invoke(app, ["env", "--source", "nosuch"])
    assert result.exit_code == 2
    assert "no source named 'nosuch'" in result.output


def test_env_output_survives_the_shell_with_awkward_paths(tmp_path, monkeypatch):
    from reelops.config import get_settings

    home = tmp_path / 'it\'s a "home" $HOME'
    monkeypatch.setenv("REELOPS_HOME", str(home))
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["env"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    echoed = subprocess.run(
        ["bash", "-c", 'eval "$1" && printf %s "$BENTOML_HOME"', "-", result.stdout],
        capture_output=True,
        text=True,
        check=True,
    )
    assert echoed.stdout == str(home / "bentoml")
