"""Scripts as data: Fountain and plays parsed with line numbers; malformed input named."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from reelops.cli import app
from reelops.content.fountain import parse_fountain
from reelops.content.model import ScriptFormatError
from reelops.content.plays import parse_play, write_play
from reelops.content.store import import_scripts, load_script, scripts_dir

runner = CliRunner()

BAD_FOUNTAIN = """Title: Broken

INT. KITCHEN - DAY

Anna chops onions.

EXT. GARDEN - NIGHT
Rain falls on the roses.

ANNA
Who's there?

BEDROOM - NIGHT

INT. - NIGHT

Nothing.
"""


def test_fountain_keeps_scenes_speakers_and_source_lines(fountain_file):
    script = parse_fountain(fountain_file)
    assert script.title_id == "night-shift" and script.title == "Night Shift"
    assert [s.heading for s in script.scenes] == [
        "INT. HOSPITAL CORRIDOR - NIGHT",
        "EXT. PARKING LOT - NIGHT",
        "INT. CAFETERIA - DAY",
    ]
    assert [s.number for s in script.scenes] == [5, 19, 29]
    first = script.scenes[0]
    assert [(ln.number, ln.kind, ln.speaker) for ln in first.lines] == [
        (7, "action", None),
        (10, "dialogue", "MARY"),
        (14, "dialogue", "TOM"),  # the parenthetical on line 13 is not speech
        (17, "dialogue", "MARY"),
    ]
    lines = fountain_file.read_text().split("\n")
    for line in script.lines:
        assert line.text.split()[0] in lines[line.number - 1]


def test_malformed_scene_headings_are_reported_with_file_and_line(tmp_path):
    path = tmp_path / "broken.fountain"
    path.write_text(BAD_FOUNTAIN)
    with pytest.raises(ScriptFormatError) as caught:
        parse_fountain(path)
    got = [(line, message.split(" ")[0]) for _, line, message in caught.value.problems]
    assert [line for line, _ in got] == [7, 13, 15]
    text = str(caught.value)
    assert f"{path}:7: scene heading 'EXT. GARDEN - NIGHT' must stand alone" in text
    assert f"{path}:13: 'BEDROOM - NIGHT' looks like a scene heading" in text
    assert f"{path}:15: scene heading 'INT. - NIGHT' names no location" in text


def test_play_parses_acts_scenes_and_continued_speeches(play_file):
    script = parse_play(play_file)
    assert [(s.act, s.heading) for s in script.scenes] == [
        ("I", "SCENE I. A garden."),
        ("I", "SCENE II. A hall."),
        ("II", "SCENE I. The garden again."),
    ]
    ben = script.scenes[0].lines[2]
    assert (ben.number, ben.speaker) == (8, "BEN")
    assert ben.text.endswith("heavy. I have lost my father's ring.")
    again = parse_play(play_file, write_play(script))
    content = lambda s: [(x.heading, x.act, [(ln.speaker, ln.text) for ln in x.lines]) for x in s]  # noqa: E731
    assert content(again.scenes) == content(script.scenes) and again.meta == script.meta


def test_malformed_play_lines_are_named(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("ANNA: too early\nSCENE 1. Here.\nanna: lower case\n[Exit\n")
    with pytest.raises(ScriptFormatError) as caught:
        parse_play(path)
    assert [line for _, line, _ in caught.value.problems] == [1, 3, 4]
    assert f"{path}:3: expected 'NAME: speech'" in str(caught.value)


def test_import_writes_nothing_unless_every_file_parses(settings, fixtures_dir, tmp_path):
    folder = tmp_path / "scripts"
    folder.mkdir()
    for source in fixtures_dir.iterdir():
        (folder / source.name).write_bytes(source.read_bytes())
    (folder / "broken.fountain").write_text(BAD_FOUNTAIN)
    result = runner.invoke(app, ["import", "scripts", str(folder)])
    assert result.exit_code == 2
    assert f"{folder / 'broken.fountain'}:7: scene heading" in result.output
    assert not scripts_dir(settings).exists() or not any(scripts_dir(settings).iterdir())

    (folder / "broken.fountain").unlink()
    result = runner.invoke(app, ["import", "scripts", str(folder)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in scripts_dir(settings).iterdir()) == ["night-shift", "the-quarrel"]
    stored = json.loads((scripts_dir(settings) / "the-quarrel" / "script.json").read_text())
    assert stored["title"] == "The Quarrel"
    assert load_script(settings, "night-shift").characters == ["MARY", "TOM"]
    assert import_scripts(settings, folder)[0].title_id == "night-shift"  # re-import replaces
    assert runner.invoke(app, ["script", "list"]).output.split() == ["night-shift", "the-quarrel"]
