"""Statistics shared by every evaluation: the paired bootstrap behind each "beats" claim."""

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
