"""Quality of experience of a simulated session: Pensieve's QoE_lin, QoE_log and QoE_hd."""

from __future__ import annotations

import numpy as np

from reelops.abr.simulator import SessionResult
from reelops.abr.video import REFERENCE_BITRATES_KBPS

# Penalties per second of rebuffering, from the Pensieve paper (Mao et al., SIGCOMM 2017).
REBUFFER_PENALTY_LIN = 4.3
REBUFFER_PENALTY_LOG = 2.66
REBUFFER_PENALTY_HD = 8.0
SMOOTH_PENALTY = 1.0
# QoE_hd's bitrate reward: a big step up once the picture is HD (1850 kbit/s and above).
HD_REWARD: dict[int, float] = {300: 1, 750: 2, 1200: 3, 1850: 12, 2850: 15, 4300: 20}

QOE_KEYS = (
    "qoe_lin",
    "qoe_log",
    "qoe_hd",
    "bitrate_mbps",
    "rebuffer_s",
    "switches",
    "startup_s",
    "chunks",
)


def qoe(result: SessionResult, lowest_kbps: int = REFERENCE_BITRATES_KBPS[0]) -> dict[str, float]:
    """Score one session the way Pensieve's ``test/plot_results.py`` does.

    Pensieve sums each video's per-chunk rewards over ``reward[1:48]``: the first
    chunk (fetched at a fixed level from an empty buffer, with its startup stall) is
    left out, and the second chunk's smoothness term compares it with the first.
    Every figure here is over those same scored chunks ``1..n-1``: for chunk ``k``

    * QoE_lin adds ``R_k - 4.3 * stall_k - |R_k - R_{k-1}|`` with ``R`` in Mbit/s;
    * QoE_log does the same with ``log(R / lowest)`` and a 2.66 penalty;
    * QoE_hd maps bitrates through :data:`HD_REWARD` and uses a penalty of 8.

    Args:
        result: Per-chunk telemetry of the session.
        lowest_kbps: The lowest bitrate of the video's ladder, QoE_log's reference.

    Returns:
        ``qoe_lin``, ``qoe_log``, ``qoe_hd`` (sums over the scored chunks),
        ``bitrate_mbps`` (their mean bitrate), ``rebuffer_s`` (their total stall),
        ``switches`` (level changes into them), ``startup_s`` (the first chunk's
        stall, which the QoE leaves out) and ``chunks`` (how many were scored).

    Raises:
        ValueError: The session has fewer than 2 chunks, or a bitrate has no
            QoE_hd reward.
    """
    if len(result) < 2:
        raise ValueError(
            f"session over trace {result.trace_id!r} has {len(result)} chunk(s); "
            "QoE skips the first chunk, so at least 2 are needed"
        )
    kbps = result.bitrate_kbps.astype(np.float64)
    stalls = result.rebuffer_s[1:]
    unknown = sorted(set(result.bitrate_kbps.tolist()) - HD_REWARD.keys())
    if unknown:
        raise ValueError(
            f"session over trace {result.trace_id!r}: bitrate(s) {unknown} kbit/s have no "
            f"QoE_hd reward; expected bitrates among {sorted(HD_REWARD)}"
        )

    lin = _reward(kbps / 1000.0, stalls, REBUFFER_PENALTY_LIN)
    log = _reward(np.log(kbps / lowest_kbps), stalls, REBUFFER_PENALTY_LOG)
    hd_reward = np.array([HD_REWARD[int(b)] for b in result.bitrate_kbps], dtype=np.float64)
    hd = _reward(hd_reward, stalls, REBUFFER_PENALTY_HD)
    return {
        "qoe_lin": lin,
        "qoe_log": log,
        "qoe_hd": hd,
        "bitrate_mbps": float(kbps[1:].mean() / 1000.0),
        "rebuffer_s": float(stalls.sum()),
        "switches": int(np.count_nonzero(np.diff(result.level))),
        "startup_s": float(result.rebuffer_s[0]),
        "chunks": len(result) - 1,
    }


def _reward(quality: np.ndarray, stalls: np.ndarray, rebuffer_penalty: float) -> float:
    """Sum of quality minus stall and switch penalties over chunks 1..n-1."""
    smooth = np.abs(np.diff(quality))
    total = quality[1:].sum() - rebuffer_penalty * stalls.sum() - SMOOTH_PENALTY * smooth.sum()
    return float(total)
