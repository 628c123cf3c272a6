"""Genre-mix correlation of recommendations with true tastes: by hand and on the tiny world."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reelops.ranking.genre_mix import genre_mix_correlation


def test_genre_mix_correlation_by_hand():
    titles = pd.DataFrame({"title_id": ["x", "y", "z"], "genres": ["A", "B", "A|C"]})
    tastes = pd.DataFrame(
        {"member_key": ["m"] * 3, "genre": ["A", "B", "C"], "weight": [0.7, 0.1, 0.2]}
    )
    recs = pd.DataFrame({"member_key": ["m", "m"], "title_id": ["x", "z"]})
    # Mix: A = 1 + 1/2, B = 0, C = 1/2.
    expected = np.corrcoef([1.5, 0.0, 0.5], [0.7, 0.1, 0.2])[0, 1]
    assert genre_mix_correlation(recs, titles, tastes, centered=False) == pytest.approx(expected)
    # Centred: minus 2 uniform draws' mix (A 1, B 2/3, C 1/3), taste minus the mean (itself).
    assert np.isnan(genre_mix_correlation(recs, titles, tastes))
    with pytest.raises(ValueError, match="member_key"):
        genre_mix_correlation(recs, titles, tastes.rename(columns={"member_key": "member_id"}))


def test_genre_mix_correlation_is_zero_for_random_and_high_for_the_truth(split, titles, tastes):
    keys = split.test["member_key"].unique()
    rng = np.random.default_rng(0)
    random_recs = pd.DataFrame(
        {
            "member_key": np.repeat(keys, 10),
            "title_id": rng.choice(titles["title_id"].to_numpy(), 10 * len(keys)),
        }
    )
    assert abs(genre_mix_correlation(random_recs, titles, tastes)) < 0.05
    # Titles picked by the true taste: each member's favourite genre's titles.
    favourite = tastes.loc[tastes.groupby("member_key")["weight"].idxmax()].set_index("member_key")
    exploded = titles.assign(genre=titles["genres"].str.split("|")).explode("genre")
    true_recs = (
        favourite.loc[keys].reset_index().merge(exploded, on="genre").groupby("member_key").head(10)
    )
    assert genre_mix_correlation(true_recs, titles, tastes) > 0.5
