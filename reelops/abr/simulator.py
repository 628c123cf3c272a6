"""Chunk-level ABR simulator with Pensieve's test-mode semantics, and two simple policies.

One session plays a :class:`~reelops.abr.video.Video` over a
:class:`~reelops.abr.traces.Trace`. As in Pensieve's ``sim/fixed_env.py``:

* trace row ``i`` means ``mbps[i]`` Mbit/s until ``time_s[i]``; playback starts at
  row ``start_index`` (1) and, when the trace runs out, loops back to row 1;
* a chunk downloads at 95 % of the bandwidth (packet payload share), integrated over
  trace time, and costs another 80 ms round trip that is not charged to trace time;
* rebuffering is ``max(delay - buffer, 0)``; then ``buffer = max(buffer - delay, 0) + 4 s``;
* above 60 s of buffer the player sleeps in 0.5 s steps until it is back under 60 s,
  while trace time runs on;
* the first chunk is fetched at level 1 from an empty buffer, the policy picks the rest.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from reelops.abr.traces import Trace
from reelops.abr.video import Video

PACKET_PAYLOAD_PORTION = 0.95
LINK_RTT_S = 0.08
BUFFER_THRESH_S = 60.0
DRAIN_BUFFER_SLEEP_S = 0.5
FIRST_LEVEL = 1
BYTES_PER_MBIT = 1e6 / 8.0


@dataclass(slots=True)
class PlayerState:
    """What a policy sees before choosing the level of the next chunk.

    The simulator updates one instance in place during a session, so a policy must
    copy anything it wants to keep beyond the current call.

    Attributes:
        video: The video being played.
        chunk_index: Index of the chunk about to be requested.
        buffer_s: Seconds of video in the buffer now.
        chunks_remaining: Chunks left to fetch, this one included.
        levels: Level of each chunk fetched so far.
        throughputs_mbps: Measured throughput of each chunk (bytes over delay incl. RTT).
        download_s: Delay of each chunk in seconds, round trip included.
        chunk_bytes: Size of each chunk fetched so far.
    """

    video: Video
    chunk_index: int = 0
    buffer_s: float = 0.0
    chunks_remaining: int = 0
    levels: list[int] = field(default_factory=list)
    throughputs_mbps: list[float] = field(default_factory=list)
    download_s: list[float] = field(default_factory=list)
    chunk_bytes: list[int] = field(default_factory=list)

    @property
    def last_level(self) -> int:
        return self.levels[-1] if self.levels else FIRST_LEVEL

    def next_chunk_bytes(self) -> np.ndarray:
        """Size of the chunk about to be requested at each level."""
        return self.video.chunk_bytes[:, self.chunk_index]


class Policy(Protocol):
    """An ABR algorithm: picks the level of each chunk after the first."""

    def reset(self) -> None:
        """Forget everything about the previous session."""

    def choose(self, state: PlayerState) -> int:
        """Return the level (0 = lowest bitrate) to fetch ``state.chunk_index`` at."""


@dataclass(frozen=True, eq=False)
class SessionResult:
    """Per-chunk telemetry of one simulated session; every array has one entry per chunk.

    Attributes:
        trace_id: The trace the session ran over.
        level: Level fetched.
        bitrate_kbps: Nominal bitrate of that level.
        chunk_bytes: Size of the chunk fetched.
        download_s: Delay from request to last byte, round trip included.
        throughput_mbps: ``chunk_bytes * 8 / 1e6 / download_s``.
        buffer_s: Buffer when the request was made.
        rebuffer_s: Stall while this chunk downloaded.
        sleep_s: Pause after this chunk because the buffer was full.
        wall_s: Seconds since the session started when the request was made.
    """

    trace_id: str
    level: np.ndarray
    bitrate_kbps: np.ndarray
    chunk_bytes: np.ndarray
    download_s: np.ndarray
    throughput_mbps: np.ndarray
    buffer_s: np.ndarray
    rebuffer_s: np.ndarray
    sleep_s: np.ndarray
    wall_s: np.ndarray

    def __len__(self) -> int:
        return len(self.level)


def simulate_session(
    trace: Trace,
    video: Video,
    policy: Policy,
    start_index: int = 1,
) -> SessionResult:
    """Play ``video`` over ``trace`` with ``policy`` choosing levels.

    Args:
        trace: Bandwidth over time; looped when the session outlasts it.
        video: Chunk sizes per level.
        policy: Chooses the level of every chunk after the first.
        start_index: Trace row the session starts at (Pensieve's test mode uses 1).

    Returns:
        Per-chunk telemetry.

    Raises:
        ValueError: ``start_index`` is outside the trace or the policy returned an
            unknown level.
    """
    times: list[float] = trace.time_s.tolist()
    bandwidths: list[float] = trace.mbps.tolist()
    n_rows = len(times)
    if not 1 <= start_index < n_rows:
        raise ValueError(
            f"start_index must be in 1..{n_rows - 1} for trace {trace.trace_id!r}, "
            f"got {start_index}"
        )
    sizes = video.size_rows
    bitrates = video.bitrates_kbps
    n_levels, n_chunks = video.n_levels, video.n_chunks

    ptr = start_index
    trace_t = times[ptr - 1]
    buffer = 0.0
    wall = 0.0
    state = PlayerState(video)
    levels, throughputs, delays, sent_sizes = (
        state.levels,
        state.throughputs_mbps,
        state.download_s,
        state.chunk_bytes,
    )
    buffers: list[float] = []
    rebuffers: list[float] = []
    sleeps: list[float] = []
    walls: list[float] = []
    policy.reset()

    for chunk in range(n_chunks):
        if chunk == 0:
            level = FIRST_LEVEL
        else:
            state.chunk_index = chunk
            state.buffer_s = buffer
            state.chunks_remaining = n_chunks - chunk
            level = policy.choose(state)
            if not 0 <= level < n_levels:
                raise ValueError(
                    f"policy {type(policy).__name__} chose level {level!r} for chunk "
                    f"{chunk}; expected an int in 0..{n_levels - 1}"
                )
        size = sizes[level][chunk]
        buffers.append(buffer)
        walls.append(wall)

        # Walk the trace until the chunk's bytes are through.
        sent = 0.0
        delay = 0.0
        while True:
            rate = bandwidths[ptr] * BYTES_PER_MBIT
            duration = times[ptr] - trace_t
            payload = rate * duration * PACKET_PAYLOAD_PORTION
            if sent + payload > size:
                fraction = (size - sent) / rate / PACKET_PAYLOAD_PORTION
                delay += fraction
                trace_t += fraction
                break
            sent += payload
            delay += duration
            trace_t = times[ptr]
            ptr += 1
            if ptr >= n_rows:
                # Pensieve resets to time 0; times[0] is 0 for every real trace.
                ptr = 1
                trace_t = times[0]
        delay += LINK_RTT_S

        rebuffer = delay - buffer if delay > buffer else 0.0
        buffer = (buffer - delay if buffer > delay else 0.0) + video.chunk_s

        sleep = 0.0
        if buffer > BUFFER_THRESH_S:
            sleep = (
                math.ceil((buffer - BUFFER_THRESH_S) / DRAIN_BUFFER_SLEEP_S) * DRAIN_BUFFER_SLEEP_S
            )
            buffer -= sleep
            # Trace time runs on while the player sleeps.
            left = sleep
            while True:
                duration = times[ptr] - trace_t
                if duration > left:
                    trace_t += left
                    break
                left -= duration
                trace_t = times[ptr]
                ptr += 1
                if ptr >= n_rows:
                    ptr = 1
                    trace_t = times[0]

        levels.append(level)
        sent_sizes.append(size)
        delays.append(delay)
        throughputs.append(size / BYTES_PER_MBIT / delay)
        rebuffers.append(rebuffer)
        sleeps.append(sleep)
        # Pensieve's logs add a sleep shortened by the trace walk; the full sleep is what passes.
        wall += delay + sleep

    level_arr = np.array(levels, dtype=np.int32)
    return SessionResult(
        trace_id=trace.trace_id,
        level=level_arr,
        bitrate_kbps=np.array(bitrates, dtype=np.int32)[level_arr],
        chunk_bytes=np.array(sent_sizes, dtype=np.int64),
        download_s=np.array(delays),
        throughput_mbps=np.array(throughputs),
        buffer_s=np.array(buffers),
        rebuffer_s=np.array(rebuffers),
        sleep_s=np.array(sleeps),
        wall_s=np.array(walls),
    )


def harmonic_mean_mbps(throughputs_mbps: Sequence[float], window: int = 5) -> float:
    """Harmonic mean of the last ``window`` throughputs (fewer if fewer were measured).

    Args:
        throughputs_mbps: Measured throughput of each chunk so far, oldest first.
        window: How many of the latest to average.

    Returns:
        The harmonic mean in Mbit/s.

    Raises:
        ValueError: No throughput has been measured yet.
    """
    recent = throughputs_mbps[-window:]
    if len(recent) == 0:
        raise ValueError("harmonic mean needs at least one measured throughput, got none")
    return len(recent) / sum(1.0 / t for t in recent)


class RateBased:
    """Rate-based ABR: the highest bitrate not above the harmonic mean of recent throughput.

    Args:
        window: How many past chunks' throughputs to average.
    """

    def __init__(self, window: int = 5) -> None:
        self.window = window

    def reset(self) -> None:
        """Nothing to forget: the policy reads everything from the state."""

    def choose(self, state: PlayerState) -> int:
        """Pick the highest level whose bitrate is at most the predicted throughput."""
        predicted_kbps = 1000.0 * harmonic_mean_mbps(state.throughputs_mbps, self.window)
        return max(bisect_right(state.video.bitrates_kbps, predicted_kbps) - 1, 0)


class BufferBased:
    """Buffer-based ABR (BBA, as Pensieve's ``test/bb.py``): the level grows with the buffer.

    Below ``reservoir_s`` it picks the lowest level, above ``reservoir_s + cushion_s``
    the highest, and in between it rises linearly, rounding down.

    Args:
        reservoir_s: Buffer below which the lowest level is used.
        cushion_s: Width of the buffer range over which the level rises.
    """

    def __init__(self, reservoir_s: float = 5.0, cushion_s: float = 10.0) -> None:
        self.reservoir_s = reservoir_s
        self.cushion_s = cushion_s

    def reset(self) -> None:
        """Nothing to forget: the policy reads everything from the state."""

    def choose(self, state: PlayerState) -> int:
        """Map the current buffer to a level."""
        top = state.video.n_levels - 1
        buffer = state.buffer_s
        if buffer < self.reservoir_s:
            return 0
        if buffer >= self.reservoir_s + self.cushion_s:
            return top
        return int(top * (buffer - self.reservoir_s) / self.cushion_s)
