"""ABR policies beyond the simulator's own two: BOLA, MPC over throughput predictors, oracle MPC.

MPC (Yin et al., SIGCOMM 2015) follows Pensieve's ``test/mpc.py``: before each chunk
it scores every sequence of levels for the next ``horizon`` chunks (6^5 = 7776 of
them, fewer near the end of the video) by the QoE_lin they would earn, then fetches
the first level of the best. Its planning model is Pensieve's: a chunk of ``S`` bytes
takes ``S / predicted throughput`` seconds (no round trip, no 60 s buffer cap), the
buffer drains by that and gains 4 s, and stalls cost 4.3 per second. It plans with
the sizes of the chunks it will fetch; Pensieve's script reads each size one chunk
ahead, an off-by-one not reproduced here. The search is
vectorised over all sequences, so one decision takes well under a millisecond.

The throughput predictor is the plug-in point: :class:`RobustHarmonicPredictor`
makes robustMPC, a learned model can take its place. :class:`OracleMPC` runs the same
search against the session's real future bandwidth instead (an upper reference).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Protocol

import numpy as np

from reelops.abr.qoe import REBUFFER_PENALTY_LIN, SMOOTH_PENALTY
from reelops.abr.simulator import (
    BUFFER_THRESH_S,
    BYTES_PER_MBIT,
    DRAIN_BUFFER_SLEEP_S,
    LINK_RTT_S,
    PACKET_PAYLOAD_PORTION,
    BufferBased,
    PlayerState,
    Policy,
    RateBased,
    harmonic_mean_mbps,
)
from reelops.abr.traces import Trace

MPC_HORIZON = 5
PREDICTION_WINDOW = 5

PolicyFactory = Callable[[Trace], Policy]
"""Builds a fresh policy for a session over the given trace (only oracles look at it)."""


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


@lru_cache(maxsize=16)
def level_plans(n_levels: int, horizon: int) -> np.ndarray:
    """Every sequence of ``horizon`` levels, in ``itertools.product`` order.

    Args:
        n_levels: Levels to choose from.
        horizon: Length of each sequence.

    Returns:
        Read-only int array of shape ``(n_levels ** horizon, horizon)``.
    """
    plans = np.indices((n_levels,) * horizon).reshape(horizon, -1).T.copy()
    plans.setflags(write=False)
    return plans


@lru_cache(maxsize=64)
def _plan_quality(bitrates_kbps: tuple[int, ...], horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Each plan's bitrate sum minus its internal switches, and its first bitrate (Mbit/s)."""
    mbps = np.asarray(bitrates_kbps, dtype=np.float64)[level_plans(len(bitrates_kbps), horizon)]
    mbps /= 1000.0
    quality = mbps.sum(axis=1) - SMOOTH_PENALTY * np.abs(np.diff(mbps, axis=1)).sum(axis=1)
    first = mbps[:, 0].copy()
    quality.setflags(write=False)
    first.setflags(write=False)
    return quality, first


def _best_first_level(
    state: PlayerState,
    horizon: int,
    predicted_mbps: np.ndarray | None = None,
    trace: TraceClock | None = None,
    now: float = 0.0,
) -> int:
    """Run MPC's exhaustive search and return the first level of the best plan.

    Give either ``predicted_mbps`` (Pensieve's planning model: a chunk takes its size
    over the predicted throughput, QoE averaged over the scenarios) or ``trace`` and
    ``now`` (exact replay with the simulator's round trip, payload share, buffer cap
    and looping).

    Args:
        state: The player's state before the request.
        horizon: Chunks to plan for (cut to what is left of the video).
        predicted_mbps: Equally likely throughput scenarios, Mbit/s, shape ``(k,)``.
        trace: The session's trace, for exact replay.
        now: Unrolled trace time at the request, for exact replay.
    """
    video = state.video
    n_levels = video.n_levels
    h = min(horizon, state.chunks_remaining)
    exact = trace is not None
    if exact:
        seconds_per_mbit = None
        times = np.array([[now]])
        # Track the trace's cumulative payload too: after a download it is known
        # without a search, and only sleeps move time without moving payload.
        payload = trace.bytes_by(times)
    else:
        seconds_per_mbit = (1.0 / predicted_mbps)[np.newaxis, :]
    scenarios = 1 if exact else seconds_per_mbit.shape[1]
    buffer = np.full((1, scenarios), state.buffer_s)
    stalls = np.zeros((1, scenarios))
    # Grow the plans one chunk at a time: plans sharing a prefix share its rollout, so
    # step j handles n_levels ** (j + 1) prefixes rather than every full plan. Repeating
    # each prefix once per level keeps the rows in itertools.product order.
    for j in range(h):
        level_bytes = video.chunk_bytes[:, state.chunk_index + j].astype(np.float64)
        sizes = np.tile(level_bytes, len(buffer))[:, np.newaxis]
        buffer = np.repeat(buffer, n_levels, axis=0)
        stalls = np.repeat(stalls, n_levels, axis=0)
        if exact:
            payload = np.repeat(payload, n_levels, axis=0) + sizes
            done = trace.time_of(payload)
            delay = done - np.repeat(times, n_levels, axis=0) + LINK_RTT_S
            times = done
        else:
            delay = sizes / BYTES_PER_MBIT * seconds_per_mbit
        stall = np.maximum(delay - buffer, 0.0)
        stalls += stall
        buffer += stall - delay + video.chunk_s
        if exact:
            over = np.maximum(buffer - BUFFER_THRESH_S, 0.0)
            sleep = np.ceil(over / DRAIN_BUFFER_SLEEP_S) * DRAIN_BUFFER_SLEEP_S
            slept = sleep > 0
            if slept.any():
                buffer -= sleep
                times += sleep
                payload[slept] = trace.bytes_by(times[slept])

    plans = level_plans(n_levels, h)
    quality, first_mbps = _plan_quality(video.bitrates_kbps, h)
    n = len(plans)
    last_mbps = video.bitrates_kbps[state.last_level] / 1000.0
    reward = (
        quality
        - SMOOTH_PENALTY * np.abs(first_mbps - last_mbps)
        - REBUFFER_PENALTY_LIN * stalls.mean(axis=1)
    )
    # Pensieve keeps the last of equally good plans (its loop compares with >=).
    best = n - 1 - int(np.argmax(reward[::-1]))
    return int(plans[best, 0])


class MPC:
    """Model-predictive ABR over a throughput predictor (robustMPC with the default predictor).

    Args:
        predictor: Predicts the next chunks' throughput; a 1-D array of predictions
            is read as equally likely scenarios and the QoE is averaged over them.
        horizon: Chunks to plan ahead.
    """

    def __init__(self, predictor: ThroughputPredictor | None = None, horizon: int = MPC_HORIZON):
        if horizon < 1:
            raise ValueError(f"horizon must be at least 1 chunk, got {horizon}")
        self.predictor = predictor if predictor is not None else RobustHarmonicPredictor()
        self.horizon = horizon

    def reset(self) -> None:
        """Reset the predictor for a new session."""
        self.predictor.reset()

    def choose(self, state: PlayerState) -> int:
        """Fetch the first level of the plan with the best predicted QoE_lin."""
        return self.plan(state, self.predictor.predict(state), type(self.predictor).__name__)

    def plan(
        self, state: PlayerState, predicted_mbps: float | np.ndarray, source: str = "predicted"
    ) -> int:
        """The first level of the best plan under a given prediction; reads no other state.

        Serving calls this with the model's answer for the request, so concurrent
        requests share nothing mutable.

        Args:
            state: The player's state before the request.
            predicted_mbps: A throughput, or equally likely scenarios, Mbit/s.
            source: Names the prediction's origin in errors.

        Raises:
            ValueError: The prediction is empty, not finite or not positive.
        """
        predicted = np.atleast_1d(np.asarray(predicted_mbps, dtype=np.float64))
        if predicted.ndim != 1 or len(predicted) == 0 or not np.all(np.isfinite(predicted)):
            raise ValueError(
                f"{source}.predict returned {predicted!r}; expected "
                "a finite throughput in Mbit/s or a 1-D array of them"
            )
        if (predicted <= 0).any():
            raise ValueError(
                f"{source}.predict returned {predicted!r} Mbit/s; expected throughputs > 0"
            )
        return _best_first_level(state, self.horizon, predicted_mbps=predicted)


def robust_mpc(horizon: int = MPC_HORIZON) -> MPC:
    """robustMPC as in Pensieve: MPC over :class:`RobustHarmonicPredictor`."""
    return MPC(RobustHarmonicPredictor(), horizon)


class OracleMPC:
    """MPC that knows the session's true future bandwidth: an upper reference, not a player.

    Each candidate plan is replayed against the real trace from the session's current
    trace position with the simulator's exact rules (95 % payload, 80 ms round trip,
    sleeps above 60 s of buffer, looping), so its stalls are the ones the plan would
    really cause. It is still greedy over ``horizon`` chunks, so it bounds what a
    perfect throughput predictor can give MPC rather than what any policy can reach.

    Args:
        trace: The trace the session plays over (build one oracle per session).
        horizon: Chunks to plan ahead.
        start_index: The trace row the session starts at, as given to the simulator.
    """

    def __init__(self, trace: Trace, horizon: int = MPC_HORIZON, start_index: int = 1) -> None:
        if horizon < 1:
            raise ValueError(f"horizon must be at least 1 chunk, got {horizon}")
        self.clock = TraceClock(trace, start_index)
        self.horizon = horizon

    def reset(self) -> None:
        """Go back to the start of the trace."""
        self.clock.reset()

    def choose(self, state: PlayerState) -> int:
        """Fetch the first level of the plan with the best true QoE_lin."""
        now = self.clock.sync(state)
        return _best_first_level(state, self.horizon, trace=self.clock, now=now)


class Bola:
    """BOLA-BASIC (Spiteri et al., INFOCOM 2016), as in Spiteri's Sabre simulator.

    Picks the level ``m`` maximising ``(V * (u_m + gamma_p) - buffer) / bitrate_m`` with
    utility ``u_m = log(bitrate_m / bitrate_0)``. ``gamma_p = 5`` is the paper's and
    Sabre's default; ``V = (buffer_target - chunk_s) / (u_top + gamma_p)`` puts the top
    level's score to zero when a chunk would overfill a ``buffer_target_s`` buffer (25 s,
    Sabre's default). Without the option to wait, a full buffer simply keeps the top
    level; the simulator's 60 s cap does the waiting.

    Args:
        buffer_target_s: The buffer BOLA aims to fill, seconds.
        gamma_p: Weight of avoiding stalls against utility.
    """

    def __init__(self, buffer_target_s: float = 25.0, gamma_p: float = 5.0) -> None:
        self.buffer_target_s = buffer_target_s
        self.gamma_p = gamma_p

    def reset(self) -> None:
        """Nothing to forget: the policy reads everything from the state."""

    def choose(self, state: PlayerState) -> int:
        """Map the current buffer to the level with the best utility per bit."""
        video = state.video
        if self.buffer_target_s <= video.chunk_s:
            raise ValueError(
                f"BOLA buffer_target_s must exceed the chunk length {video.chunk_s} s, "
                f"got {self.buffer_target_s}"
            )
        bitrates = np.asarray(video.bitrates_kbps, dtype=np.float64)
        utility = np.log(bitrates / bitrates[0])
        v = (self.buffer_target_s - video.chunk_s) / (utility[-1] + self.gamma_p)
        score = (v * (utility + self.gamma_p) - state.buffer_s) / bitrates
        return int(np.argmax(score))


def baseline_policies() -> dict[str, PolicyFactory]:
    """The standard ABR baselines by name, each as a factory of one session's policy.

    Returns:
        ``bba``, ``rate_based``, ``bola``, ``robust_mpc`` and ``oracle_mpc``.
    """
    return {
        "bba": lambda _trace: BufferBased(),
        "rate_based": lambda _trace: RateBased(),
        "bola": lambda _trace: Bola(),
        "robust_mpc": lambda _trace: robust_mpc(),
        "oracle_mpc": lambda trace: OracleMPC(trace),
    }
