"""Judge ABR policies on held-out trace files: per-trace QoE, paired bootstrap, summary table."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from reelops.abr.policies import PolicyFactory
from reelops.abr.qoe import qoe
from reelops.abr.simulator import simulate_session
from reelops.abr.traces import Trace
from reelops.abr.video import Video, reference_video
from reelops.stats import paired_bootstrap

SPLITS = ("train", "validation", "test")
SUMMARY_COLUMNS = (
    "qoe_lin",
    "qoe_lin_per_chunk",
    "qoe_log",
    "qoe_hd",
    "bitrate_mbps",
    "rebuffer_s",
    "switches",
)


def split_traces(
    traces: Sequence[Trace],
    seed: int,
    fractions: Sequence[float] = (0.6, 0.2, 0.2),
) -> dict[str, list[Trace]]:
    """Split traces into train, validation and test sets by file, never within a file.

    Each trace goes wholly to one set, chosen by a hash of ``seed`` and its id (the
    file name): the choice depends on nothing else, so it is the same on every
    machine and in every order, and importing more files never moves a file that
    was already assigned. The set sizes follow ``fractions`` only on average.

    Args:
        traces: The traces, with distinct ids.
        seed: Changes the assignment.
        fractions: Shares of train, validation and test; non-negative, summing to 1.

    Returns:
        ``{"train": [...], "validation": [...], "test": [...]}``, each sorted by id.

    Raises:
        ValueError: Bad fractions, or two traces share an id.
    """
    shares = [float(f) for f in fractions]
    if (
        len(shares) != len(SPLITS)
        or any(not math.isfinite(f) or f < 0 for f in shares)
        or not math.isclose(sum(shares), 1.0, abs_tol=1e-9)
    ):
        raise ValueError(
            f"fractions must be {len(SPLITS)} non-negative numbers (train, validation, test) "
            f"summing to 1, got {tuple(fractions)}"
        )
    _check_unique_ids(traces)
    bounds = np.cumsum(shares)
    splits: dict[str, list[Trace]] = {name: [] for name in SPLITS}
    for trace in sorted(traces, key=lambda t: t.trace_id):
        digest = hashlib.sha256(f"{seed}/{trace.trace_id}".encode()).digest()
        u = int.from_bytes(digest[:8], "big") / 2.0**64
        which = min(int(np.searchsorted(bounds, u, side="right")), len(SPLITS) - 1)
        splits[SPLITS[which]].append(trace)
    return splits


def fold_traces(
    traces: Sequence[Trace], folds: int, seed: int, validation_share: float = 0.25
) -> list[dict[str, list[Trace]]]:
    """Cross-validation by file: every trace is in exactly one fold's test set.

    A trace's fold is a hash of ``seed`` and its id, like :func:`split_traces`; within a
    fold, the other traces are split into validation (``validation_share`` of them, by
    another hash) and train. No trace is ever split, and no fold trains or chooses on
    its own test files.

    Args:
        traces: The traces, with distinct ids.
        folds: How many folds (at least 2).
        seed: Changes the assignment.
        validation_share: Share of the non-test traces used for validation.

    Returns:
        One ``{"train", "validation", "test"}`` dict per fold, each list sorted by id.

    Raises:
        ValueError: Fewer than 2 folds, a share outside (0, 1), or two traces share an id.
    """
    if folds < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {folds}")
    if not 0 < validation_share < 1:
        raise ValueError(f"validation_share must be within (0, 1), got {validation_share}")
    _check_unique_ids(traces)

    def unit(salt: str, trace: Trace) -> float:
        digest = hashlib.sha256(f"{seed}/{salt}/{trace.trace_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2.0**64

    ordered = sorted(traces, key=lambda t: t.trace_id)
    fold_of = {t.trace_id: min(int(unit("fold", t) * folds), folds - 1) for t in ordered}
    out = []
    for fold in range(folds):
        parts: dict[str, list[Trace]] = {name: [] for name in SPLITS}
        for trace in ordered:
            if fold_of[trace.trace_id] == fold:
                parts["test"].append(trace)
            elif unit(f"validation{fold}", trace) < validation_share:
                parts["validation"].append(trace)
            else:
                parts["train"].append(trace)
        out.append(parts)
    return out


def evaluate_policies(
    traces: Sequence[Trace],
    policies: Mapping[str, PolicyFactory],
    video: Video | None = None,
    start_index: int = 1,
    progress: Callable[[str, int, int], None] | None = None,
) -> pd.DataFrame:
    """Play the video over every trace with every policy and score each session.

    Args:
        traces: The traces, with distinct ids.
        policies: Name to factory; a factory builds a fresh policy for one session
            and is handed that session's trace (only oracles use it).
        video: The video to play; the packaged reference video if None.
        start_index: Trace row each session starts at.
        progress: Called as ``progress("sessions", done, total)`` after each session.

    Returns:
        One row per trace and policy: ``trace_id``, ``policy``, the :func:`qoe`
        figures and ``sim_s`` (wall-clock seconds the session took to simulate).

    Raises:
        ValueError: No traces or no policies, or two traces share an id.
    """
    if not traces or not policies:
        raise ValueError(
            f"need at least one trace and one policy, got {len(traces)} trace(s) and "
            f"{len(policies)} policy(ies)"
        )
    _check_unique_ids(traces)
    video = video if video is not None else reference_video()
    rows = []
    total = len(policies) * len(traces)
    for name, factory in policies.items():
        for trace in traces:
            policy = factory(trace)
            started = time.perf_counter()
            result = simulate_session(trace, video, policy, start_index=start_index)
            elapsed = time.perf_counter() - started
            scores = qoe(result, lowest_kbps=video.bitrates_kbps[0])
            rows.append({"trace_id": trace.trace_id, "policy": name, **scores, "sim_s": elapsed})
            if progress is not None:
                progress("sessions", len(rows), total)
    return pd.DataFrame(rows)


def compare_policies(
    frame: pd.DataFrame,
    policy: str,
    baseline: str,
    metric: str = "qoe_lin",
    n: int = 2000,
    seed: int = 0,
) -> dict[str, object]:
    """Paired bootstrap of ``policy`` minus ``baseline`` on the traces both were run on.

    Args:
        frame: Rows from :func:`evaluate_policies`.
        policy: The policy to judge.
        baseline: The policy to judge it against.
        metric: The column to compare.
        n: Bootstrap resamples.
        seed: Seed of the resampling.

    Returns:
        A JSON-able dict: the names, ``traces``, ``mean_diff``, ``ci_low``, ``ci_high``.

    Raises:
        ValueError: A policy or the metric is missing, or the two were run on
            different traces.
    """
    if metric not in frame.columns:
        raise ValueError(f"metric {metric!r} is not a column; expected one of {list(frame)}")
    scores = {}
    for name in (policy, baseline):
        rows = frame[frame["policy"] == name]
        if rows.empty:
            raise ValueError(
                f"policy {name!r} has no rows; expected one of {sorted(frame['policy'].unique())}"
            )
        scores[name] = rows.set_index("trace_id")[metric]
    if set(scores[policy].index) != set(scores[baseline].index):
        only = sorted(set(scores[policy].index) ^ set(scores[baseline].index))
        raise ValueError(
            f"{policy!r} and {baseline!r} must be run on the same traces; "
            f"{len(only)} differ, e.g. {only[:3]}"
        )
    baseline_scores = scores[baseline].loc[scores[policy].index]
    mean_diff, low, high = paired_bootstrap(scores[policy], baseline_scores, n=n, seed=seed)
    return {
        "policy": policy,
        "baseline": baseline,
        "metric": metric,
        "traces": len(baseline_scores),
        "mean_diff": mean_diff,
        "ci_low": low,
        "ci_high": high,
    }


def summarize(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Mean figures per policy over its traces, as a JSON-able dict.

    Args:
        frame: Rows from :func:`evaluate_policies`.

    Returns:
        ``{policy: {"traces": n, "qoe_lin": ..., "qoe_lin_per_chunk": ..., ...}}`` in
        the frame's policy order; ``qoe_lin_per_chunk`` divides each session's QoE_lin
        by its scored chunks (47 for the reference video), the scale papers report.
    """
    frame = frame.assign(qoe_lin_per_chunk=frame["qoe_lin"] / frame["chunks"])
    summary: dict[str, dict[str, float]] = {}
    for name, rows in frame.groupby("policy", sort=False):
        summary[str(name)] = {"traces": int(len(rows))} | {
            column: float(rows[column].mean()) for column in SUMMARY_COLUMNS
        }
    return summary


def summary_table(frame: pd.DataFrame) -> str:
    """A plain-text table of :func:`summarize`, one line per policy.

    Args:
        frame: Rows from :func:`evaluate_policies`.

    Returns:
        The table, with a header line.
    """
    summary = summarize(frame)
    width = max([len("policy"), *(len(name) for name in summary)])
    header = (
        f"{'policy':<{width}}  traces  QoE_lin  per_chunk  QoE_log   QoE_hd  "
        "bitrate_Mbps  rebuffer_s  switches"
    )
    lines = [header]
    for name, s in summary.items():
        lines.append(
            f"{name:<{width}}  {s['traces']:>6d}  {s['qoe_lin']:>7.2f}  "
            f"{s['qoe_lin_per_chunk']:>9.3f}  {s['qoe_log']:>7.2f}  {s['qoe_hd']:>7.1f}  "
            f"{s['bitrate_mbps']:>12.3f}  {s['rebuffer_s']:>10.2f}  {s['switches']:>8.1f}"
        )
    return "\n".join(lines)


def _check_unique_ids(traces: Sequence[Trace]) -> None:
    ids = pd.Series([t.trace_id for t in traces])
    duplicated = sorted(ids[ids.duplicated()].unique())
    if duplicated:
        raise ValueError(
            f"trace ids must be distinct (one per file), found duplicates {duplicated[:5]}"
        )


def rotated(trace: Trace, start_index: int) -> Trace:
    """The trace replayed from row ``start_index``, so that playing it from row 1 is that session.

    The simulator loops back to row 1 after the last row, so rows ``start_index..``
    then ``1..start_index - 1`` is the bandwidth a session from ``start_index`` sees,
    and an oracle built on the rotated trace replays it exactly.

    Args:
        trace: The trace.
        start_index: 1-based trace row the session starts at.

    Returns:
        A trace with id ``"{trace_id}@{start_index}"`` (the trace itself for row 1).

    Raises:
        ValueError: ``start_index`` is outside ``1..len(trace.time_s) - 1`` (the simulator's range).
    """
    rows = len(trace.time_s)
    if not 1 <= start_index < rows:
        raise ValueError(
            f"start_index must be within 1..{rows - 1} for {trace.trace_id}, got {start_index}"
        )
    if start_index == 1:
        return trace
    durations = np.diff(trace.time_s)
    order = np.r_[np.arange(start_index - 1, len(durations)), np.arange(start_index - 1)]
    times = np.r_[0.0, np.cumsum(durations[order])]
    mbps = np.r_[trace.mbps[0], trace.mbps[1:][order]]
    return Trace(f"{trace.trace_id}@{start_index}", times, mbps)


def multi_start(traces: Sequence[Trace], starts: int, seed: int) -> list[Trace]:
    """Each trace from row 1 and from ``starts - 1`` random rows, as rotated traces.

    Args:
        traces: The traces.
        starts: Sessions per trace (1 is Pensieve's test mode: row 1 only).
        seed: Seed of the random start rows.

    Returns:
        The rotated traces, ids ``"{trace_id}@{row}"`` (row 1 keeps the plain id).

    Raises:
        ValueError: ``starts < 1``.
    """
    if starts < 1:
        raise ValueError(f"starts must be at least 1 session per trace, got {starts}")
    rng = np.random.default_rng(seed)
    out = []
    for trace in traces:
        rows = len(trace.time_s)
        picks = [1, *(int(rng.integers(2, rows)) for _ in range(starts - 1) if rows > 2)]
        out += [rotated(trace, s) for s in dict.fromkeys(picks)]
    return out


def base_trace_id(trace_id: str) -> str:
    """The file's trace id of a rotated trace id (``"name@17"`` -> ``"name"``)."""
    head, sep, tail = trace_id.rpartition("@")
    return head if sep and tail.isdigit() else trace_id


def per_trace(frame: pd.DataFrame) -> pd.DataFrame:
    """Average each policy's sessions of one trace file into one row per trace and policy.

    Args:
        frame: Rows from :func:`evaluate_policies` over :func:`multi_start` traces.

    Returns:
        One row per ``(trace_id, policy)`` with the mean of every numeric column and
        ``sessions``, the number of sessions averaged.
    """
    base = frame.assign(trace_id=frame["trace_id"].map(base_trace_id), sessions=1)
    numeric = [c for c in base.select_dtypes("number").columns if c != "sessions"]
    grouped = base.groupby(["trace_id", "policy"], sort=False)
    out = grouped[numeric].mean()
    out["sessions"] = grouped["sessions"].sum()
    return out.reset_index()
