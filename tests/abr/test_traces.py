"""Tests for trace parsing and synthetic traces."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reelops.abr.traces import (
    Trace,
    TraceFormatError,
    load_trace_dir,
    parse_trace_file,
    synthetic_trace,
    synthetic_traces,
    traces_from_frame,
    traces_to_frame,
)

# The team's shared folder beside the checkout holds real traces (absent in a user's clone).
REAL_TRACES = Path(__file__).resolve().parents[3] / "shared" / "data" / "abr" / "traces_train"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def test_parse_reads_tabs_spaces_blank_lines_and_equal_times(tmp_path):
    path = write(tmp_path, "good.log", "0.0\t2.5\n\n1.0  3.0\n1.0 0.0\n2.5\t1.25\n\n")

    trace = parse_trace_file(path)

    assert trace.trace_id == "good.log"
    np.testing.assert_array_equal(trace.time_s, [0.0, 1.0, 1.0, 2.5])
    np.testing.assert_array_equal(trace.mbps, [2.5, 3.0, 0.0, 1.25])


@pytest.mark.parametrize(
    ("content", "line", "expected"),
    [
        ("0 1\n1 2\n2\n", 3, "expected \"<time_s> <Mbit/s>\" as two numbers, got '2'"),
        ("0 1\n1 2\n\n2 abc\n", 4, "got '2 abc'"),
        ("0 1\n1 2\n2 3 4\n", 3, "got '2 3 4'"),
        ("0 1\n1 nan\n", 2, "expected finite non-negative numbers"),
        ("0 1\n1 -2\n", 2, "expected finite non-negative numbers"),
        ("0 1\n5 2\n4 3\n", 3, "expected a time >= 5.0 s (times must not decrease), got 4.0 s"),
    ],
)
def test_parse_rejects_malformed_lines_naming_file_and_line(tmp_path, content, line, expected):
    path = write(tmp_path, "bad.log", content)

    with pytest.raises(TraceFormatError) as err:
        parse_trace_file(path)

    assert f"bad.log line {line}: " in str(err.value)
    assert expected in str(err.value)


def test_parse_rejects_non_utf8_bytes_naming_the_line(tmp_path):
    path = write(tmp_path, "binary.log", b"0 1\n1 2\n2 \xff\xfe\n")

    with pytest.raises(TraceFormatError, match=r"binary\.log line 3: expected UTF-8 text"):
        parse_trace_file(path)


def test_parse_rejects_single_sample(tmp_path):
    path = write(tmp_path, "short.log", "0 1\n")

    with pytest.raises(TraceFormatError, match=r"short\.log: expected at least 2 samples, found 1"):
        parse_trace_file(path)


def test_parse_rejects_trace_without_bandwidth(tmp_path):
    path = write(tmp_path, "dead.log", "0 5\n1 0\n2 0\n")

    with pytest.raises(TraceFormatError, match=r"dead\.log: expected some bandwidth > 0"):
        parse_trace_file(path)


def test_load_trace_dir_sorts_by_file_name(tmp_path):
    write(tmp_path, "b.log", "0 1\n1 2\n")
    write(tmp_path, "a.log", "0 3\n1 4\n")

    traces = load_trace_dir(tmp_path)

    assert [t.trace_id for t in traces] == ["a.log", "b.log"]
    assert traces[0].mbps[1] == 4.0


def test_load_trace_dir_rejects_empty_dir(tmp_path):
    with pytest.raises(TraceFormatError, match="expected trace files, found none"):
        load_trace_dir(tmp_path)


@pytest.mark.skipif(
    not REAL_TRACES.is_dir(),
    reason=f"{REAL_TRACES} is absent (only the team's shared folder has it)",
)
def test_load_trace_dir_reads_every_real_trace():
    traces = load_trace_dir(REAL_TRACES)

    assert len(traces) == len(list(REAL_TRACES.iterdir()))
    assert all(t.time_s[0] == 0.0 and t.mean_mbps > 0 for t in traces)


def test_synthetic_traces_are_seeded_and_hit_their_mean():
    means = [0.8, 3.0, 12.0]

    first = synthetic_traces(np.random.default_rng(1), means, duration_s=20_000.0)
    again = synthetic_traces(np.random.default_rng(1), means, duration_s=20_000.0)

    assert [t.trace_id for t in first] == ["syn-0", "syn-1", "syn-2"]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.mbps, b.mbps)
    observed = [t.mean_mbps for t in first]
    # Outages (0.4 % of steps starting, ~3 s, at 5 %) pull the mean ~1 % down.
    np.testing.assert_allclose(observed, means, rtol=0.1)
    assert all((t.mbps > 0).all() and np.diff(t.time_s).min() == 1.0 for t in first)


def test_synthetic_trace_volatility_controls_spread():
    rng = np.random.default_rng(2)
    calm = synthetic_trace(rng, 5.0, duration_s=5000.0, volatility=0.1, outage_rate=0.0)
    rough = synthetic_trace(rng, 5.0, duration_s=5000.0, volatility=0.8, outage_rate=0.0)

    assert np.std(np.log(calm.mbps)) < 0.15 < 0.5 < np.std(np.log(rough.mbps))


def test_trace_rejects_decreasing_times():
    with pytest.raises(ValueError, match="non-decreasing times, sample 2"):
        Trace("x", np.array([0.0, 2.0, 1.0]), np.array([1.0, 1.0, 1.0]))


def test_trace_table_round_trips_exactly_through_parquet(tmp_path):
    rng = np.random.default_rng(4)
    traces = synthetic_traces(rng, [0.8, 3.0, 1.5], duration_s=30.0, id_prefix="t")
    path = tmp_path / "traces.parquet"

    traces_to_frame(traces).to_parquet(path, index=False)
    back = traces_from_frame(pd.read_parquet(path))

    assert list(back) == ["t-0", "t-1", "t-2"]
    for trace in traces:
        np.testing.assert_array_equal(back[trace.trace_id].time_s, trace.time_s)
        np.testing.assert_array_equal(back[trace.trace_id].mbps, trace.mbps)
    assert list(traces_to_frame([]).columns) == ["trace_id", "time_s", "mbps"]
    with pytest.raises(ValueError, match="lacks \\['mbps'\\]"):
        traces_from_frame(pd.DataFrame({"trace_id": ["a"], "time_s": [0.0]}))
