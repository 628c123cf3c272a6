"""What the throughput model learns from: usable rows, their targets and bootstrap weights."""

from __future__ import annotations

import numpy as np
import pandas as pd


def target_mbps(frame: pd.DataFrame, horizon: int) -> np.ndarray:
    """Harmonic mean of ``throughput_mbps`` over each row's chunk and the next ``horizon - 1``.

    The chunks are the session's next rows by ``chunk_index`` (as the mart's
    ``lead()``); near a session's end fewer remain and the mean is over those.

    Args:
        frame: Per-chunk rows in the ``fct_delivery_samples`` layout.
        horizon: Chunks to average, 1 for the row's own throughput.

    Returns:
        One value per row, in the frame's order (NaN where the row's own is missing).

    Raises:
        ValueError: A needed column is missing.
    """
    needed = ["throughput_mbps"] + (["session_id", "chunk_index"] if horizon > 1 else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"delivery rows lack column(s) {missing} for a {horizon}-chunk target")
    own = frame["throughput_mbps"].to_numpy(dtype=np.float64, na_value=np.nan)
    if horizon == 1:
        return own
    ordered = frame[["session_id", "chunk_index", "throughput_mbps"]].reset_index(drop=True)
    ordered = ordered.sort_values(["session_id", "chunk_index"], kind="stable")
    inverse = 1.0 / ordered["throughput_mbps"].astype(np.float64)
    sessions = inverse.groupby(ordered["session_id"], sort=False)
    total, count = inverse.copy(), pd.Series(1.0, index=ordered.index)
    for k in range(1, horizon):
        ahead = sessions.shift(-k)
        total += ahead.fillna(0.0)
        count += ahead.notna()
    return (count / total).sort_index().to_numpy()


def training_set(frame: pd.DataFrame, horizon: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows a model learns from, and their target (Mbit/s).

    The first chunk of a session is fetched at a fixed level with nothing to go on,
    so rows without ``prev_throughput_1`` are dropped, as are rows whose target is
    missing or not positive.

    Args:
        frame: Per-chunk rows in the ``fct_delivery_samples`` layout.
        horizon: See :func:`target_mbps`.

    Returns:
        The usable rows and their :func:`target_mbps`.

    Raises:
        ValueError: A needed column is missing, or no row is usable.
    """
    if "prev_throughput_1" not in frame.columns:
        raise ValueError("delivery rows lack column 'prev_throughput_1'")
    target = target_mbps(frame, horizon)
    keep = frame["prev_throughput_1"].notna().to_numpy() & np.isfinite(target) & (target > 0)
    if not keep.any():
        raise ValueError(
            f"none of {len(frame)} delivery rows has both a prev_throughput_1 and a positive "
            "throughput_mbps to learn from"
        )
    return frame.loc[keep], target[keep]


def bootstrap_weights(groups: np.ndarray, seed: int) -> np.ndarray:
    """Row weights of one bootstrap draw of whole groups (training traces).

    Drawing as many groups as there are, with replacement, and weighting each row by
    how often its group was drawn is the same as training on the duplicated rows.

    Args:
        groups: Each row's group (its training trace).
        seed: Seed of the draw.

    Returns:
        One non-negative integer weight per row, as float32.
    """
    codes, uniques = pd.factorize(pd.Series(groups), sort=True)
    rng = np.random.default_rng(seed)
    drawn = np.bincount(rng.integers(len(uniques), size=len(uniques)), minlength=len(uniques))
    return drawn[codes].astype(np.float32)


def bootstrap_groups(rows: pd.DataFrame) -> np.ndarray:
    """What a bootstrap resamples: each row's trace (file) if known, else its session."""
    for column in ("trace_id", "session_id"):
        if column in rows.columns:
            return rows[column].astype(str).to_numpy()
    return np.arange(len(rows)).astype(str)
