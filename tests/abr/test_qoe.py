"""Tests for the QoE metrics."""

import math

import numpy as np
import pytest

from reelops.abr.qoe import qoe
from reelops.abr.simulator import RateBased, SessionResult, simulate_session
from reelops.abr.traces import synthetic_trace
from reelops.abr.video import reference_video

BITRATES = np.array([300, 750, 1200, 1850, 2850, 4300])


def session(levels: list[int], rebuffer_s: list[float], bitrates=BITRATES) -> SessionResult:
    """A hand-made session: only levels, bitrates and stalls matter to the QoE."""
    n = len(levels)
    level = np.array(levels)
    zeros = np.zeros(n)
    return SessionResult(
        trace_id="hand",
        level=level,
        bitrate_kbps=np.asarray(bitrates)[level],
        chunk_bytes=np.ones(n, dtype=np.int64),
        download_s=np.ones(n),
        throughput_mbps=np.ones(n),
        buffer_s=zeros,
        rebuffer_s=np.array(rebuffer_s),
        sleep_s=zeros,
        wall_s=zeros,
    )


def test_three_chunk_session_by_hand():
    # 750 -> 1850 -> 300 kbit/s with stalls of 2 s (startup), 0.5 s and 1 s.
    scores = qoe(session([1, 3, 0], [2.0, 0.5, 1.0]))

    # Chunks 1 and 2 count; chunk 1's switch is measured from chunk 0's 750 kbit/s.
    assert scores["qoe_lin"] == pytest.approx((1.85 + 0.3) - 4.3 * 1.5 - (1.10 + 1.55))
    log_up, log_down = math.log(1850 / 750), math.log(1850 / 300)
    assert scores["qoe_log"] == pytest.approx(
        (math.log(1850 / 300) + 0.0) - 2.66 * 1.5 - (log_up + log_down)
    )
    assert scores["qoe_hd"] == pytest.approx((12 + 1) - 8 * 1.5 - (10 + 11))
    assert scores["bitrate_mbps"] == pytest.approx(1.075)
    assert scores["rebuffer_s"] == pytest.approx(1.5)
    assert scores["switches"] == 2
    assert scores["startup_s"] == 2.0
    assert scores["chunks"] == 2


def test_steady_top_level_without_stalls_scores_bitrate_times_chunks():
    levels = [1] + [5] * 47
    scores = qoe(session(levels, [3.0] + [0.0] * 47))

    # One switch 0.75 -> 4.3 Mbit/s, then 47 chunks of 4.3 Mbit/s.
    assert scores["qoe_lin"] == pytest.approx(47 * 4.3 - 3.55)
    assert scores["qoe_hd"] == pytest.approx(47 * 20 - 18)
    assert scores["switches"] == 1 and scores["rebuffer_s"] == 0.0


def test_qoe_lin_equals_pensieve_log_summation_on_a_simulated_session():
    trace = synthetic_trace(np.random.default_rng(3), 1.5, volatility=0.7)
    result = simulate_session(trace, reference_video(), RateBased())

    # Pensieve's mpc.py logs one reward per chunk (the first against DEFAULT_QUALITY = 1)
    # and plot_results.py sums reward[1:48].
    rewards, last = [], 750
    for kbps, stall in zip(result.bitrate_kbps.tolist(), result.rebuffer_s.tolist(), strict=True):
        rewards.append(kbps / 1000 - 4.3 * stall - abs(kbps - last) / 1000)
        last = kbps
    assert result.rebuffer_s[1:].sum() > 0  # the example exercises the stall term
    assert qoe(result)["qoe_lin"] == pytest.approx(sum(rewards[1:48]), rel=1e-12)


def test_lowest_bitrate_sets_qoe_log_reference():
    result = session([0, 2, 2], [0.0, 0.0, 0.0])

    default = qoe(result)["qoe_log"]
    assert default == pytest.approx(2 * math.log(4) - math.log(4))
    assert qoe(result, lowest_kbps=150)["qoe_log"] == pytest.approx(default + 2 * math.log(2))


def test_too_short_sessions_and_unknown_bitrates_are_rejected():
    with pytest.raises(ValueError, match="has 1 chunk"):
        qoe(session([1], [1.0]))
    with pytest.raises(ValueError, match=r"\[200\] kbit/s have no QoE_hd reward"):
        qoe(session([0, 1], [0.0, 0.0], bitrates=np.array([300, 200])))
