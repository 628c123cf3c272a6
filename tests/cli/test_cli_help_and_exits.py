"""The CLI tells the truth: help names what each value is, choices are listed, "nothing
found" exits non-zero, and long loops report progress."""

from __future__ import annotations

import re
import typing

import numpy as np
import pytest
import typer.main
from typer.testing import CliRunner

from reelops.abr.evaluation import evaluate_policies
from reelops.abr.policies import baseline_policies
from reelops.abr.traces import synthetic_traces
from reelops.cli import app
from reelops.cli.bitrate import PREDICTOR_POLICY, Policy
from reelops.config import get_settings
from reelops.world.generator import WorldConfig, generate_world

runner = CliRunner()
# Typer's own placeholders: a Python type or a strftime pattern instead of a name.
PLACEHOLDER = re.compile(r"<(str|bool|int|float|path|int range|float range|list\[.*?\]|%.*?)>")


def _command_paths(group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, command in group.commands.items():
        paths.append((*prefix, name))
        if hasattr(command, "commands"):
            paths += _command_paths(command, (*prefix, name))
    return paths


def test_help_names_values_instead_of_python_types():
    paths = _command_paths(typer.main.get_command(app))
    assert len(paths) > 30
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], terminal_width=120)
        assert result.exit_code == 0, (path, result.output)
        assert not PLACEHOLDER.findall(result.output), (path, result.output)


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (("world", "generate"), ["--size <tiny|demo|large>", "--start YYYY-MM-DD", "--days N"]),
        (("pipeline", "run"), ["--start YYYY-MM-DD", "--end YYYY-MM-DD", "--daily"]),
        (("features", "get"), ["--member MEMBER_ID", "--network COUNTRY:CONNECTION"]),
        (("models", "show"), ["{NAME} {VERSION}", "NAME ", "VERSION "]),
        (("import", "traces"), ["{DIR}"]),
        (("abr", "simulate"), ["--policy <bba|rate_based|bola|robust_mpc|oracle_mpc|xgb_mpc>"]),
    ],
)
def test_help_shows_metavars_and_choices(path, shown):
    output = runner.invoke(app, [*path, "--help"], terminal_width=120).output
    for text in shown:
        assert text in output, (text, output)


def test_simulate_policy_choices_are_the_simulator_policies():
    assert set(typing.get_args(Policy)) == {*baseline_policies(), PREDICTOR_POLICY}


def test_size_outside_its_choices_is_refused_with_them(settings):
    result = runner.invoke(app, ["world", "generate", "--size", "huge"])
    assert result.exit_code == 2
    assert "'huge' is not one of 'tiny', 'demo', 'large'" in result.output
    assert not settings.sources_dir.exists()


def test_models_list_of_an_unknown_model_fails_and_an_empty_registry_does_not(settings):
    empty = runner.invoke(app, ["models", "list"])
    assert empty.exit_code == 0 and "no model versions yet" in empty.output
    unknown = runner.invoke(app, ["models", "list", "nosuchmodel"])
    assert unknown.exit_code == 2
    assert "no versions of model 'nosuchmodel'" in unknown.output


@pytest.fixture
def world_settings(world, monkeypatch):
    home, version = world
    monkeypatch.setenv("REELOPS_HOME", str(home))
    monkeypatch.setenv("REELOPS_PROFILE", "local")
    get_settings.cache_clear()
    yield get_settings(), version
    get_settings.cache_clear()


@pytest.mark.slow
def test_nothing_found_exits_2_and_a_real_lookup_0(world_settings):
    settings, version = world_settings
    listed = runner.invoke(app, ["models", "list", "ranker"])
    assert listed.exit_code == 0 and f"ranker:{version}" in listed.output
    unknown_model = runner.invoke(app, ["models", "list", "nosuchmodel"])
    assert unknown_model.exit_code == 2
    assert "models with versions: ranker" in unknown_model.output

    known = ["features", "get", "--member", "m000000"]
    ok = runner.invoke(app, [*known, "--network", "DE:fibre", "--title", "t00001"])
    assert ok.exit_code == 0, ok.output
    assert "network DE:fibre" in ok.output and "title t00001" in ok.output
    network = runner.invoke(app, [*known, "--network", "XX:unknown"])
    assert network.exit_code == 2
    assert "network 'XX:unknown' has no online features" in network.output
    title = runner.invoke(app, [*known, "--title", "t00001", "--title", "nosuch"])
    assert title.exit_code == 2
    assert "['nosuch']" in title.output and "t00001" not in title.output.split("error:")[1]
    member = runner.invoke(app, ["features", "get", "--member", "nosuch"])
    assert member.exit_code == 2 and "never ingested" in member.output
    version_ = runner.invoke(app, ["models", "show", "ranker", "v0"])
    assert version_.exit_code == 2 and "unknown version ranker:v0" in version_.output


@pytest.mark.slow
def test_materialize_reports_each_view(world_settings):
    from small_world import END, START

    from reelops.features.materialize import materialize

    settings, _ = world_settings
    calls = []
    result = materialize(settings, start=START, end=END, progress=lambda *call: calls.append(call))
    n = len(result.views)
    assert calls == [("feature views", i, n) for i in range(1, n + 1)]


def test_world_generation_reports_steps_and_every_playback_session():
    calls = []
    world = generate_world(WorldConfig.tiny(), progress=lambda *call: calls.append(call))
    sessions = len(world.tables["playback_sessions"])
    assert [c for c in calls if c[0] == "world"] == [("world", i, 3) for i in range(4)]
    reported = [c for c in calls if c[0] == "playback sessions"]
    assert reported[-1] == ("playback sessions", sessions, sessions)
    assert [c[1] for c in reported] == sorted(c[1] for c in reported)


def test_policy_evaluation_reports_every_session():
    traces = synthetic_traces(np.random.default_rng(1), [1.0, 2.5, 4.0], duration_s=60.0)
    policies = {name: baseline_policies()[name] for name in ("bba", "rate_based")}
    calls = []
    frame = evaluate_policies(traces, policies, progress=lambda *call: calls.append(call))
    assert len(frame) == 6
    assert calls == [("sessions", i, 6) for i in range(1, 7)]


def test_progress_bars_stay_out_of_captured_output(settings):
    result = runner.invoke(app, ["world", "generate", "--size", "tiny", "--days", "2"])
    assert result.exit_code == 0, result.output
    assert "━" not in result.output and "source 'world'" in result.output
