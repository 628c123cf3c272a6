"""Tests for the ``training`` and ``evaluation`` sections of the bitrate spec."""

import pytest
from pydantic import ValidationError

from reelops.bitrate.protocol import EvaluationSettings, TrainingSettings
from reelops.bitrate.selection import model_grid


def test_settings_reject_bad_values_with_the_field():
    with pytest.raises(ValidationError, match="modes"):
        TrainingSettings(modes=(0.3,))
    with pytest.raises(ValidationError, match="unknown baselines"):
        EvaluationSettings(baselines=("bba", "pensieve"))
    with pytest.raises(ValueError, match="unknown model parameter"):
        model_grid({"depth": 3}, {}, TrainingSettings())
    grid = model_grid({"rounds": 10}, {"horizon": [1, 5]}, TrainingSettings(seed=3))
    assert [(p.horizon, p.rounds, p.seed) for p in grid] == [(1, 10, 3), (5, 10, 3)]
