"""Throughput predictors, MPC's plug-in point: harmonic mean, robustMPC's, and the oracle's."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from reelops.abr.simulator import (
    BYTES_PER_MBIT,
    PlayerState,
    harmonic_mean_mbps,
)
from reelops.abr.trace_clock import TraceClock
from reelops.abr.traces import Trace

PREDICTION_WINDOW = 5


class ThroughputPredictor(Protocol):
    """Predicts the throughput of the next chunk from what the player has seen."""

    def reset(self) -> None:
        """Forget everything about the previous session."""

    def predict(self, state: PlayerState) -> float | np.ndarray:
        """Return the predicted throughput in Mbit/s.

        A single number, or a 1-D array of equally likely scenarios (for example
        quantiles of a predictive distribution); MPC then maximises the QoE averaged
        over the scenarios.
        """


class HarmonicMeanPredictor:
    """Predicts the harmonic mean of the last ``window`` throughputs (plain MPC's estimate).

    Args:
        window: How many past chunks to average.
    """

    def __init__(self, window: int = PREDICTION_WINDOW) -> None:
        self.window = window

    def reset(self) -> None:
        """Nothing to forget: the estimate is read from the state."""

    def predict(self, state: PlayerState) -> float:
        """Harmonic mean of the recent throughputs, Mbit/s."""
        return harmonic_mean_mbps(state.throughputs_mbps, self.window)


class RobustHarmonicPredictor:
    """robustMPC's estimate: the harmonic mean over ``1 + `` its largest recent relative error.

    As in Pensieve's ``test/mpc.py``, the error recorded at each decision is
    ``|h - t| / t``, where ``h`` is the harmonic mean estimated at the previous decision
    and ``t`` the throughput then measured (0 at the first decision); the divisor uses
    the largest of the last ``window`` errors. The errors are recomputed from the
    state's throughput history, so every session starts clean (Pensieve's script keeps
    them across videos).

    Args:
        window: Chunks in the harmonic mean and errors in the maximum.
    """

    def __init__(self, window: int = PREDICTION_WINDOW) -> None:
        self.window = window

    def reset(self) -> None:
        """Nothing to forget: the errors are rebuilt from the state."""

    def predict(self, state: PlayerState) -> float:
        """Discounted harmonic mean of the recent throughputs, Mbit/s."""
        measured = state.throughputs_mbps
        n, w = len(measured), self.window
        max_error = 0.0
        for j in range(max(1, n - w), n):
            estimate = harmonic_mean_mbps(measured[max(0, j - w) : j], w)
            max_error = max(max_error, abs(estimate - measured[j]) / measured[j])
        return harmonic_mean_mbps(measured, w) / (1.0 + max_error)


class OraclePredictor:
    """Predicts the throughput the next chunk will really get, if fetched at the last level.

    The ceiling for any throughput predictor plugged into :class:`MPC`: the estimate
    is exact for the chunk about to be requested (at ``state.last_level``), though MPC
    still assumes it holds over its whole horizon.

    Args:
        trace: The trace the session plays over.
        start_index: The trace row the session starts at.
    """

    def __init__(self, trace: Trace, start_index: int = 1) -> None:
        self.clock = TraceClock(trace, start_index)

    def reset(self) -> None:
        """Go back to the start of the trace."""
        self.clock.reset()

    def predict(self, state: PlayerState) -> float:
        """Throughput (bytes over delay, round trip included) the next chunk will measure."""
        now = self.clock.sync(state)
        size = float(state.next_chunk_bytes()[state.last_level])
        delay = float(self.clock.download_s(np.array([size]), np.array([now]))[0])
        return size / BYTES_PER_MBIT / delay
