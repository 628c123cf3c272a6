"""Tests for MPC's throughput predictors: harmonic mean, robustMPC's and the oracle's."""

import numpy as np
import pytest
from abr_cases import state

from reelops.abr.predictors import HarmonicMeanPredictor, OraclePredictor, RobustHarmonicPredictor
from reelops.abr.simulator import harmonic_mean_mbps, simulate_session
from reelops.abr.traces import synthetic_traces
from reelops.abr.video import reference_video

VIDEO = reference_video()


def test_harmonic_and_robust_predictors_by_hand():
    s = state(VIDEO, 2, 5.0, [2.0, 4.0])

    assert harmonic_mean_mbps([2.0, 4.0]) == pytest.approx(8 / 3)
    assert HarmonicMeanPredictor().predict(s) == pytest.approx(8 / 3)
    # The first decision predicted 2.0 and 4.0 came: error |2 - 4| / 4 = 0.5.
    assert RobustHarmonicPredictor().predict(s) == pytest.approx((8 / 3) / 1.5)
    # The first decision has no error to divide by.
    assert RobustHarmonicPredictor().predict(state(VIDEO, 1, 4.0, [3.0])) == 3.0
    # Only the last five throughputs and the last five errors count: the drop to 0.2
    # (an error of 4) has left the window, the final jump to 2.0 (an error of 0.5) has not.
    history = [1.0] * 5 + [0.2] + [1.0] * 9 + [2.0]
    robust = RobustHarmonicPredictor().predict(state(VIDEO, 16, 4.0, history))
    assert robust == pytest.approx((5 / 4.5) / 1.5)
    with pytest.raises(ValueError, match="at least one measured throughput"):
        harmonic_mean_mbps([])


def test_oracle_predictor_knows_the_next_throughput_at_the_last_level():
    trace = synthetic_traces(np.random.default_rng(2), [2.0], volatility=0.8)[0]

    class KeepLevel:
        def __init__(self):
            self.oracle = OraclePredictor(trace)

        def reset(self):
            self.oracle.reset()
            self.predicted = []

        def choose(self, s):
            self.predicted.append(self.oracle.predict(s))
            return s.last_level

    policy = KeepLevel()
    result = simulate_session(trace, VIDEO, policy)
    np.testing.assert_allclose(policy.predicted, result.throughput_mbps[1:], rtol=1e-9)
