"""Hidden network quality by country and connection type, and the trace each session gets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reelops.abr.traces import Trace, synthetic_traces
from reelops.world.members import CONNECTION_LIST, COUNTRY_LIST

# Median session bandwidth is the country's factor times the connection's base speed,
# so e.g. NG/IN mobile sits near the lowest bitrate and NO/JP fibre far above the top one.
COUNTRY_SPEED = {
    "US": 1.2, "GB": 1.1, "DE": 1.0, "BR": 0.7, "IN": 0.5, "JP": 1.5, "NG": 0.35, "NO": 1.6,
}  # fmt: skip
CONNECTION_MBPS = {"fibre": 8.0, "cable": 5.0, "dsl": 2.5, "mobile": 1.5}
CONNECTION_VOLATILITY = {"fibre": 0.15, "cable": 0.25, "dsl": 0.3, "mobile": 0.6}
CONNECTION_OUTAGE_RATE = {"fibre": 0.0005, "cable": 0.001, "dsl": 0.002, "mobile": 0.01}
SESSION_SPREAD = 0.35  # log-sd of one session's mean bandwidth around its segment's median


@dataclass(frozen=True, eq=False)
class Network:
    """Network quality per (country, connection) and, optionally, real traces to replay.

    Arrays have shape (countries, connections) in COUNTRY_LIST and CONNECTION_LIST
    order. With real traces, a session replays one of them with its bandwidth
    multiplied by ``bandwidth_scale`` of the member's segment.
    """

    median_mbps: np.ndarray
    volatility: np.ndarray
    outage_rate: np.ndarray
    bandwidth_scale: np.ndarray
    real_traces: tuple[Trace, ...] | None

    def truth(self) -> pd.DataFrame:
        countries, connections = np.meshgrid(
            np.arange(len(COUNTRY_LIST)), np.arange(len(CONNECTION_LIST)), indexing="ij"
        )
        return pd.DataFrame(
            {
                "country": np.array(COUNTRY_LIST, dtype=object)[countries.ravel()],
                "connection_type": np.array(CONNECTION_LIST, dtype=object)[connections.ravel()],
                "median_mbps": self.median_mbps.ravel(),
                "volatility": self.volatility.ravel(),
                "outage_rate": self.outage_rate.ravel(),
                "trace_source": "synthetic" if self.real_traces is None else "real",
                "bandwidth_scale": self.bandwidth_scale.ravel(),
            }
        )


def network_quality(traces: list[Trace] | None = None) -> Network:
    """The network ground truth; with ``traces``, how to scale them per segment.

    Args:
        traces: Real traces to replay, or None for synthetic ones.

    Returns:
        The network. For real traces ``bandwidth_scale`` is the segment's median over
        the median of the traces' own mean bandwidths; for synthetic ones it is 1.
    """
    country = np.array([COUNTRY_SPEED[c] for c in COUNTRY_LIST])
    connection = np.array([CONNECTION_MBPS[k] for k in CONNECTION_LIST])
    median = np.outer(country, connection)
    shape = median.shape
    volatility = np.broadcast_to([CONNECTION_VOLATILITY[k] for k in CONNECTION_LIST], shape)
    outage = np.broadcast_to([CONNECTION_OUTAGE_RATE[k] for k in CONNECTION_LIST], shape)
    if traces is None:
        return Network(median, volatility.copy(), outage.copy(), np.ones(shape), None)
    if not traces:
        raise ValueError("traces must hold at least one trace, or be None for synthetic ones")
    reference = float(np.median([t.mean_mbps for t in traces]))
    return Network(median, volatility.copy(), outage.copy(), median / reference, tuple(traces))


def session_traces(
    rng: np.random.Generator,
    network: Network,
    country: np.ndarray,
    connection: np.ndarray,
    duration_s: float,
    first_number: int,
) -> list[Trace]:
    """One trace per session for members in the given segments.

    Args:
        rng: Source of randomness.
        network: Network ground truth.
        country: Each session's country index.
        connection: Each session's connection index.
        duration_s: Length of synthetic traces.
        first_number: Number of the first session, for synthetic trace ids ``syn-<n>``.

    Returns:
        The traces, one per session.
    """
    if network.real_traces is None:
        spread = rng.normal(0.0, SESSION_SPREAD, len(country))
        return synthetic_traces(
            rng,
            network.median_mbps[country, connection] * np.exp(spread),
            duration_s=duration_s,
            volatility=network.volatility[country, connection],
            outage_rate=network.outage_rate[country, connection],
            first_number=first_number,
        )
    picked = rng.integers(len(network.real_traces), size=len(country))
    scale = network.bandwidth_scale[country, connection]
    return [
        Trace(trace.trace_id, trace.time_s, trace.mbps * s)
        for trace, s in zip((network.real_traces[i] for i in picked), scale, strict=True)
    ]
