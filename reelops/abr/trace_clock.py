"""Follow a session through its trace, so an oracle can replay its downloads exactly."""

from __future__ import annotations

import math

import numpy as np

from reelops.abr.simulator import (
    BUFFER_THRESH_S,
    BYTES_PER_MBIT,
    DRAIN_BUFFER_SLEEP_S,
    LINK_RTT_S,
    PACKET_PAYLOAD_PORTION,
    PlayerState,
)
from reelops.abr.traces import Trace


class TraceClock:
    """Follows a session through its trace so an oracle can replay downloads exactly.

    The simulator keeps its trace position to itself, so the clock rebuilds it from
    what every policy sees: each chunk moved trace time on by its delay minus the
    80 ms round trip (which is not charged to the trace), plus the sleep that the
    60 s buffer cap forced afterwards, which follows from the buffer rule. Time is
    unrolled (it keeps growing when the trace loops), and the trace is turned into
    cumulative deliverable bytes so that many downloads are timed at once.

    Args:
        trace: The trace the session plays over.
        start_index: The trace row the session starts at (the simulator's argument).
    """

    def __init__(self, trace: Trace, start_index: int = 1) -> None:
        if not 1 <= start_index < len(trace.time_s):
            raise ValueError(
                f"start_index must be in 1..{len(trace.time_s) - 1} for trace "
                f"{trace.trace_id!r}, got {start_index}"
            )
        self.trace = trace
        self._t = trace.time_s - trace.time_s[0]
        # Segment i runs from _t[i] to _t[i + 1] at mbps[i + 1], as in the simulator.
        self._rate = PACKET_PAYLOAD_PORTION * BYTES_PER_MBIT * trace.mbps[1:]
        self._cum = np.concatenate([[0.0], np.cumsum(self._rate * np.diff(self._t))])
        self._period = float(self._t[-1])
        self._period_bytes = float(self._cum[-1])
        self._start = float(self._t[start_index - 1])
        self.reset()

    def reset(self) -> None:
        """Go back to the start of a session."""
        self._clock = self._start
        self._buffer = 0.0
        self._chunks = 0

    def sync(self, state: PlayerState) -> float:
        """Account for the chunks fetched since the last call.

        Args:
            state: The session's state before its next request.

        Returns:
            Unrolled trace time (seconds since the trace's first row) at the request.

        Raises:
            RuntimeError: The state does not continue the session this clock followed:
                a new session without :meth:`reset`, another trace or start index.
        """
        delays, sizes = state.download_s, state.chunk_bytes
        if len(delays) < self._chunks:
            raise RuntimeError(
                f"TraceClock saw {self._chunks} chunks but the state has {len(delays)}; "
                "call reset() at the start of every session"
            )
        chunk_s = state.video.chunk_s
        for k in range(self._chunks, len(delays)):
            delay = delays[k]
            expected = float(
                self.download_s(np.array([float(sizes[k])]), np.array([self._clock]))[0]
            )
            if abs(expected - delay) > 1e-6 * max(1.0, delay):
                raise RuntimeError(
                    f"chunk {k} took {delay:.6f} s but over trace {self.trace.trace_id!r} it "
                    f"would take {expected:.6f} s; give the oracle the session's own trace and "
                    "start index, and reset() it at the start of every session"
                )
            # Same arithmetic as the simulator, so the buffer matches bit for bit.
            buffer = (self._buffer - delay if self._buffer > delay else 0.0) + chunk_s
            sleep = 0.0
            if buffer > BUFFER_THRESH_S:
                steps = math.ceil((buffer - BUFFER_THRESH_S) / DRAIN_BUFFER_SLEEP_S)
                sleep = steps * DRAIN_BUFFER_SLEEP_S
            self._buffer = buffer - sleep
            self._clock += delay - LINK_RTT_S + sleep
        self._chunks = len(delays)
        return self._clock

    def bytes_by(self, clock: np.ndarray) -> np.ndarray:
        """Payload bytes the trace delivers from time 0 to each unrolled ``clock``."""
        loops, at = np.divmod(clock, self._period)
        # at >= 0 = _t[0], so the index is never below 0.
        i = np.minimum(np.searchsorted(self._t, at, side="right") - 1, len(self._rate) - 1)
        return loops * self._period_bytes + self._cum[i] + self._rate[i] * (at - self._t[i])

    def time_of(self, payload: np.ndarray) -> np.ndarray:
        """Unrolled time at which the trace has delivered ``payload`` bytes from time 0.

        Like the simulator, a download that ends exactly where the bandwidth drops to
        zero is finished at the start of the next segment with bandwidth.
        """
        loops, rest = np.divmod(payload, self._period_bytes)
        i = np.minimum(np.searchsorted(self._cum, rest, side="right") - 1, len(self._rate) - 1)
        return loops * self._period + self._t[i] + (rest - self._cum[i]) / self._rate[i]

    def download_s(self, chunk_bytes: np.ndarray, clock: np.ndarray) -> np.ndarray:
        """Delay (round trip included) of fetching ``chunk_bytes`` from ``clock`` on."""
        return self.time_of(self.bytes_by(clock) + chunk_bytes) - clock + LINK_RTT_S
