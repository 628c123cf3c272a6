"""Tests for the trace import as a source: sessions simulated over the imported traces."""

import numpy as np
import pytest

from reelops.abr.traces import TraceFormatError, synthetic_traces
from reelops.bitrate.trace_source import (
    SOURCE,
    import_traces,
    load_imported_traces,
    playback_tables,
)
from reelops.sources import active_source, read_source_table, source_info, to_arrow


def test_playback_tables_follow_the_raw_contract():
    traces = synthetic_traces(np.random.default_rng(1), [1.5, 3.0], duration_s=60.0)
    tables = playback_tables(traces, sessions_per_trace=3)
    for name, frame in tables.items():
        to_arrow(name, frame)  # raises on any column that breaks the contract
    sessions, chunks = tables["playback_sessions"], tables["delivery_chunks"]
    assert len(sessions) == 6 and sorted(set(sessions["trace_id"])) == ["syn-0", "syn-1"]
    assert len(chunks) == 6 * 48
    # Chunk requests happen after their session starts, in order.
    merged = chunks.merge(sessions[["session_id", "ts"]], on="session_id", suffixes=("", "_s"))
    assert (merged["ts"] >= merged["ts_s"]).all()
    assert merged.groupby("session_id")["ts"].apply(lambda s: s.is_monotonic_increasing).all()


def test_import_makes_the_traces_source_active(settings, trace_dir):
    folder = trace_dir
    result = import_traces(settings, folder, sessions_per_trace=2)
    assert (result.traces, result.sessions) == (3, 6)
    assert active_source(settings) == SOURCE
    assert source_info(settings, SOURCE).rows["delivery_chunks"] == 6 * 48
    assert read_source_table(settings, SOURCE, "playback_sessions").num_rows == 6
    assert [t.trace_id for t in load_imported_traces(settings)] == [
        "syn-0.log",
        "syn-1.log",
        "syn-2.log",
    ]


def test_malformed_import_writes_nothing(settings, trace_dir):
    folder = trace_dir
    (folder / "broken.log").write_text("0\t1.0\n1\tfast\n")
    with pytest.raises(TraceFormatError, match="broken.log"):
        import_traces(settings, folder)
    assert not (settings.sources_dir / SOURCE).exists()
