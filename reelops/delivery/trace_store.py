"""Imported throughput traces, validated as a whole and stored under REELOPS_HOME."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reelops.config import Settings
from reelops.delivery.traces import Trace, load_trace_dir


@dataclass(frozen=True)
class TraceImport:
    """What an import of traces stored."""

    path: Path
    traces: int
    samples: int
    mean_mbps: float


def trace_store_path(settings: Settings) -> Path:
    return settings.sources_dir / "traces" / "traces.parquet"


def import_traces(settings: Settings, folder: Path) -> TraceImport:
    """Parse every trace file in ``folder`` and store them together (all or nothing)."""
    traces = load_trace_dir(Path(folder))
    frame = pd.concat(
        [
            pd.DataFrame({"trace_id": t.trace_id, "time_s": t.time_s, "mbps": t.mbps})
            for t in traces
        ],
        ignore_index=True,
    )
    path = trace_store_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return TraceImport(path, len(traces), len(frame), float(frame.mbps.mean()))


def load_imported_traces(settings: Settings) -> list[Trace]:
    """The traces of the last ``reelops import traces``."""
    path = trace_store_path(settings)
    if not path.exists():
        raise FileNotFoundError(f"no imported traces at {path}: run `reelops import traces DIR`")
    frame = pd.read_parquet(path)
    return [
        Trace(trace_id=str(tid), time_s=g.time_s.to_numpy(), mbps=g.mbps.to_numpy())
        for tid, g in frame.groupby("trace_id", sort=True)
    ]
