"""The Script Analyzer: flags with both lines, unpaid setups, arc, pacing, the HTML report."""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser

import pytest
from PIL import Image
from typer.testing import CliRunner

from reelops.cli import app
from reelops.content.analyze import analyze
from reelops.content.arc import classify_shape
from reelops.content.consistency import contradictions, stated_facts
from reelops.content.fountain import parse_fountain
from reelops.content.plays import parse_play
from reelops.content.report import render

runner = CliRunner()

FACTS = """Title: Facts

INT. OFFICE - DAY

JO
I work as a teacher. My brother Sam is coming.

KIM
I'm a lawyer. Remember the letter on the desk.

EXT. STREET - NIGHT

JO
I'm an only child, you know that. I'm a teacher, as I said.

KIM
I read the letter twice.
"""


@pytest.fixture(scope="module")
def night_shift(request):
    path = request.path.parent / "fixtures" / "night_shift.fountain"
    return analyze(parse_fountain(path))


def test_a_contradiction_is_flagged_with_both_lines(night_shift):
    (flag,) = night_shift.contradictions
    assert (flag.speaker, flag.attribute) == ("MARY", "age")
    assert (flag.first.line, flag.first.value) == (10, "34")
    assert (flag.second.line, flag.second.value) == (32, "52")
    assert flag.first.text.startswith("I'm thirty-four years old")
    assert flag.second.text.startswith("I am 52 and too tired")
    assert any(
        "MARY states two different ages (line 10: 34; line 32: 52)" in s
        for s in night_shift.suggestions
    )


def test_relations_and_jobs_contradict_and_paid_setups_are_not_flagged(tmp_path):
    path = tmp_path / "facts.fountain"
    path.write_text(FACTS)
    script = parse_fountain(path)
    flags = contradictions(stated_facts(script))
    assert [(f.speaker, f.attribute, f.first.line, f.second.line) for f in flags] == [
        ("JO", "relation", 6, 14)
    ]  # "my brother Sam" vs "an only child"; the teacher is a teacher twice
    result = analyze(script)
    assert result.unpaid_setups == []  # the letter comes back in the next scene


def test_unpaid_setup_clean_play_and_who_speaks_with_whom(night_shift, play_file):
    assert [(s.word, s.line) for s in night_shift.unpaid_setups] == [("key", 17)]
    play = analyze(parse_play(play_file))
    assert play.contradictions == [] and play.unpaid_setups == []
    pairs = {(r.a, r.b): r.exchanges for r in play.interactions.itertuples()}
    assert pairs == {("ANNA", "BEN"): 3, ("BEN", "CLAUDIO"): 2}
    assert play.scenes["speakers"].tolist() == [2, 2, 3]
    assert play.features["arc_end"] > play.features["sentiment_mean"]  # it ends in joy


def test_arc_shapes_are_told_apart():
    import numpy as np

    x = np.linspace(0, 1, 100)
    assert classify_shape(x)[0] == "rags to riches"
    assert classify_shape(np.sin(np.pi * x))[0] == "Icarus"
    assert classify_shape(-np.sin(np.pi * x))[0] == "man in a hole"
    assert classify_shape(-np.cos(3 * np.pi * x) + 0.3 * x)[0] == "Cinderella"
    assert classify_shape(np.cos(3 * np.pi * x) - 0.3 * x)[0] == "Oedipus"
    assert classify_shape(np.zeros(100))[1] == dict.fromkeys(classify_shape(x)[1], 0.0)


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.text = {}, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images[attrs["id"]] = attrs["src"]

    def handle_data(self, data):
        self.text.append(data)


def test_the_html_report_holds_its_plots_and_flags(night_shift):
    page = _Images()
    page.feed(render(night_shift))
    assert set(page.images) == {"arc", "pacing"}
    for src in page.images.values():
        assert src.startswith("data:image/png;base64,")
        image = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        assert image.format == "PNG" and image.width > 500 and image.height > 200
    text = " ".join(page.text)
    assert "I'm thirty-four years old" in text and "I am 52 and too tired" in text
    assert "Remember the key in the locker" in text


def test_cli_analyzes_a_file_or_an_imported_title(settings, fountain_file, fixtures_dir):
    result = runner.invoke(app, ["script", "analyze", str(fountain_file)])
    assert result.exit_code == 0, result.output
    assert "contradiction: MARY's age: line 10 says '34', line 32 says '52'" in result.output
    report = settings.reports_dir / "scripts" / "night-shift.html"
    assert f"report: {report.resolve().as_uri()}" in result.output and report.is_file()
    missing = runner.invoke(app, ["script", "analyze", "--title", "the-quarrel"])
    assert missing.exit_code == 2 and "reelops import scripts DIR" in missing.output
    assert runner.invoke(app, ["import", "scripts", str(fixtures_dir)]).exit_code == 0
    imported = runner.invoke(app, ["script", "analyze", "--title", "the-quarrel"])
    assert imported.exit_code == 0 and "3 scenes, 3 characters" in imported.output
    assert runner.invoke(app, ["script", "analyze"]).exit_code == 2
