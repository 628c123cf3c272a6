"""`reelops features`: apply, materialize, get (raw member id), describe."""

from __future__ import annotations

import pytest
from feature_worlds import mart
from typer.testing import CliRunner

from reelops.cli import app
from reelops.config import get_settings

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture
def cli_env(request, warehouse, monkeypatch):
    """The CLI's settings are the warehouse's (home, profile); its source is the active one.

    The commands are thin and profile-blind (the functions under them are tested on both
    profiles), so they run on the local profile only.
    """
    settings = warehouse.settings
    if settings.profile != "local":
        pytest.skip("the CLI is checked on the local profile; its functions on both")
    request.getfixturevalue("repo")
    monkeypatch.setenv("REELOPS_HOME", str(settings.home))
    monkeypatch.setenv("REELOPS_PROFILE", settings.profile)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def _raw_member_id(warehouse) -> tuple[str, str]:
    from reelops.privacy import MemberKeyVault

    key = mart(warehouse, "fct_member_daily")["member_key"].iloc[0]
    with MemberKeyVault(warehouse.settings) as vault:
        return vault.raw_ids(warehouse.source, [key])[key], key


def test_apply_materialize_get_describe(cli_env, warehouse):
    applied = runner.invoke(app, ["features", "apply"])
    assert applied.exit_code == 0, applied.output
    assert "already current" in applied.output

    done = runner.invoke(
        app, ["features", "materialize", "--start", "2026-01-01", "--end", "2026-01-07"]
    )
    assert done.exit_code == 0, done.output
    assert "member_activity" in done.output and "-> 2026-01-07 00:00:00" in done.output

    member_id, member_key = _raw_member_id(warehouse)
    got = runner.invoke(app, ["features", "get", "--member", member_id, "--title", "t00001"])
    assert got.exit_code == 0, got.output
    assert f"member (key {member_key})" in got.output
    assert member_id not in got.output  # the raw id goes in, only the pseudonym comes out
    assert "online features at 2026-01-07 00:00:00" in got.output
    member_part = got.output.split("member (key")[1].split("title t00001")[0]
    assert "member_activity__views_7d" in member_part
    assert "<stale>" not in member_part and "<missing>" not in member_part
    assert "title t00001" in got.output and "member_title_affinity__genre_affinity" in got.output

    late = runner.invoke(app, ["features", "get", "--member", member_id, "--at", "2026-01-12"])
    assert late.exit_code == 0, late.output
    assert "<stale>" in late.output

    described = runner.invoke(app, ["features", "describe"])
    assert described.exit_code == 0, described.output
    for word in ("member_key", "ranker_v1", "bitrate_v1", "title_freshness", "freshness"):
        assert word in described.output
    assert "watermark 2026-01-07 00:00:00  newest feature 2026-01-07 00:00:00" in described.output


def test_unknown_member_is_an_error(cli_env):
    result = runner.invoke(app, ["features", "get", "--member", "m999999"])
    assert result.exit_code == 2
    assert "never ingested" in result.output
