"""The request-time feature vector of the throughput predictor, for training rows and live players.

A player asking for chunk ``k`` knows its own earlier chunks (throughput, download
time, size), its buffer, how far into the session it is, its device and, from the
feature store, its network's recent throughput. :func:`features_from_rows` builds the
vector from the warehouse's per-chunk rows (``fct_delivery_samples`` column names) and
:func:`features_from_state` from a simulator :class:`~reelops.abr.simulator.PlayerState`;
both hand the same plain numbers to one function, :func:`_vector`, so training and
serving cannot drift apart.

Throughputs enter on a log scale and also relative to the harmonic mean of the last
five (``rel_*``), so a model can learn scale-free corrections to the classic estimate
that carry over to networks faster or slower than the ones it was trained on. Missing
history (fewer than five earlier chunks) and unknown context are NaN, which XGBoost
routes down a learned default branch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reelops.abr.simulator import (
    BUFFER_THRESH_S,
    BYTES_PER_MBIT,
    DRAIN_BUFFER_SLEEP_S,
    PlayerState,
)
from reelops.schema import DEVICES

HISTORY = 5
NAN = float("nan")
# A floor for logs: a measured throughput is bytes over a positive delay, so only a
# corrupt row could reach it.
MIN_MBPS = 1e-3

PREV_THROUGHPUT_COLUMNS = tuple(f"prev_throughput_{k}" for k in range(1, HISTORY + 1))
PREV_DOWNLOAD_COLUMNS = tuple(f"prev_download_s_{k}" for k in range(1, HISTORY + 1))
# Network context as fct_network_daily names it (served by Feast per network_key).
CONTEXT_COLUMNS = ("throughput_p10_7d", "throughput_p50_7d", "throughput_p90_7d")
REQUIRED_COLUMNS = (
    *PREV_THROUGHPUT_COLUMNS,
    *PREV_DOWNLOAD_COLUMNS,
    "buffer_s",
    "chunk_index",
    "seconds_since_start",
)

FEATURE_NAMES: tuple[str, ...] = (
    *(f"log_tput_{k}" for k in range(1, HISTORY + 1)),
    *(f"download_s_{k}" for k in range(1, HISTORY + 1)),
    "log_tput_mean",
    "log_tput_std",
    "log_tput_min",
    "log_tput_max",
    "log_tput_hm",
    *(f"rel_tput_{k}" for k in range(1, HISTORY + 1)),
    "log_last_chunk_bytes",
    "buffer_s",
    "chunk_index",
    "seconds_since_start",
    "device",
    "log_net_p10",
    "log_net_p50",
    "log_net_p90",
    "rel_net_p50",
)
LOG_HM_INDEX = FEATURE_NAMES.index("log_tput_hm")
DEVICE_CODES = {name: float(code) for code, name in enumerate(DEVICES)}


@dataclass(frozen=True, slots=True)
class SessionContext:
    """What is known about a session before its first chunk: device and network history.

    Attributes:
        device: One of :data:`reelops.schema.DEVICES`, or None if unknown.
        throughput_p10_mbps: 10th percentile of the network's recent chunk throughput.
        throughput_p50_mbps: Its median.
        throughput_p90_mbps: Its 90th percentile.
        network_key: ``country:connection_type`` of the session, for the training rows.
    """

    device: str | None = None
    throughput_p10_mbps: float = NAN
    throughput_p50_mbps: float = NAN
    throughput_p90_mbps: float = NAN
    network_key: str = "unknown"

    def __post_init__(self) -> None:
        if self.device is not None and self.device not in DEVICE_CODES:
            raise ValueError(f"device must be one of {DEVICES} or None, got {self.device!r}")


UNKNOWN_CONTEXT = SessionContext()


def _log_or_nan(mbps: float) -> float:
    return math.log(mbps) if mbps > 0 else NAN  # NaN > 0 is False too


def _vector(
    throughputs: Sequence[float],
    downloads: Sequence[float],
    buffer_s: float,
    chunk_index: float,
    seconds_since_start: float,
    device_code: float,
    p10: float,
    p50: float,
    p90: float,
) -> list[float]:
    """The feature vector, in :data:`FEATURE_NAMES` order: the one definition of it.

    Args:
        throughputs: Up to :data:`HISTORY` earlier throughputs, Mbit/s, newest first.
        downloads: Their download times, seconds, newest first.
        buffer_s: Buffer at the request.
        chunk_index: Index of the chunk requested.
        seconds_since_start: Seconds from the session's start to the request.
        device_code: The device's code, or NaN.
        p10: The network's 10th-percentile throughput, Mbit/s, or NaN.
        p50: Its median, or NaN.
        p90: Its 90th percentile, or NaN.
    """
    n = len(throughputs)
    pad = [NAN] * (HISTORY - n)
    rates = [t if t > MIN_MBPS else MIN_MBPS for t in throughputs]
    logs = [math.log(t) for t in rates]
    if n:
        mean = sum(logs) / n
        std = math.sqrt(sum((v - mean) * (v - mean) for v in logs) / n)
        log_hm = math.log(n / sum(1.0 / t for t in rates))
        low, high = min(logs), max(logs)
        # Size from throughput x time (exact up to rounding): the mart has no lagged size.
        last_bytes = _log_or_nan(rates[0] * downloads[0] * BYTES_PER_MBIT)
    else:
        mean = std = log_hm = last_bytes = low = high = NAN
    log_p50 = _log_or_nan(p50)
    return [
        *logs,
        *pad,
        *downloads,
        *pad,
        mean,
        std,
        low,
        high,
        log_hm,
        *[v - log_hm for v in logs],
        *pad,
        last_bytes,
        buffer_s,
        chunk_index,
        seconds_since_start,
        device_code,
        _log_or_nan(p10),
        log_p50,
        _log_or_nan(p90),
        log_p50 - log_hm,
    ]


def _seconds_since_start(state: PlayerState) -> float:
    """Replay the simulator's clock from the download times (sleeps follow from the buffer)."""
    chunk_s = state.video.chunk_s
    buffer = 0.0
    wall = 0.0
    for delay in state.download_s:
        # Same arithmetic, in the same order, as simulate_session: equal to the last bit.
        buffer = (buffer - delay if buffer > delay else 0.0) + chunk_s
        sleep = 0.0
        if buffer > BUFFER_THRESH_S:
            sleep = (
                math.ceil((buffer - BUFFER_THRESH_S) / DRAIN_BUFFER_SLEEP_S) * DRAIN_BUFFER_SLEEP_S
            )
            buffer -= sleep
        wall += delay + sleep
    return wall


def features_from_state(
    state: PlayerState, context: SessionContext = UNKNOWN_CONTEXT
) -> np.ndarray:
    """The feature vector of the request a simulated player is about to make.

    Args:
        state: The player's state before it requests ``state.chunk_index``.
        context: The session's device and network history.

    Returns:
        A float64 array of shape ``(len(FEATURE_NAMES),)``.
    """
    throughputs = state.throughputs_mbps[: -HISTORY - 1 : -1]
    downloads = state.download_s[: -HISTORY - 1 : -1]
    return np.array(
        _vector(
            throughputs,
            downloads,
            state.buffer_s,
            float(state.chunk_index),
            _seconds_since_start(state),
            DEVICE_CODES.get(context.device, NAN),
            context.throughput_p10_mbps,
            context.throughput_p50_mbps,
            context.throughput_p90_mbps,
        )
    )


def features_from_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Feature vectors of per-chunk rows laid out like ``fct_delivery_samples``.

    Each row's history is its ``prev_throughput_1..5`` and ``prev_download_s_1..5``
    up to the first null. ``device`` and the :data:`CONTEXT_COLUMNS` are optional
    (NaN when absent or null).

    Args:
        frame: The rows.

    Returns:
        One row of :data:`FEATURE_NAMES` per input row, on the same index.

    Raises:
        ValueError: A required column is missing, or a device is not one of
            :data:`reelops.schema.DEVICES`.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"delivery rows lack column(s) {missing}; expected the fct_delivery_samples "
            f"layout with at least {list(REQUIRED_COLUMNS)}"
        )
    n = len(frame)

    def floats(column: str) -> list[float]:
        if column not in frame.columns:
            return [NAN] * n
        return frame[column].to_numpy(dtype=np.float64, na_value=NAN).tolist()

    if "device" in frame.columns:
        devices = frame["device"].astype(object).where(frame["device"].notna(), None)
        unknown = sorted(set(devices.dropna()) - DEVICE_CODES.keys())
        if unknown:
            raise ValueError(
                f"column device holds {unknown[:5]}; expected one of {DEVICES} or null"
            )
        device_codes = [DEVICE_CODES.get(d, NAN) for d in devices]
    else:
        device_codes = [NAN] * n

    history = zip(
        zip(*(floats(c) for c in PREV_THROUGHPUT_COLUMNS), strict=True),
        zip(*(floats(c) for c in PREV_DOWNLOAD_COLUMNS), strict=True),
        strict=True,
    )
    rows = []
    for (tputs, downs), buffer, chunk, seconds, device, p10, p50, p90 in zip(
        history,
        floats("buffer_s"),
        floats("chunk_index"),
        floats("seconds_since_start"),
        device_codes,
        *(floats(c) for c in CONTEXT_COLUMNS),
        strict=True,
    ):
        known = 0
        while known < HISTORY and tputs[known] == tputs[known] and downs[known] == downs[known]:
            known += 1
        rows.append(
            _vector(tputs[:known], downs[:known], buffer, chunk, seconds, device, p10, p50, p90)
        )
    return pd.DataFrame(
        np.array(rows, dtype=np.float64).reshape(n, len(FEATURE_NAMES)),
        index=frame.index,
        columns=list(FEATURE_NAMES),
    )
