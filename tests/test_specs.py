"""Model specs: validation errors name the file and the field."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from reelops.specs import SpecError, load_spec, validate_section

GOOD = """
name: toy
feature_service: toy_v1
evaluator: tests.toy:evaluate
params: {max_depth: 4, eta: 0.1}
search: {max_depth: [3, 6], eta: [0.05, 0.1]}
training: {rows: 10}
gates:
  quality: {metric: ndcg@10, tolerance: 0.01}
  bias:
    segments: [country]
    checks:
      - {kind: segment_ratio, metric: ndcg@10, min: 0.5}
"""


def write(tmp_path, text):
    path = tmp_path / "toy.yaml"
    path.write_text(text)
    return path


def test_good_spec_loads_with_defaults_and_grid(tmp_path):
    spec = load_spec(write(tmp_path, GOOD))
    assert spec.approval == "auto"
    assert spec.gates.drift.max_drifted_share == 0.3
    grid = spec.search_grid()
    assert len(grid) == 4
    assert {(p["max_depth"], p["eta"]) for p in grid} == {(3, 0.05), (3, 0.1), (6, 0.05), (6, 0.1)}


def test_approval_override(tmp_path):
    assert load_spec(write(tmp_path, GOOD), approval="human").approval == "human"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("approval: auto", "approval: maybe"), "approval"),
        (("tolerance: 0.01", "tolerance: -1"), "gates.quality.tolerance"),
        (("min: 0.5}", "max: 0.5}"), "needs 'min'"),
        (("name: toy", "name: toy\ncolour: red"), "colour"),
    ],
)
def test_bad_spec_names_the_field(tmp_path, change, message):
    text = GOOD.replace("feature_service", "approval: auto\nfeature_service")
    text = text.replace(*change)
    with pytest.raises(SpecError, match=message) as error:
        load_spec(write(tmp_path, text))
    assert "toy.yaml" in str(error.value)


def test_missing_spec_lists_known(tmp_path):
    with pytest.raises(SpecError, match="no model spec"):
        load_spec("no_such_model")


def test_section_validation_names_section(tmp_path):
    class Training(BaseModel):
        rows: int

    spec = load_spec(write(tmp_path, GOOD.replace("rows: 10", "rows: many")))
    with pytest.raises(SpecError, match="training.rows"):
        validate_section(spec, "training", Training)
