"""`reelops world traffic` and `reelops monitor`: user errors exit 2 with one error line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from reelops.cli import app
from reelops.config import get_settings

runner = CliRunner()


@pytest.fixture
def empty_home(tmp_path, monkeypatch):
    monkeypatch.setenv("REELOPS_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--taste-shift", "XX@2026-01-25", "country"),
        ("--network-degradation", "US@25-01-2026", "YYYY-MM-DD"),
        ("--broken-feature", "viewing_events.title_id:US@2026-01-25", "numeric column"),
        ("--broken-feature", "nosuch.completion:US@2026-01-25", "TABLE.COLUMN"),
    ],
)
def test_bad_changes_exit_2_naming_the_problem(empty_home, option, value, says):
    result = runner.invoke(app, ["world", "traffic", option, value])
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and says in result.output


def test_traffic_and_monitor_without_a_world_exit_2(empty_home):
    for args in (["world", "traffic"], ["monitor", "run", "--date", "2026-01-22"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "world generate" in result.output
