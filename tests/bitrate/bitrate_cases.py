"""Small synthetic traces and a small throughput model shared by the bitrate tests."""

import numpy as np

from reelops.abr.traces import Trace, synthetic_traces
from reelops.bitrate.sessions import simulate_training_sessions
from reelops.bitrate.throughput import ModelParams, ThroughputModel

SMALL = ModelParams(rounds=40, max_depth=3, eta=0.1, min_child_weight=10.0, threads=1)


def traces(n: int, seed: int, prefix: str) -> list[Trace]:
    """``n`` synthetic 300 s traces with means between 0.5 and 4 Mbit/s."""
    rng = np.random.default_rng(seed)
    return synthetic_traces(rng, rng.uniform(0.5, 4.0, n), duration_s=300.0, id_prefix=prefix)


def varied_traces(seed: int, n: int) -> list[Trace]:
    """``n`` synthetic traces, means 0.4-6 Mbit/s and volatility 0.2-0.8, all seeded by ``seed``."""
    rng = np.random.default_rng(seed)
    return synthetic_traces(
        rng,
        np.exp(rng.uniform(np.log(0.4), np.log(6.0), n)),
        volatility=rng.uniform(0.2, 0.8, n),
        id_prefix=f"syn{seed}",
    )


def small_model() -> ThroughputModel:
    """A :data:`SMALL` model fitted on sessions over twelve synthetic traces."""
    rows = simulate_training_sessions(traces(12, 1, "train"), seed=1, sessions_per_trace=3)
    return ThroughputModel.fit(rows, SMALL)
