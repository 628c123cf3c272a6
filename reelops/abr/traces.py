"""Network throughput traces: parse Pensieve/Mahimahi-style logs and synthesise new ones."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

EXPECTED_LINE = '"<time_s> <Mbit/s>" as two numbers'


class TraceFormatError(ValueError):
    """A trace file that cannot be read as a throughput trace."""


@dataclass(frozen=True, eq=False)
class Trace:
    """A throughput trace: bandwidth ``mbps[i]`` Mbit/s holds until ``time_s[i]``.

    Following Pensieve, sample 0 only marks where time starts; the simulator reads
    bandwidth from sample 1 on and loops back to sample 1 when the trace ends.

    Attributes:
        trace_id: Name of the trace (the file name for real traces).
        time_s: Sample times in seconds, non-decreasing.
        mbps: Bandwidth in Mbit/s, finite and non-negative.
    """

    trace_id: str
    time_s: np.ndarray
    mbps: np.ndarray

    def __post_init__(self) -> None:
        time_s = np.asarray(self.time_s, dtype=np.float64)
        mbps = np.asarray(self.mbps, dtype=np.float64)
        problem = _check_samples(time_s, mbps)
        if problem:
            raise ValueError(f"trace {self.trace_id!r}: {problem}")
        time_s.setflags(write=False)
        mbps.setflags(write=False)
        object.__setattr__(self, "time_s", time_s)
        object.__setattr__(self, "mbps", mbps)

    @property
    def duration_s(self) -> float:
        return float(self.time_s[-1] - self.time_s[0])

    @property
    def mean_mbps(self) -> float:
        """Time-weighted mean bandwidth over the part the simulator replays."""
        return float(np.sum(self.mbps[1:] * np.diff(self.time_s)) / self.duration_s)


def traces_to_frame(traces: Iterable[Trace]) -> pd.DataFrame:
    """Traces as one table, one row per sample: ``trace_id``, ``time_s``, ``mbps``.

    The layout in which hold-out traces are stored as parquet; :func:`traces_from_frame`
    reads it back exactly (float64 throughout).
    """
    parts = [
        pd.DataFrame({"trace_id": t.trace_id, "time_s": t.time_s, "mbps": t.mbps}) for t in traces
    ]
    if not parts:
        return pd.DataFrame(
            {
                "trace_id": pd.Series(dtype=object),
                "time_s": pd.Series(dtype=np.float64),
                "mbps": pd.Series(dtype=np.float64),
            }
        )
    return pd.concat(parts, ignore_index=True)


def traces_from_frame(frame: pd.DataFrame) -> dict[str, Trace]:
    """The traces of a :func:`traces_to_frame` table by id, in the table's order.

    Raises:
        ValueError: A column is missing, or a trace's samples are unusable.
    """
    missing = [c for c in ("trace_id", "time_s", "mbps") if c not in frame.columns]
    if missing:
        raise ValueError(f"a trace table needs columns trace_id, time_s, mbps; lacks {missing}")
    return {
        str(tid): Trace(str(tid), g.time_s.to_numpy(), g.mbps.to_numpy())
        for tid, g in frame.groupby("trace_id", sort=False)
    }


def _check_samples(time_s: np.ndarray, mbps: np.ndarray) -> str | None:
    """Say what makes these samples unusable as a trace, or None if they are fine."""
    if time_s.ndim != 1 or time_s.shape != mbps.shape:
        return f"time_s and mbps must be 1-D and equally long, got {time_s.shape}, {mbps.shape}"
    if len(time_s) < 2:
        return f"expected at least 2 samples, found {len(time_s)}"
    if not (np.isfinite(time_s).all() and np.isfinite(mbps).all()):
        return "expected finite numbers only"
    if (time_s < 0).any() or (mbps < 0).any():
        return "expected non-negative times and bandwidths"
    steps = np.diff(time_s)
    if (steps < 0).any():
        i = int(np.argmax(steps < 0)) + 1
        return f"expected non-decreasing times, sample {i} goes back to {time_s[i]} s"
    # Without some bandwidth over some time a download would never finish.
    if not ((mbps[1:] > 0) & (steps > 0)).any():
        return "expected some bandwidth > 0 Mbit/s over an interval longer than 0 s"
    return None


def parse_trace_file(path: str | Path) -> Trace:
    """Read one trace file of ``<time_s> <Mbit/s>`` lines (tabs or spaces).

    Blank lines are skipped. Times must not decrease (the real logs have equal
    neighbours now and then); every number must be finite and non-negative.

    Args:
        path: The trace file; its name becomes the trace id.

    Returns:
        The trace.

    Raises:
        TraceFormatError: The file is not UTF-8, a line is not two valid numbers,
            time goes backwards, or there are fewer than 2 samples; the message
            names the file and the 1-based line.
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line_no = raw.count(b"\n", 0, err.start) + 1
        bad = raw[err.start : err.start + 4]
        raise TraceFormatError(
            f"{path} line {line_no}: expected UTF-8 text, got bytes {bad!r}"
        ) from None

    times: list[float] = []
    rates: list[float] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            if len(fields) != 2:
                raise ValueError
            t, bw = float(fields[0]), float(fields[1])
        except ValueError:
            raise TraceFormatError(
                f"{path} line {line_no}: expected {EXPECTED_LINE}, got {line.strip()!r}"
            ) from None
        if not (math.isfinite(t) and math.isfinite(bw) and t >= 0 and bw >= 0):
            raise TraceFormatError(
                f"{path} line {line_no}: expected finite non-negative numbers, got {line.strip()!r}"
            )
        if times and t < times[-1]:
            raise TraceFormatError(
                f"{path} line {line_no}: expected a time >= {times[-1]} s "
                f"(times must not decrease), got {t} s"
            )
        times.append(t)
        rates.append(bw)

    time_s, mbps = np.array(times), np.array(rates)
    problem = _check_samples(time_s, mbps)
    if problem:
        raise TraceFormatError(f"{path}: {problem}")
    return Trace(path.name, time_s, mbps)


def load_trace_dir(directory: str | Path) -> list[Trace]:
    """Read every file in a directory as a trace, sorted by file name.

    Args:
        directory: Folder of trace files (subfolders and hidden files are skipped).

    Returns:
        The traces, in file-name order.

    Raises:
        TraceFormatError: A file is malformed, or the directory holds no trace files.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise TraceFormatError(f"{directory}: expected a directory of trace files")
    files = sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise TraceFormatError(f"{directory}: expected trace files, found none")
    return [parse_trace_file(p) for p in files]


def synthetic_traces(
    rng: np.random.Generator,
    mean_mbps: Sequence[float] | np.ndarray,
    *,
    duration_s: float = 320.0,
    step_s: float = 1.0,
    volatility: float | Sequence[float] | np.ndarray = 0.4,
    memory_s: float = 8.0,
    outage_rate: float | Sequence[float] | np.ndarray = 0.004,
    outage_s: float = 3.0,
    id_prefix: str = "syn",
    first_number: int = 0,
) -> list[Trace]:
    """Generate throughput traces, one per entry of ``mean_mbps``.

    Log-bandwidth follows an AR(1) process (stationary standard deviation
    ``volatility``, correlation time ``memory_s``) scaled so the long-run mean is
    ``mean_mbps``; on top, outages start with probability ``outage_rate`` per step,
    last ``outage_s`` on average and cut bandwidth to 5 %.

    Args:
        rng: Source of randomness.
        mean_mbps: Long-run mean bandwidth of each trace, Mbit/s.
        duration_s: Length of each trace; the simulator loops it if a session runs longer.
        step_s: Time between samples.
        volatility: Standard deviation of log-bandwidth, per trace or shared.
        memory_s: Correlation time of log-bandwidth, seconds.
        outage_rate: Chance per step that an outage starts, per trace or shared.
        outage_s: Mean outage length, seconds.
        id_prefix: Trace ids are ``f"{id_prefix}-{n}"``.
        first_number: ``n`` of the first trace.

    Returns:
        The traces, sampled at ``0, step_s, 2*step_s, ... duration_s``.
    """
    mean = np.asarray(mean_mbps, dtype=np.float64).reshape(-1)
    bad = ~(np.isfinite(mean) & (mean > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"mean_mbps[{i}] must be finite and > 0 Mbit/s, got {mean[i]}")
    if step_s <= 0 or duration_s < step_s:
        raise ValueError(f"need 0 < step_s <= duration_s, got {step_s=}, {duration_s=}")
    n, steps = len(mean), int(round(duration_s / step_s)) + 1
    sigma = np.broadcast_to(np.asarray(volatility, dtype=np.float64), (n,))
    rate = np.broadcast_to(np.asarray(outage_rate, dtype=np.float64), (n,))

    phi = math.exp(-step_s / memory_s)
    noise = rng.standard_normal((steps, n)) * (sigma * math.sqrt(1.0 - phi * phi))
    starts = rng.random((steps, n)) < rate
    lengths = rng.geometric(min(1.0, step_s / outage_s), size=(steps, n))

    log_bw = np.empty((steps, n))
    in_outage = np.empty((steps, n), dtype=bool)
    x = rng.standard_normal(n) * sigma
    left = np.zeros(n, dtype=np.int64)
    for i in range(steps):
        x = phi * x + noise[i]
        log_bw[i] = x
        left = np.where(starts[i], np.maximum(left, lengths[i]), left)
        in_outage[i] = left > 0
        left = np.maximum(left - 1, 0)
    # Subtract sigma^2/2 so exp() has mean 1 and the trace mean is mean_mbps.
    mbps = mean * np.exp(log_bw - sigma * sigma / 2.0)
    mbps = np.where(in_outage, mbps * 0.05, mbps)
    mbps = np.ascontiguousarray(np.maximum(mbps, 0.01).T.round(6))
    times = np.arange(steps) * step_s
    return [Trace(f"{id_prefix}-{first_number + j}", times, mbps[j]) for j in range(n)]


def synthetic_trace(
    rng: np.random.Generator,
    mean_mbps: float,
    *,
    duration_s: float = 320.0,
    step_s: float = 1.0,
    volatility: float = 0.4,
    outage_rate: float = 0.004,
    trace_id: str = "syn-0",
) -> Trace:
    """Generate one throughput trace; see :func:`synthetic_traces` for the model.

    Args:
        rng: Source of randomness.
        mean_mbps: Long-run mean bandwidth, Mbit/s.
        duration_s: Length of the trace.
        step_s: Time between samples.
        volatility: Standard deviation of log-bandwidth.
        outage_rate: Chance per step that an outage starts.
        trace_id: Id of the trace.

    Returns:
        The trace.
    """
    (trace,) = synthetic_traces(
        rng,
        [mean_mbps],
        duration_s=duration_s,
        step_s=step_s,
        volatility=volatility,
        outage_rate=outage_rate,
    )
    return Trace(trace_id, trace.time_s, trace.mbps)
