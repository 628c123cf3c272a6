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

The throughput predictor is the plug-in point (:mod:`reelops.abr.predictors`):
:class:`RobustHarmonicPredictor` makes robustMPC, a learned model can take its place.
:class:`OracleMPC` runs the same search against the session's real future bandwidth
instead (an upper reference).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from reelops.abr.predictors import RobustHarmonicPredictor, ThroughputPredictor
from reelops.abr.qoe import REBUFFER_PENALTY_LIN, SMOOTH_PENALTY
from reelops.abr.simulator import (
    BUFFER_THRESH_S,
    BYTES_PER_MBIT,
    DRAIN_BUFFER_SLEEP_S,
    LINK_RTT_S,
    BufferBased,
    PlayerState,
    Policy,
    RateBased,
)
from reelops.abr.trace_clock import TraceClock
from reelops.abr.traces import Trace

MPC_HORIZON = 5

PolicyFactory = Callable[[Trace], Policy]
"""Builds a fresh policy for a session over the given trace (only oracles look at it)."""


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
