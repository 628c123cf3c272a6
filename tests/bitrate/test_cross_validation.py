"""Tests for the experiment run once per fold and pooled over every trace file."""

import pytest
from bitrate_cases import SMALL, traces

from reelops.bitrate.cross_validation import cross_validate
from reelops.bitrate.protocol import EvaluationSettings, TrainingSettings
from reelops.bitrate.selection import POLICY


def test_cross_validation_tests_every_file_once_and_pools_them():
    pool = traces(24, 5, "cv")
    training = TrainingSettings(
        sessions_per_trace=2, randomized_traces=0, validation_starts=1, threads=1
    )
    evaluation = EvaluationSettings(
        starts_per_trace=1, bootstrap=200, baselines=("robust_mpc",), oracle="oracle_mpc"
    )

    figures = cross_validate(pool, [SMALL], 2, training, evaluation)

    assert [f["fold"] for f in figures["folds"]] == [0, 1]
    assert sum(f["split"]["test"] for f in figures["folds"]) == 24
    pooled = figures["pooled"]
    assert pooled["traces"] == 24 and pooled["versus_reference"]["traces"] == 24
    folds = [f["versus_reference"] for f in figures["folds"]]
    sizes = [f["split"]["test"] for f in figures["folds"]]
    # The pooled difference is the folds' differences weighted by their test files.
    expected = sum(v["mean_diff"] * n for v, n in zip(folds, sizes, strict=True)) / 24
    assert pooled["versus_reference"]["mean_diff"] == pytest.approx(expected)
    assert pooled["versus_reference"]["ci_low"] <= expected <= pooled["versus_reference"]["ci_high"]
    assert pooled["gap_closed_to_oracle"] is not None
    assert xgb_line_in(pooled["table"])


def xgb_line_in(table: str) -> bool:
    return any(line.startswith(POLICY) for line in table.splitlines())
