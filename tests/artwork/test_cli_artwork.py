"""`reelops artwork`: user errors exit 2 and say what to do."""

from __future__ import annotations

from typer.testing import CliRunner

from reelops.cli import app

runner = CliRunner()


def test_evaluate_without_a_source_says_how_to_make_one(settings):
    result = runner.invoke(app, ["artwork", "evaluate"])
    assert result.exit_code == 2
    assert "reelops world generate" in result.output


def test_open_bandit_names_the_campaigns_and_the_fetch_command(settings):
    result = runner.invoke(app, ["artwork", "open-bandit", "--campaign", "kids"])
    assert result.exit_code == 2 and "('all', 'men', 'women')" in result.output
    result = runner.invoke(app, ["artwork", "open-bandit"])
    assert result.exit_code == 2 and "reelops data fetch open-bandit" in result.output
