"""Vectorised draws numpy lacks: top-k without replacement and row-wise categoricals."""

from __future__ import annotations

import numpy as np


def top_k(rng: np.random.Generator, log_weights: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Per row, ``k[row]`` distinct columns drawn with probability ∝ ``exp(log_weights)``.

    Sorting log-weights plus Gumbel noise samples without replacement (Gumbel top-k).

    Args:
        rng: Source of randomness.
        log_weights: Shape (rows, columns); ``-inf`` never drawn.
        k: How many columns to draw per row, each at most the number of columns.

    Returns:
        Column indices of shape (rows, max(k)), in draw order, -1 past each row's ``k``.
    """
    keys = log_weights + rng.gumbel(size=log_weights.shape)
    order = np.argsort(-keys, axis=1, kind="stable")
    width = int(k.max())
    picked = order[:, :width].copy()
    picked[np.arange(width)[None, :] >= k[:, None]] = -1
    return picked


def row_categorical(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One column index per row, drawn with that row's probabilities (rows sum to 1)."""
    cdf = probabilities.cumsum(axis=1)
    drawn = (rng.random((len(probabilities), 1)) * cdf[:, -1:] > cdf).sum(axis=1)
    # Rounding can leave the draw just past the last column.
    return np.minimum(drawn, probabilities.shape[1] - 1)


def sample_weighted(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """``size`` indices drawn with replacement with probability ∝ ``weights`` (zeros never)."""
    candidates = np.flatnonzero(weights > 0)
    cdf = np.cumsum(weights[candidates])
    drawn = np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right")
    return candidates[np.minimum(drawn, len(candidates) - 1)]
