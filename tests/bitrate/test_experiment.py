"""Tests for the acceptance experiment on trace files, split by file."""

from pathlib import Path

import pytest
from bitrate_cases import SMALL

from reelops.abr.traces import load_trace_dir
from reelops.bitrate.experiment import run_experiment
from reelops.bitrate.protocol import EvaluationSettings, TrainingSettings

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "abr" / "traces_train"


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared ABR traces not found at {SHARED}")
def test_experiment_on_real_traces_splits_by_file_and_never_tests_on_training_files():
    every = load_trace_dir(SHARED)
    training = TrainingSettings(
        sessions_per_trace=2, randomized_traces=0, validation_starts=1, threads=1
    )
    evaluation = EvaluationSettings(
        starts_per_trace=1, bootstrap=200, baselines=("robust_mpc",), oracle=None
    )
    result = run_experiment(every[:30], [SMALL], training, evaluation)
    split = result.figures["split"]
    assert sum(split.values()) == 30
    tested = {t.trace_id for t in result.test}
    assert len(tested) == split["test"]
    assert result.figures["test"]["pensieve"]["versus_reference"]["traces"] == split["test"]
