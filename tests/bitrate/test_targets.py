"""Tests for what the throughput model learns from: targets and bootstrap weights."""

import numpy as np
import pytest
from bitrate_cases import varied_traces

from reelops.bitrate.sessions import simulate_training_sessions
from reelops.bitrate.targets import bootstrap_weights, target_mbps


def test_horizon_target_is_the_harmonic_mean_of_the_chunks_ahead():
    rows = simulate_training_sessions(varied_traces(15, 1), seed=3, sessions_per_trace=2)
    shuffled = rows.sample(frac=1.0, random_state=0)

    target = target_mbps(shuffled, 3)

    one = shuffled["session_id"] == rows["session_id"].iloc[0]
    by_chunk = dict(zip(shuffled.loc[one, "chunk_index"], target[one.to_numpy()], strict=True))
    t = rows.loc[rows["session_id"] == rows["session_id"].iloc[0], "throughput_mbps"].to_numpy()
    assert by_chunk[10] == pytest.approx(3 / (1 / t[10] + 1 / t[11] + 1 / t[12]))
    assert by_chunk[47] == pytest.approx(t[47])
    assert by_chunk[46] == pytest.approx(2 / (1 / t[46] + 1 / t[47]))
    np.testing.assert_array_equal(target_mbps(rows, 1), rows["throughput_mbps"].to_numpy())
    with pytest.raises(ValueError, match="session_id"):
        target_mbps(rows.drop(columns=["session_id"]), 3)


def test_bootstrap_draws_whole_traces_as_often_as_there_are_traces():
    groups = np.array(["a", "a", "b", "c", "c", "c"])
    weights = bootstrap_weights(groups, seed=3)
    for name in "abc":  # every row of a trace carries the same count
        assert len(set(weights[groups == name])) == 1
    per_trace = {name: weights[groups == name][0] for name in "abc"}
    assert sum(per_trace.values()) == 3 and min(per_trace.values()) >= 0
    assert np.array_equal(weights, bootstrap_weights(groups, seed=3))
