"""The candidate index saved with a ranker: what is loaded answers exactly like what was fitted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reelops.ranking.candidate_index import ALL_COUNTRIES, CandidateIndex
from reelops.ranking.candidates import CandidateConfig
from reelops.ranking.data import RankingData
from reelops.ranking.features import CROSS_COLUMNS, cross_columns


@pytest.fixture(scope="module")
def data(interactions, titles, members) -> RankingData:
    views = interactions[["member_key", "title_id", "ts", "completion"]].copy()
    views["member_key"] = views["member_key"].astype(object)
    views["title_id"] = views["title_id"].astype(object)
    views["ts"] = views["ts"].astype("datetime64[ns]")
    catalogue = titles.assign(
        title_id=titles["title_id"].astype(object), genres=titles["genres"].astype(object)
    )
    catalogue["release_date"] = pd.to_datetime(catalogue["release_date"])
    people = members.assign(member_key=members["member_key"].astype(object))
    return RankingData("world", views, views.iloc[:0].assign(label=0), catalogue, people)


@pytest.fixture(scope="module")
def fitted(data) -> CandidateIndex:
    return CandidateIndex.build(data, CandidateConfig(total=50))


@pytest.fixture(scope="module")
def loaded(fitted, tmp_path_factory) -> CandidateIndex:
    folder = tmp_path_factory.mktemp("model")
    fitted.save(folder)
    return CandidateIndex.load(folder)


def test_the_index_is_fitted_on_the_whole_history_as_of_the_end_of_its_last_day(data, fitted):
    last = data.interactions["ts"].max()
    assert fitted.as_of == last.ceil("D") and fitted.as_of > last
    assert len(fitted.generator.data.member_keys) == data.interactions["member_key"].nunique()


def test_loaded_candidates_and_cross_features_equal_the_fitted_ones(data, fitted, loaded):
    keys = np.asarray([*np.sort(data.interactions["member_key"].unique())[:40], "newcomer"])
    a, b = fitted.generator.select(keys), loaded.generator.select(keys)
    for name in ("rows", "cols", "source", "score", "ranks"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    cross_a = cross_columns(fitted.generator, keys, a)
    cross_b = cross_columns(loaded.generator, keys, b)
    for name in CROSS_COLUMNS:
        np.testing.assert_array_equal(cross_a[name], cross_b[name], err_msg=name)
    assert loaded.as_of == fitted.as_of and loaded.source == "world"
    assert loaded.knows(keys[0]) and not loaded.knows("newcomer")


def test_loaded_index_keeps_members_titles_and_cold_start_lists(data, fitted, loaded):
    pd.testing.assert_frame_equal(loaded.members, fitted.members)
    pd.testing.assert_frame_equal(loaded.titles, fitted.titles)
    assert loaded.popular == fitted.popular
    assert set(loaded.popular) == {ALL_COUNTRIES, *data.members["country"].astype(str)}
    views = data.interactions["member_key"].value_counts()
    counted = loaded.members.set_index("member_key")["n_views"]
    assert (counted.reindex(views.index) == views).all()
    assert loaded.members["listed"].sum() == data.members["member_key"].nunique()


def test_a_model_folder_without_an_index_says_to_retrain(tmp_path):
    with pytest.raises(FileNotFoundError, match="retrain"):
        CandidateIndex.load(tmp_path)
