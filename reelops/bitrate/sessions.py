"""Training rows for the throughput predictor: sessions simulated over traces, in the mart's layout.

Each simulated session becomes one row per chunk with the columns of
``fct_delivery_samples`` (``prev_throughput_1..5``, ``prev_download_s_1..5``,
``buffer_s``, ``seconds_since_start``, ``throughput_mbps``, ``next_throughput_mbps``,
...), so a model trains the same way on imported traces as on the warehouse. A row's
``throughput_mbps`` is the target: what the chunk requested at that row measured.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from reelops.abr.policies import PolicyFactory, baseline_policies
from reelops.abr.simulator import SessionResult, simulate_session
from reelops.abr.traces import Trace, synthetic_traces
from reelops.abr.video import Video, reference_video
from reelops.bitrate.features import (
    CONTEXT_COLUMNS,
    PREV_DOWNLOAD_COLUMNS,
    PREV_THROUGHPUT_COLUMNS,
    UNKNOWN_CONTEXT,
    SessionContext,
)

BEHAVIOUR_POLICIES = ("bba", "rate_based", "bola", "robust_mpc")
"""Baselines that play the training sessions: between them they fetch every level."""
RANDOMIZED_MEMORY_S = (3.0, 10.0, 30.0)


def behaviour_policies() -> dict[str, PolicyFactory]:
    """The baselines of :data:`BEHAVIOUR_POLICIES` by name (the oracle would need the future)."""
    every = baseline_policies()
    return {name: every[name] for name in BEHAVIOUR_POLICIES}


def randomized_traces(count: int, seed: int) -> list[Trace]:
    """Synthetic traces over a deliberately wide range of networks, to train alongside real ones.

    A model trained on a few real trace families learns their volatility, and is
    overconfident on steadier-looking history from a more volatile network. Mixing in
    traces whose mean (0.2 to 20 Mbit/s, log-uniform), volatility (0.1 to 1.2 in log
    bandwidth), correlation time (3, 10 or 30 s) and outage rate (0 to 2 % per second)
    are drawn at random shows it far more kinds of network than the files hold.

    Args:
        count: Traces to make, split evenly over the correlation times.
        seed: Seed of the parameters and the traces.

    Returns:
        Traces of 600 s at 1 s steps, ids ``randomized-{memory}s-{n}``.
    """
    rng = np.random.default_rng(seed)
    out: list[Trace] = []
    for i, memory_s in enumerate(RANDOMIZED_MEMORY_S):
        n = count // len(RANDOMIZED_MEMORY_S) + (i < count % len(RANDOMIZED_MEMORY_S))
        out += synthetic_traces(
            rng,
            np.exp(rng.uniform(np.log(0.2), np.log(20.0), n)),
            duration_s=600.0,
            volatility=rng.uniform(0.1, 1.2, n),
            memory_s=memory_s,
            outage_rate=rng.uniform(0.0, 0.02, n),
            id_prefix=f"randomized-{memory_s:g}s",
        )
    return out


def _lagged(values: np.ndarray, lag: int) -> np.ndarray:
    """``values`` shifted ``lag`` chunks later (negative: earlier), NaN where undefined."""
    out = np.full(len(values), np.nan)
    if lag > 0:
        out[lag:] = values[:-lag]
    else:
        out[:lag] = values[-lag:]
    return out


def _session_columns(
    result: SessionResult,
    session_id: str,
    context: SessionContext,
    policy: str,
    start_index: int,
) -> dict[str, np.ndarray]:
    n = len(result)
    throughput = result.throughput_mbps.astype(np.float64)
    download = result.download_s.astype(np.float64)
    columns: dict[str, np.ndarray] = {
        "session_id": np.full(n, session_id, dtype=object),
        "chunk_index": np.arange(n, dtype=np.int64),
        "device": np.full(n, context.device, dtype=object),
        "network_key": np.full(n, context.network_key, dtype=object),
        "level": result.level.astype(np.int64),
        "bitrate_kbps": result.bitrate_kbps.astype(np.int64),
        "chunk_bytes": result.chunk_bytes.astype(np.int64),
        "download_s": download,
        "throughput_mbps": throughput,
        "buffer_s": result.buffer_s.astype(np.float64),
        "rebuffer_s": result.rebuffer_s.astype(np.float64),
        "seconds_since_start": result.wall_s.astype(np.float64),
    }
    for k, name in enumerate(PREV_THROUGHPUT_COLUMNS, start=1):
        columns[name] = _lagged(throughput, k)
    for k, name in enumerate(PREV_DOWNLOAD_COLUMNS, start=1):
        columns[name] = _lagged(download, k)
    columns["next_throughput_mbps"] = _lagged(throughput, -1)
    for name, value in zip(
        CONTEXT_COLUMNS,
        (context.throughput_p10_mbps, context.throughput_p50_mbps, context.throughput_p90_mbps),
        strict=True,
    ):
        columns[name] = np.full(n, value, dtype=np.float64)
    columns["trace_id"] = np.full(n, result.trace_id, dtype=object)
    columns["policy"] = np.full(n, policy, dtype=object)
    columns["start_index"] = np.full(n, start_index, dtype=np.int64)
    return columns


def session_rows(
    result: SessionResult,
    session_id: str,
    context: SessionContext = UNKNOWN_CONTEXT,
    policy: str = "",
    start_index: int = 1,
) -> pd.DataFrame:
    """One simulated session as per-chunk rows in the ``fct_delivery_samples`` layout.

    Args:
        result: The session's telemetry.
        session_id: Id to give its rows.
        context: The session's device and network history.
        policy: Name of the policy that played it (kept for provenance).
        start_index: Trace row it started at (kept for provenance).

    Returns:
        One row per chunk, ordered by ``chunk_index``; besides the mart's columns it
        carries ``trace_id``, ``policy`` and ``start_index``.
    """
    return pd.DataFrame(_session_columns(result, session_id, context, policy, start_index))


def simulate_training_sessions(
    traces: Sequence[Trace],
    video: Video | None = None,
    policies: Mapping[str, PolicyFactory] | None = None,
    seed: int = 0,
    context_of_trace: Callable[[Trace], SessionContext] | None = None,
    sessions_per_trace: int = 8,
) -> pd.DataFrame:
    """Play sessions over every trace and return their per-chunk rows.

    Every trace gets ``sessions_per_trace`` sessions. The first starts at trace row 1
    (Pensieve's test mode), the others at random rows, so one trace gives several
    stretches of its bandwidth. Policies take turns from a random offset per trace,
    so each trace is seen at many levels and chunk sizes.

    Args:
        traces: The traces to play over (only training traces, to keep evaluation honest).
        video: The video to play; the packaged reference video if None.
        policies: Name to policy factory; :func:`behaviour_policies` if None.
        seed: Seed of the start rows and the policy offsets.
        context_of_trace: The session context of a trace's sessions (device,
            network throughput percentiles); unknown for all if None.
        sessions_per_trace: Sessions per trace.

    Returns:
        Rows as from :func:`session_rows`, session ids ``"{trace_id}#{n}"``.

    Raises:
        ValueError: No traces, no policies or ``sessions_per_trace < 1``.
    """
    video = video if video is not None else reference_video()
    policies = dict(policies) if policies is not None else behaviour_policies()
    if not traces or not policies or sessions_per_trace < 1:
        raise ValueError(
            f"need traces, policies and sessions_per_trace >= 1, got {len(traces)} trace(s), "
            f"{len(policies)} policy(ies) and sessions_per_trace={sessions_per_trace}"
        )
    rng = np.random.default_rng(seed)
    names = list(policies)
    parts: list[dict[str, np.ndarray]] = []
    for trace in traces:
        context = context_of_trace(trace) if context_of_trace is not None else UNKNOWN_CONTEXT
        offset = int(rng.integers(len(names)))
        rows = len(trace.time_s)
        for n in range(sessions_per_trace):
            start = 1 if n == 0 else int(rng.integers(1, rows))
            name = names[(offset + n) % len(names)]
            result = simulate_session(trace, video, policies[name](trace), start_index=start)
            parts.append(_session_columns(result, f"{trace.trace_id}#{n}", context, name, start))
    return pd.DataFrame({key: np.concatenate([p[key] for p in parts]) for key in parts[0]})
