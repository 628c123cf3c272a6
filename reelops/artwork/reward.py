"""The artwork policy's reward: a *good* play, not a click.

A play counts when it is not abandoned early: its completion reaches the spec's
``good_play_completion``. Artwork that draws plays people abandon earns nothing for them.
"""

from __future__ import annotations

import numpy as np


def good_play(played: np.ndarray, completion: np.ndarray, threshold: float) -> np.ndarray:
    """1.0 for a play whose completion reaches ``threshold``, else 0.0.

    Raises:
        ValueError: ``threshold`` is not in (0, 1].
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"good_play_completion must be in (0, 1], got {threshold}")
    played = np.asarray(played, dtype=bool)
    return (played & (np.asarray(completion, dtype=np.float64) >= threshold)).astype(np.float64)
