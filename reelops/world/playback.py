"""Playback sessions: a daily sample of views streamed chunk by chunk over a network trace."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from reelops.abr.simulator import BufferBased, RateBased, simulate_session
from reelops.abr.video import Video
from reelops.schema import DEVICES
from reelops.world.behaviour import Behaviour
from reelops.world.frames import lookup, padded_ids, raw_frame
from reelops.world.members import CONNECTION_LIST, COUNTRY_LIST, Members
from reelops.world.network import Network, session_traces

POLICY_NAMES = ("rate-based", "buffer-based")
BATCH = 2048  # sessions whose traces are held in memory at once
PROGRESS_EVERY = 100  # sessions between progress reports (a session takes ~1 ms)


@dataclass(frozen=True, eq=False)
class Playback:
    """The two playback tables and the hidden facts of each session."""

    playback_sessions: pd.DataFrame
    delivery_chunks: pd.DataFrame
    session_delivery: pd.DataFrame  # ground truth: policy and trace of each session


def _pick_sessions(rng: np.random.Generator, behaviour: Behaviour, per_day: int) -> np.ndarray:
    """Up to ``per_day`` views of each day, uniformly, in viewing-event order."""
    day = behaviour.view_day
    order = np.lexsort((rng.random(len(day)), day))
    first_of_day = np.searchsorted(day[order], day[order])
    rank = np.arange(len(order)) - first_of_day
    return np.sort(order[rank < per_day])


def simulate_playback(
    rng: np.random.Generator,
    behaviour: Behaviour,
    members: Members,
    network: Network,
    video: Video,
    *,
    sessions_per_day: int,
    rate_based_share: float,
    trace_duration_s: float,
    progress: Callable[[str, int, int], None] | None = None,
) -> Playback:
    """Stream a sample of each day's views and record per-chunk delivery telemetry.

    Args:
        rng: Source of randomness.
        behaviour: The viewing events to sample from.
        members: For each session's country and connection type.
        network: Network ground truth and, optionally, real traces.
        video: The video every session streams.
        sessions_per_day: Views streamed per day (all of them on quieter days).
        rate_based_share: Share of sessions whose player runs the rate-based policy;
            the rest run the buffer-based one.
        trace_duration_s: Length of synthetic traces.
        progress: Called as ``progress("playback sessions", done, total)`` as sessions end.

    Returns:
        Sessions, chunks and each session's hidden policy and trace.
    """
    views = _pick_sessions(rng, behaviour, sessions_per_day)
    n = len(views)
    member = behaviour.view_member[views]
    country, connection = members.country[member], members.connection[member]
    uses_rate = rng.random(n) < rate_based_share
    policies = (RateBased(), BufferBased())

    n_chunks = video.n_chunks
    columns = {
        name: np.empty(n * n_chunks, dtype=dtype)
        for name, dtype in (
            ("level", np.int32),
            ("bitrate_kbps", np.int32),
            ("chunk_bytes", np.int64),
            ("download_s", np.float64),
            ("throughput_mbps", np.float64),
            ("buffer_s", np.float64),
            ("rebuffer_s", np.float64),
            ("wall_s", np.float64),
        )
    }
    trace_ids: list[str] = []
    trace_means = np.empty(n)
    for lo in range(0, n, BATCH):
        hi = min(lo + BATCH, n)
        traces = session_traces(
            rng, network, country[lo:hi], connection[lo:hi], trace_duration_s, first_number=lo
        )
        for i, trace in enumerate(traces, start=lo):
            result = simulate_session(trace, video, policies[0 if uses_rate[i] else 1])
            rows = slice(i * n_chunks, (i + 1) * n_chunks)
            for name, values in columns.items():
                values[rows] = getattr(result, name)
            trace_ids.append(trace.trace_id)
            trace_means[i] = trace.mean_mbps
            if progress is not None and (i + 1) % PROGRESS_EVERY == 0:
                progress("playback sessions", i + 1, n)
    if progress is not None:
        progress("playback sessions", n, n)

    session_ids = padded_ids("s", np.arange(n), 8)
    member_ids = pa.array(members.table["member_id"])
    session_ts = behaviour.view_ts[views]
    sessions = raw_frame(
        "playback_sessions",
        {
            "session_id": session_ids,
            "member_id": lookup(member, member_ids),
            "title_id": pa.array(behaviour.viewing_events["title_id"]).take(views),
            "ts": session_ts,
            "device": lookup(behaviour.view_device[views], DEVICES),
            "country": lookup(country, COUNTRY_LIST),
            "connection_type": lookup(connection, CONNECTION_LIST),
            "trace_id": trace_ids,
        },
    )
    chunk_session = np.repeat(np.arange(n), n_chunks)
    wall_us = np.round(columns.pop("wall_s") * 1e6).astype(np.int64).astype("timedelta64[us]")
    chunks = raw_frame(
        "delivery_chunks",
        {
            "session_id": lookup(chunk_session, session_ids),
            "chunk_index": np.tile(np.arange(n_chunks), n),
            "ts": session_ts[chunk_session] + wall_us,
            **columns,
        },
    )
    truth = pd.DataFrame(
        {
            "session_id": sessions["session_id"],
            "policy": np.array(POLICY_NAMES, dtype=object)[np.where(uses_rate, 0, 1)],
            "trace_id": trace_ids,
            "trace_mean_mbps": trace_means,
        }
    )
    return Playback(sessions, chunks, truth)
