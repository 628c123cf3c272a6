"""Tests for the chunk-level simulator and the simple ABR policies."""

import math

import numpy as np
import pytest

from reelops.abr.simulator import (
    BufferBased,
    PlayerState,
    RateBased,
    simulate_session,
)
from reelops.abr.traces import Trace
from reelops.abr.video import reference_video

VIDEO = reference_video()
RTT = 0.08


class Fixed:
    """Always the same level; records the states it saw."""

    def __init__(self, level: int) -> None:
        self.level = level
        self.seen: list[tuple[int, float, int]] = []

    def reset(self) -> None:
        self.seen = []

    def choose(self, state: PlayerState) -> int:
        self.seen.append((state.chunk_index, state.buffer_s, state.chunks_remaining))
        return self.level


def constant(mbps: float, duration_s: float = 10_000.0) -> Trace:
    return Trace(f"const-{mbps}", np.array([0.0, duration_s]), np.array([mbps, mbps]))


def seconds_at(mbps: float, size: int) -> float:
    return size * 8 / 1e6 / mbps / 0.95


def test_download_time_on_constant_trace_is_bytes_over_95_percent_plus_rtt():
    result = simulate_session(constant(1.0), VIDEO, Fixed(0))

    expected = [seconds_at(1.0, VIDEO.chunk_bytes[result.level[k], k]) + RTT for k in range(48)]
    np.testing.assert_allclose(result.download_s, expected, rtol=1e-12)
    np.testing.assert_allclose(
        result.throughput_mbps, result.chunk_bytes * 8 / 1e6 / result.download_s
    )


def test_first_chunk_is_level_1_from_empty_buffer_and_rebuffers_fully():
    result = simulate_session(constant(2.0), VIDEO, Fixed(4))

    assert result.level[0] == 1 and result.bitrate_kbps[0] == 750
    assert result.level[1:].tolist() == [4] * 47
    assert result.buffer_s[0] == 0.0 and result.wall_s[0] == 0.0
    first = seconds_at(2.0, VIDEO.chunk_bytes[1, 0]) + RTT
    assert result.rebuffer_s[0] == pytest.approx(first)
    assert result.buffer_s[1] == pytest.approx(4.0)


def test_buffer_and_rebuffer_follow_the_update_rule():
    policy = Fixed(5)
    result = simulate_session(constant(1.0), VIDEO, policy)

    buffer = 0.0
    for k in range(48):
        delay = seconds_at(1.0, VIDEO.chunk_bytes[result.level[k], k]) + RTT
        assert result.buffer_s[k] == pytest.approx(buffer)
        assert result.rebuffer_s[k] == pytest.approx(max(delay - buffer, 0.0))
        buffer = max(buffer - delay, 0.0) + 4.0
    # Level 5 (4.3 Mbit/s) over 1 Mbit/s stalls on every chunk.
    assert (result.rebuffer_s[1:] > 10).all()
    assert policy.seen[0] == (1, pytest.approx(4.0), 47)
    assert policy.seen[-1][0] == 47 and policy.seen[-1][2] == 1


def test_buffer_is_capped_at_60s_by_sleeping_in_half_seconds():
    result = simulate_session(constant(100.0), VIDEO, Fixed(0))

    assert result.buffer_s.max() <= 60.0
    assert result.buffer_s[-1] > 59.5
    slept = result.sleep_s[result.sleep_s > 0]
    assert len(slept) > 30
    np.testing.assert_array_equal(slept % 0.5, 0.0)
    assert result.rebuffer_s[1:].sum() == 0.0
    np.testing.assert_allclose(
        np.diff(result.wall_s), (result.download_s + result.sleep_s)[:-1], rtol=1e-12
    )


def test_trace_time_runs_on_while_the_player_sleeps():
    # 50 Mbit/s until t=100 s, then 0.2 Mbit/s. Downloads alone would take ~1.5 s in all,
    # so only the sleeps can carry the session past t=100 s.
    trace = Trace("step", np.array([0.0, 100.0, 10_000.0]), np.array([50.0, 50.0, 0.2]))

    result = simulate_session(trace, VIDEO, Fixed(0))

    slow = np.flatnonzero(result.download_s > 5.0)
    assert len(slow) > 0
    first_slow = slow[0]
    # Trace time at each request: downloads (without the RTT) plus sleeps so far.
    requested_at = np.concatenate([[0.0], np.cumsum(result.download_s - RTT + result.sleep_s)])
    assert requested_at[first_slow - 1] < 100.0
    assert requested_at[first_slow] > 99.9


def test_trace_loops_back_to_row_1_when_exhausted():
    # On for a second, off for a second, repeated: row 0 is never replayed.
    trace = Trace("blink", np.array([0.0, 1.0, 2.0]), np.array([99.0, 1.0, 0.0]))

    result = simulate_session(trace, VIDEO, Fixed(1))

    on_time = seconds_at(1.0, VIDEO.chunk_bytes[1, 0])
    whole, part = divmod(on_time, 1.0)
    assert result.download_s[0] == pytest.approx(2 * whole + part + RTT)
    assert whole >= 2


def test_start_index_picks_the_first_trace_row():
    trace = Trace("two", np.array([0.0, 100.0, 200.0]), np.array([0.0, 1.0, 4.0]))

    late = simulate_session(trace, VIDEO, Fixed(1), start_index=2)

    assert late.download_s[0] == pytest.approx(seconds_at(4.0, VIDEO.chunk_bytes[1, 0]) + RTT)
    with pytest.raises(ValueError, match=r"start_index must be in 1\.\.2"):
        simulate_session(trace, VIDEO, Fixed(1), start_index=3)


def test_invalid_level_from_policy_is_rejected():
    with pytest.raises(ValueError, match=r"chose level 6 for chunk 1; expected an int in 0\.\.5"):
        simulate_session(constant(1.0), VIDEO, Fixed(6))


@pytest.mark.parametrize(("mbps", "level"), [(20.0, 5), (3.5, 4), (1.0, 1), (0.4, 0)])
def test_rate_based_picks_highest_bitrate_under_measured_throughput(mbps, level):
    result = simulate_session(constant(mbps), VIDEO, RateBased())

    assert result.level[1:].tolist() == [level] * 47


def test_buffer_based_maps_buffer_to_level_like_bba():
    policy = BufferBased()
    state = PlayerState(VIDEO)

    levels = []
    for buffer in (0.0, 4.99, 5.0, 7.0, 10.0, 14.99, 15.0, 40.0):
        state.buffer_s = buffer
        levels.append(policy.choose(state))

    assert levels == [0, 0, 0, 1, 2, 4, 5, 5]


def test_buffer_based_on_constant_traces():
    fast = simulate_session(constant(20.0), VIDEO, BufferBased())
    slow = simulate_session(constant(0.3), VIDEO, BufferBased())

    assert fast.level[-20:].tolist() == [5] * 20
    assert slow.level[1:].tolist() == [0] * 47
    # The first chunk's delay is all stall (empty buffer); the second drains the buffer.
    assert math.isclose(fast.buffer_s[2], 8.0 - fast.download_s[1], rel_tol=1e-12)
