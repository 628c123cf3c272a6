"""Synthetic scripts with hidden truth: the analyzer finds what was planted, nothing else."""

from __future__ import annotations

from pathlib import Path

from reelops.content.analyze import analyze
from reelops.content.fountain import parse_fountain
from reelops.content.synthetic import Truth, evaluate, write_script


def test_planted_flaws_are_found_and_a_clean_script_has_none():
    planted = Truth("flawed", "Icarus", 0.8, contradiction=("", "job"), unpaid_setup="compass")
    planted.dragging_scene = -1
    result = analyze(parse_fountain(Path("flawed.fountain"), write_script(planted, seed=1)))
    assert [(c.speaker, c.attribute) for c in result.contradictions] == [planted.contradiction]
    assert [s.word for s in result.unpaid_setups] == ["compass"]
    assert result.scenes.loc[result.scenes["drags"], "scene"].tolist() == [planted.dragging_scene]
    assert result.arc.shape == "Icarus"

    clean = Truth("clean", "man in a hole", 0.2, paid_setups=["key", "map"])
    result = analyze(parse_fountain(Path("clean.fountain"), write_script(clean, seed=2)))
    assert result.contradictions == [] and result.unpaid_setups == []
    assert not result.scenes["drags"].any() and result.arc.shape == "man in a hole"


def test_evaluation_scores_against_the_truth():
    figures = evaluate(n=6, seed=3)
    assert figures["scripts"] == 6
    assert figures["contradiction_recall"] >= 0.9 and figures["clean_without_flag"] >= 0.9
    assert figures["arc_accuracy"] >= 0.8 and figures["pace_spearman"] >= 0.8
