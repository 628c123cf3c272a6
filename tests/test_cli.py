"""The `reelops` command: help everywhere, typed options, clear errors with exit code 2."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from reelops.cli import app

runner = CliRunner()


def _command_paths(group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, command in group.commands.items():
        paths.append((*prefix, name))
        if hasattr(command, "commands"):  # a sub-group
            paths += _command_paths(command, (*prefix, name))
    return paths


def test_every_command_has_help():
    import typer.main

    paths = _command_paths(typer.main.get_command(app))
    assert ("pipeline", "run") in paths and ("import", "movielens") in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output


def test_world_generate_then_info(settings):
    result = runner.invoke(app, ["world", "generate", "--size", "tiny", "--days", "3"])
    assert result.exit_code == 0, result.output
    assert "source 'world'" in result.output
    info = runner.invoke(app, ["info"])
    assert "source 'world' (synthetic)" in info.output
    assert str(settings.lake_dir("world")) in info.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["world", "generate", "--size", "huge"], "'huge' is not one of 'tiny', 'demo', 'large'"),
        (["world", "generate", "--members", "0"], "greater than or equal to 1"),
        (["pipeline", "run", "--start", "2026-01-05", "--end", "2026-01-01"], "must be after"),
        (["pipeline", "run", "--start", "yesterday", "--end", "2026-01-01"], "yesterday"),
    ],
)
def test_bad_options_are_refused(settings, args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_malformed_trace_import_names_file_and_line(settings, tmp_path):
    folder = tmp_path / "traces"
    folder.mkdir()
    (folder / "good.log").write_text("0\t1.5\n1\t2.0\n")
    (folder / "bad.log").write_text("0\t1.5\n1\tfast\n")
    result = runner.invoke(app, ["import", "traces", str(folder)])
    assert result.exit_code == 2
    assert "bad.log" in result.output and "line 2" in result.output
    assert not (settings.sources_dir / "traces").exists()
    (folder / "bad.log").unlink()
    result = runner.invoke(app, ["import", "traces", str(folder)])
    assert result.exit_code == 0, result.output
    assert "imported 1 traces" in result.output


def test_import_movielens_prints_next_step(settings, movielens_dir):
    folder, wrote = movielens_dir
    result = runner.invoke(app, ["import", "movielens", str(folder)])
    assert result.exit_code == 0, result.output
    assert re.search(rf"viewing_events\s+{wrote['ratings']} rows", result.output)
    assert "next: reelops pipeline run --start 1997-" in result.output


def test_import_movielens_csv_prints_its_notes(settings, movielens_csv_dir):
    folder, wrote = movielens_csv_dir
    result = runner.invoke(app, ["import", "movielens", str(folder)])
    assert result.exit_code == 0, result.output
    assert re.search(rf"viewing_events\s+{len(wrote['ratings'])} rows", result.output)
    assert "note: csv layout" in result.output
    assert "note: genre 'IMAX' dropped from 2 titles" in result.output
    assert "next: reelops pipeline run --start 2005-01-01" in result.output
    (folder / "movies.csv").write_text("movieId,title\n")
    result = runner.invoke(app, ["import", "movielens", str(folder)])
    assert result.exit_code == 2 and "movies.csv line 1: expected the header" in result.output
