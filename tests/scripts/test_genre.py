"""The Shakespeare genre check's scoring, on features made to separate (no real plays)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reelops.content.genre import FIRST_FOLIO_GENRE, GENRES, genre_check


def test_genre_check_scores_leave_one_out_against_the_folio_labels():
    assert len(FIRST_FOLIO_GENRE) == 36
    counts = pd.Series(FIRST_FOLIO_GENRE).value_counts().to_dict()
    assert counts == {"comedy": 14, "tragedy": 12, "history": 10}
    rng = np.random.default_rng(0)
    plays = list(FIRST_FOLIO_GENRE)
    codes = np.array([GENRES.index(FIRST_FOLIO_GENRE[p]) for p in plays])
    features = pd.DataFrame(
        {
            "theme_war_power": codes * 5.0 + rng.normal(0, 0.1, 36),  # separates all three
            "arc_end": rng.normal(0, 1, 36),  # the arc baseline sees noise only
            "sentiment_mean": rng.normal(0, 1, 36),
        },
        index=plays,
    )
    check = genre_check(features)
    assert check.accuracy_3 >= 0.9 and check.accuracy_tc >= 0.9
    assert check.baseline_3 < 0.7 and check.gain_3[1] > 0
    assert check.confusion.to_numpy().sum() == 36
    assert np.trace(check.confusion.to_numpy()) == round(36 * check.accuracy_3)
    assert check.confusion.loc["history"].sum() == 10
    with pytest.raises(ValueError, match="no features for \\['hamlet'\\]"):
        genre_check(features.drop(index="hamlet"))
