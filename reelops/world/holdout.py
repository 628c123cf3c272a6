"""The world's hold-out traces: fresh draws of its network model, published beside its tables.

Training sessions each draw their bandwidth fresh from the network model, so new
draws per country x connection are traces no model has trained on. The world
publishes them as data (see :class:`reelops.sources.PublishedHoldout`), so a model
evaluates on them without knowing how the world makes networks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reelops.abr.traces import Trace, traces_to_frame
from reelops.schema import DEVICES
from reelops.sources import PublishedHoldout
from reelops.world.members import CONNECTION_LIST, COUNTRY_LIST
from reelops.world.network import network_quality, session_traces

# Seed 0 and 2 traces per segment and split are what the bitrate model's hold-out
# has always been drawn with (its spec's split_seed and holdout_traces_per_segment):
# the same draws keep its figures comparable across versions.
HOLDOUT_SEED = 0
HOLDOUT_TRACES_PER_SEGMENT = 2
HOLDOUT_TRACE_S = 600.0
SPLITS = ("validation", "test")


def draw_holdout(
    seed: int = HOLDOUT_SEED, per_segment: int = HOLDOUT_TRACES_PER_SEGMENT
) -> PublishedHoldout:
    """Validation and test traces per country x connection, with each trace's device.

    The network is the world's default one: no real traces replayed, no bandwidth shift
    (a drift injection changes what members experience, not the yardstick).

    Args:
        seed: Seed of the draws and devices.
        per_segment: Traces per segment and split.

    Returns:
        Traces ``<split>-<country>-<connection>-<nnnn>``; segments in split, country,
        connection order.
    """
    network = network_quality()
    rng = np.random.default_rng(seed)
    traces: list[Trace] = []
    rows = []
    number = 0
    for split in SPLITS:
        for ci, country in enumerate(COUNTRY_LIST):
            for ki, connection in enumerate(CONNECTION_LIST):
                drawn = session_traces(
                    rng,
                    network,
                    np.full(per_segment, ci),
                    np.full(per_segment, ki),
                    HOLDOUT_TRACE_S,
                    first_number=number,
                )
                for trace in drawn:
                    trace_id = f"{split}-{country}-{connection}-{number:04d}"
                    number += 1
                    traces.append(Trace(trace_id, trace.time_s, trace.mbps))
                    rows.append(
                        {
                            "trace_id": trace_id,
                            "split": split,
                            "country": country,
                            "connection": connection,
                            "device": DEVICES[int(rng.integers(len(DEVICES)))],
                        }
                    )
    meta = {
        "kind": "network_model",
        "seed": seed,
        "traces_per_segment": per_segment,
        "trace_s": HOLDOUT_TRACE_S,
    }
    return PublishedHoldout(traces_to_frame(traces), pd.DataFrame(rows), meta)
