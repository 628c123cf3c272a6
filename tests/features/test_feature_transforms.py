"""Request-time feature logic, checked on hand-made rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reelops.features.transforms import (
    AFFINITY_COLUMNS,
    GENRE_FLAG_COLUMNS,
    genre_slug,
    hours_since_release,
    member_title_affinity,
)
from reelops.schema import GENRES


def test_slugs_match_the_marts_columns():
    assert genre_slug("Children's") == "children_s"
    assert genre_slug("Sci-Fi") == "sci_fi"
    assert len(AFFINITY_COLUMNS) == len(GENRE_FLAG_COLUMNS) == len(GENRES)
    assert "aff_film_noir" in AFFINITY_COLUMNS and "genre_film_noir" in GENRE_FLAG_COLUMNS


def _rows(affinities: list[dict], flags: list[dict]) -> pd.DataFrame:
    rows = []
    for aff, flag in zip(affinities, flags, strict=True):
        row = {c: aff.get(c.removeprefix("aff_"), 0.0) for c in AFFINITY_COLUMNS}
        row |= {c: flag.get(c.removeprefix("genre_"), 0) for c in GENRE_FLAG_COLUMNS}
        row["n_genres"] = sum(flag.values())
        rows.append(row)
    return pd.DataFrame(rows)


def test_affinity_is_the_members_share_in_the_titles_genres_per_genre():
    frame = _rows(
        [{"drama": 0.6, "comedy": 0.3, "war": 0.1}, {"drama": 0.6}, {"horror": 1.0}],
        [{"drama": 1, "comedy": 1}, {"action": 1}, {"horror": 1}],
    )
    out = member_title_affinity(frame)
    np.testing.assert_allclose(out["genre_affinity"], [0.45, 0.0, 1.0])
    assert list(out.index) == list(frame.index)


def test_affinity_is_missing_when_an_input_is():
    frame = _rows([{"drama": 0.6}, {"drama": 0.6}], [{"drama": 1}, {}])
    frame.loc[0, "aff_comedy"] = np.nan  # member values missing
    out = member_title_affinity(frame)["genre_affinity"]
    assert np.isnan(out[0]) and np.isnan(out[1])  # and a title with no genre at all


def test_hours_since_release_from_the_request_time():
    frame = pd.DataFrame(
        {
            "release_ts": pd.to_datetime(["2026-01-01", "2026-01-03", None]),
            "request_time": pd.to_datetime(["2026-01-02 06:00"] * 3).tz_localize("UTC"),
        }
    )
    hours = hours_since_release(frame)["hours_since_release"]
    assert hours[0] == 30.0 and hours[1] == -18.0 and np.isnan(hours[2])
