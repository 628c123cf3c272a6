"""Tests for the trace clock that lets oracles replay a session's downloads exactly."""

import numpy as np

from reelops.abr.simulator import simulate_session
from reelops.abr.trace_clock import TraceClock
from reelops.abr.traces import Trace, synthetic_traces
from reelops.abr.video import reference_video

VIDEO = reference_video()


def test_trace_clock_times_downloads_exactly_like_the_simulator():
    # Fast (the buffer caps and the player sleeps), slow and short (the trace loops).
    traces = [
        *synthetic_traces(np.random.default_rng(1), [40.0, 0.6, 3.0], duration_s=30.0),
        Trace("blink", np.array([0.0, 1.0, 2.0]), np.array([99.0, 1.0, 0.0])),
    ]

    class Probe:
        def __init__(self, trace):
            self.clock = TraceClock(trace)
            self.rng = np.random.default_rng(0)

        def reset(self):
            self.clock.reset()
            self.predicted = []

        def choose(self, s):
            now = self.clock.sync(s)
            level = int(self.rng.integers(0, 6))
            size = np.array([float(s.next_chunk_bytes()[level])])
            self.predicted.append(float(self.clock.download_s(size, np.array([now]))[0]))
            return level

    slept = 0.0
    for trace in traces:
        probe = Probe(trace)
        result = simulate_session(trace, VIDEO, probe)
        np.testing.assert_allclose(probe.predicted, result.download_s[1:], rtol=1e-9)
        slept += result.sleep_s.sum()
    assert slept > 0
