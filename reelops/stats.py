"""Statistics shared by every evaluation: the paired bootstrap behind each "beats" claim, and
the two-sample one behind a canary's live comparison (different members on each arm)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def paired_bootstrap(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    n: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """95 % percentile-bootstrap interval of ``mean(a - b)``, resampling paired units.

    Args:
        a: One score per unit (trace, member) for the first model or policy.
        b: The same units' scores for the second, in the same order.
        n: Bootstrap resamples.
        seed: Seed of the resampling.

    Returns:
        ``(mean difference, lower bound, upper bound)``.

    Raises:
        ValueError: The inputs are not equally long 1-D sequences of finite numbers,
            or ``n < 1``.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or len(a) == 0:
        raise ValueError(
            f"paired_bootstrap needs two equally long non-empty 1-D score arrays, got shapes "
            f"{a.shape} and {b.shape}"
        )
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("paired_bootstrap needs finite scores, got NaN or infinity")
    if n < 1:
        raise ValueError(f"n must be at least 1 resample, got {n}")
    diff = a - b
    picks = np.random.default_rng(seed).integers(0, len(diff), size=(n, len(diff)))
    means = diff[picks].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(diff.mean()), float(low), float(high)


def two_sample_bootstrap(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    n: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float, float]:
    """Percentile-bootstrap interval of ``mean(a) - mean(b)`` for two independent groups.

    For units that are not paired, such as the members a canary served and the members
    production served: each group is resampled on its own.

    Args:
        a: One score per unit of the first group.
        b: One score per unit of the second group (any length).
        n: Bootstrap resamples.
        seed: Seed of the resampling.
        confidence: Two-sided confidence of the interval (0.95: 2.5 % and 97.5 %).

    Returns:
        ``(difference of the means, lower bound, upper bound)``.

    Raises:
        ValueError: An empty or non-finite group, ``n < 1`` or a confidence outside (0, 1).
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or b.ndim != 1 or len(a) == 0 or len(b) == 0:
        raise ValueError(
            f"two_sample_bootstrap needs two non-empty 1-D score arrays, got shapes "
            f"{a.shape} and {b.shape}"
        )
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("two_sample_bootstrap needs finite scores, got NaN or infinity")
    if n < 1:
        raise ValueError(f"n must be at least 1 resample, got {n}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    rng = np.random.default_rng(seed)
    diffs = np.empty(n)
    step = max(1, 2_000_000 // (len(a) + len(b)))  # resamples per batch: bounded memory
    for start in range(0, n, step):
        size = min(step, n - start)
        means_a = a[rng.integers(0, len(a), size=(size, len(a)))].mean(axis=1)
        means_b = b[rng.integers(0, len(b), size=(size, len(b)))].mean(axis=1)
        diffs[start : start + size] = means_a - means_b
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail])
    return float(a.mean() - b.mean()), float(low), float(high)
