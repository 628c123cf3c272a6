"""Fixtures for the delivery tests: a folder of small trace files."""

import numpy as np
import pytest

from reelops.delivery.traces import synthetic_traces


def write_traces(folder, n=3):
    """Write ``n`` one-minute synthetic traces as `time_s<TAB>Mbit/s` files."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for trace in synthetic_traces(rng, [1.0, 2.0, 3.0][:n], duration_s=60.0):
        lines = [f"{t:.1f}\t{m:.4f}" for t, m in zip(trace.time_s, trace.mbps, strict=True)]
        (folder / f"{trace.trace_id}.log").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture
def trace_dir(tmp_path):
    """Three small trace files (syn-0..2.log)."""
    return write_traces(tmp_path / "traces")
