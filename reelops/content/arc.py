"""The emotional arc of a script: VADER sentiment along it, and its shape among six.

Reagan et al. (2016, "The emotional arcs of stories are dominated by six basic shapes",
EPJ Data Science 5:31) found six shapes: rags to riches (rise), riches to rags (fall),
man in a hole (fall then rise), Icarus (rise then fall), Cinderella (rise, fall, rise)
and Oedipus (fall, rise, fall). The arc here is the mean VADER compound score of the
words in a sliding window over the script, and its shape is the template it correlates
with best.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

ARC_POINTS = 100
WINDOW = 0.10  # of the script's words, as Reagan et al.'s windows of ~10 %

SHAPES = {
    "rags to riches": lambda x: x,
    "riches to rags": lambda x: -x,
    "man in a hole": lambda x: np.cos(2 * np.pi * x),
    "Icarus": lambda x: -np.cos(2 * np.pi * x),
    "Cinderella": lambda x: -np.cos(3 * np.pi * x),
    "Oedipus": lambda x: np.cos(3 * np.pi * x),
}


@cache
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def sentiment(texts: list[str]) -> np.ndarray:
    """VADER's compound score (-1..1) of each text."""
    analyzer = _analyzer()
    return np.array([analyzer.polarity_scores(t)["compound"] for t in texts], dtype=float)


@dataclass(frozen=True)
class Arc:
    """The arc: ``position`` (0..1 through the script's words) and smoothed ``value``."""

    position: np.ndarray
    value: np.ndarray
    shape: str
    fit: dict[str, float]  # correlation with each shape's template


def arc_of(scores: np.ndarray, words: np.ndarray, points: int = ARC_POINTS) -> Arc:
    """The arc of lines scored ``scores`` with ``words`` words each, in script order.

    Each point is the word-weighted mean score of the lines whose middle falls in a
    window of :data:`WINDOW` of the script centred on it.
    """
    words = np.maximum(np.asarray(words, dtype=float), 1.0)
    middle = (np.cumsum(words) - words / 2) / words.sum()
    position = np.linspace(0, 1, points)
    half = WINDOW / 2
    value = np.empty(points)
    for i, p in enumerate(position):
        inside = np.abs(middle - p) <= half
        if not inside.any():
            inside = np.abs(middle - p) == np.abs(middle - p).min()
        value[i] = np.average(scores[inside], weights=words[inside])
    return Arc(position, value, *classify_shape(value))


def classify_shape(value: np.ndarray) -> tuple[str, dict[str, float]]:
    """The best-correlated of the six shapes, and every shape's correlation."""
    x = np.linspace(0, 1, len(value))
    fit = {}
    for name, template in SHAPES.items():
        t = template(x)
        if np.std(value) == 0:
            fit[name] = 0.0
        else:
            fit[name] = float(np.corrcoef(value, t)[0, 1])
    return max(fit, key=fit.get), fit
