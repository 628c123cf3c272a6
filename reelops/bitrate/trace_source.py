"""Imported throughput traces: validated as a whole, stored, and played as the ``traces`` source.

``reelops import traces DIR`` parses every file (all or nothing), stores the traces,
and writes a source named ``traces`` whose playback sessions are simulated over
them by the standard players (the same
:func:`~reelops.bitrate.sessions.simulate_training_sessions` the experiments use),
so that ``reelops pipeline run`` lands them, dbt builds the delivery marts and Feast
the network features, and ``reelops bitrate train`` learns from them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from reelops.abr.traces import Trace, load_trace_dir
from reelops.bitrate.features import SessionContext
from reelops.bitrate.sessions import simulate_training_sessions
from reelops.config import Settings
from reelops.sources import write_source

SOURCE = "traces"
START = datetime(2026, 1, 1)
DAYS = 14
SESSIONS_PER_TRACE = 16  # as models/bitrate.yaml's training.sessions_per_trace
PLAYER = "trace-player"
VIDEO_TITLE = "reference-video"
DEVICE = "web"


@dataclass(frozen=True)
class TraceImport:
    """What an import of traces stored."""

    path: Path
    traces: int
    samples: int
    mean_mbps: float
    sessions: int = 0
    first_day: datetime = START
    end_day: datetime = START + timedelta(days=DAYS)


def trace_store_path(settings: Settings) -> Path:
    return settings.sources_dir / SOURCE / "traces.parquet"


def playback_tables(
    traces: list[Trace], sessions_per_trace: int = SESSIONS_PER_TRACE, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """Raw tables of a source whose playback sessions are simulated over ``traces``.

    Every trace gets ``sessions_per_trace`` sessions (the first from row 1, the rest
    from random rows) played by the standard players in turn; sessions are spread
    over :data:`DAYS` days from :data:`START`, one member and one title stand in for
    the unknown viewers, and country and connection are ``unknown``.

    Args:
        traces: The imported traces.
        sessions_per_trace: Sessions per trace.
        seed: Seed of start rows, players and session times.

    Returns:
        ``members``, ``titles``, ``playback_sessions`` and ``delivery_chunks``.
    """
    context = SessionContext(device=DEVICE, network_key="unknown:unknown")
    rows = simulate_training_sessions(
        traces,
        seed=seed,
        sessions_per_trace=sessions_per_trace,
        context_of_trace=lambda _t: context,
    )
    first = rows.drop_duplicates("session_id")
    rng = np.random.default_rng(seed + 1)
    n = len(first)
    offsets = rng.integers(0, DAYS * 86400 - 3600, size=n)
    started = pd.to_datetime(START) + pd.to_timedelta(np.sort(offsets), unit="s")
    session_ts = dict(zip(first["session_id"], started, strict=True))
    sessions = pd.DataFrame(
        {
            "session_id": first["session_id"].to_numpy(),
            "member_id": PLAYER,
            "title_id": VIDEO_TITLE,
            "ts": started,
            "device": DEVICE,
            "country": "unknown",
            "connection_type": "unknown",
            "trace_id": first["trace_id"].to_numpy(),
        }
    )
    chunk_ts = rows["session_id"].map(session_ts) + pd.to_timedelta(
        np.round(rows["seconds_since_start"].to_numpy() * 1e6), unit="us"
    )
    chunks = pd.DataFrame(
        {
            "session_id": rows["session_id"],
            "chunk_index": rows["chunk_index"].astype("int32"),
            "ts": chunk_ts,
            **{
                c: rows[c]
                for c in (
                    "level",
                    "bitrate_kbps",
                    "chunk_bytes",
                    "download_s",
                    "throughput_mbps",
                    "buffer_s",
                    "rebuffer_s",
                )
            },
        }
    )
    members = pd.DataFrame(
        {
            "member_id": [PLAYER],
            "signup_date": [START.date() - timedelta(days=1)],
            "country": ["unknown"],
            "age_band": ["unknown"],
            "gender": ["unknown"],
            "plan": ["unknown"],
            "devices": [DEVICE],
            "connection_type": ["unknown"],
        }
    )
    titles = pd.DataFrame(
        {
            "title_id": [VIDEO_TITLE],
            "name": ["Reference video"],
            "genres": ["unknown"],
            "release_year": [2016],
            "release_date": [datetime(2016, 1, 1).date()],
            "maturity": ["all"],
            "runtime_min": [4],
            "synopsis": ["The 48-chunk reference video every trace session plays."],
        }
    )
    return {
        "members": members,
        "titles": titles,
        "playback_sessions": sessions,
        "delivery_chunks": chunks,
    }


def import_traces(
    settings: Settings, folder: Path, sessions_per_trace: int = SESSIONS_PER_TRACE
) -> TraceImport:
    """Parse every trace file in ``folder``, store them and make the ``traces`` source active.

    Nothing is written unless every file parses.

    Args:
        settings: Platform settings.
        folder: One trace file per network trace.
        sessions_per_trace: Playback sessions simulated per trace for the source.

    Raises:
        TraceFormatError: A file is malformed (naming it, the line and the problem).
        FileNotFoundError: ``folder`` does not exist or holds no files.
    """
    traces = load_trace_dir(Path(folder))
    frame = pd.concat(
        [
            pd.DataFrame({"trace_id": t.trace_id, "time_s": t.time_s, "mbps": t.mbps})
            for t in traces
        ],
        ignore_index=True,
    )
    tables = playback_tables(traces, sessions_per_trace)
    write_source(settings, SOURCE, "traces", tables)
    path = trace_store_path(settings)
    tmp = path.with_suffix(".tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return TraceImport(
        path,
        len(traces),
        len(frame),
        float(frame.mbps.mean()),
        sessions=len(tables["playback_sessions"]),
    )


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
