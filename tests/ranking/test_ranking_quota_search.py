"""Candidate quotas and total chosen on the validation split: the recall they are chosen by is
the generated candidates' own, the hold-out plays no part, and the choice reaches the model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reelops.ranking.candidates import (
    SOURCES,
    CandidateConfig,
    CandidateGenerator,
    candidate_recall,
)
from reelops.ranking.data import RankingData
from reelops.ranking.holdout_eval import with_sources
from reelops.ranking.holdout_sets import choose_candidates
from reelops.ranking.protocol import EvaluationConfig, TrainingConfig, splits
from reelops.ranking.quota_search import CandidateSearchConfig, ValidationRecall, search_quotas

SEARCH = CandidateSearchConfig(totals=[20, 40], quota_shares=[0.0, 0.5, 1.0])
QUOTAS = {"ease": 20, "als": 10, "cowatch": 10, "genre": 10, "popular": 10, "fresh": 5}
CANDIDATES = {"total": 40, "quotas": QUOTAS, "als": {"factors": 8, "iterations": 5}}


@pytest.fixture(scope="module")
def protocol():
    tr = TrainingConfig(candidates=CANDIDATES, candidate_search=SEARCH)
    ev = EvaluationConfig(holdout="per_member", holdout_views=5, min_history=5)
    return tr, ev


def ranking_data(interactions, titles, members) -> RankingData:
    impressions = pd.DataFrame(columns=["member_key", "title_id", "ts", "label"])
    return RankingData("world", interactions, impressions, titles, members)


def test_validation_recall_is_the_recall_of_the_generated_candidates(
    interactions, titles, members, protocol
):
    tr, ev = protocol
    _, inner = splits(ranking_data(interactions, titles, members), ev, tr)
    generator = CandidateGenerator(inner.train, titles, members, config=tr.candidate_config())
    recall = ValidationRecall(generator, inner.test, depth=40)
    keys = np.sort(inner.test["member_key"].unique())
    for total, quotas in [(40, QUOTAS), (20, {"ease": 20}), (20, {"popular": 5, "genre": 20})]:
        config = CandidateConfig(**{**CANDIDATES, "total": total, "quotas": quotas})
        generated = CandidateGenerator(inner.train, titles, members, config=config).generate(keys)
        assert recall(quotas, total) == pytest.approx(candidate_recall(generated, inner.test))
    assert recall({"ease": 40}, 40) >= recall({"ease": 20}, 20)


def test_search_keeps_the_best_option_and_the_smallest_total_within_tolerance():
    """A recall table made up for the rule: only the ease quota and the total matter."""

    class Table:
        n_members, n_pairs = 3, 9

        def __init__(self):
            self.tried = {}

        def __call__(self, quotas, total):
            value = {20: 0.50, 40: 0.505}[total] + 0.1 * (quotas.get("ease", 0) == total)
            self.tried[(total, *(quotas.get(s, 0) for s in SOURCES))] = value
            return value

        def by_source(self, total):
            return {"ease": self({"ease": total}, total)}

    found = search_quotas(Table(), {"ease": 10, "popular": 10}, 20, SEARCH)
    assert found["total"] == 20, "40 recalls only 0.005 more, under the tolerance 0.01"
    assert found["quotas"]["ease"] == 20 and found["recall"] == pytest.approx(0.6)
    assert [r["total"] for r in found["best_by_total"]] == [20, 40]
    strict = search_quotas(
        Table(), {"ease": 10}, 20, SEARCH.model_copy(update={"recall_tolerance": 0})
    )
    assert strict["total"] == 40


def test_quotas_are_chosen_on_validation_never_on_the_hold_out(
    interactions, titles, members, protocol
):
    tr, ev = protocol
    data = ranking_data(interactions, titles, members)
    outer, inner = splits(data, ev, tr)
    chosen = choose_candidates(data, inner, tr)
    # Replace every held-out view by a title the member never watched (members whose
    # held-out views all come after their training ones, so the split is the same).
    rng = np.random.default_rng(1)
    swapped = interactions.copy()
    last_train = outer.train.groupby("member_key")["ts"].max()
    first_test = outer.test.groupby("member_key")["ts"].min()
    clean = first_test.index[(first_test > last_train.reindex(first_test.index)).to_numpy()]
    catalogue = titles["title_id"].to_numpy()
    for member in clean:
        mine = swapped["member_key"] == member
        seen = set(swapped.loc[mine, "title_id"])
        held = outer.test.loc[outer.test["member_key"] == member, "title_id"].unique()
        fresh = rng.permutation([t for t in catalogue if t not in seen])[: len(held)]
        after = mine & (swapped["ts"] >= first_test[member])
        swapped.loc[after, "title_id"] = swapped.loc[after, "title_id"].replace(
            dict(zip(held, fresh, strict=True))
        )
    outer2, inner2 = splits(ranking_data(swapped, titles, members), ev, tr)
    assert not outer2.test.reset_index(drop=True).equals(outer.test.reset_index(drop=True))
    pd.testing.assert_frame_equal(
        inner2.test.reset_index(drop=True), inner.test.reset_index(drop=True)
    )
    again = choose_candidates(ranking_data(swapped, titles, members), inner2, tr)
    assert again == chosen
    assert chosen["total"] in SEARCH.totals and 0 < chosen["recall"] <= 1
    assert chosen["pairs"] == len(inner.test[["member_key", "title_id"]].drop_duplicates())
    # Every option is recorded with its validation recall; the chosen one among them.
    assert {"total": chosen["total"], "quotas": chosen["quotas"], "recall": chosen["recall"]} in (
        chosen["options"]
    )
    # The chosen quotas and total become the model's candidate settings (meta, lineage).
    sources = {"ease_l2": 100.0, "als": {"factors": 8}, "candidate_search": chosen}
    settings = with_sources(tr, sources).candidate_config()
    assert settings.total == chosen["total"] and dict(settings.quotas) == chosen["quotas"]


def test_the_search_merges_exactly_as_candidate_generation_does(interactions, titles, members):
    from reelops.ranking.candidate_merge import merge_ranked, rank_sources

    config = CandidateConfig(**CANDIDATES)
    generator = CandidateGenerator(interactions, titles, members, config=config)
    held_out = interactions[["member_key", "title_id"]].drop_duplicates().iloc[::7]
    recall = ValidationRecall(generator, held_out, depth=40)
    keys = np.sort(held_out["member_key"].unique())
    scores = generator.source_scores(keys, SOURCES)
    ranked = rank_sources(scores, dict.fromkeys(scores, 40), SOURCES)
    rng = np.random.default_rng(0)
    for _ in range(20):
        total = int(rng.integers(1, 41))
        quotas = {s: int(rng.choice([0, 0, 1, 5, 20, 40])) for s in SOURCES} | {"ease": 3}
        merged = merge_ranked(ranked, quotas, total)
        expected = np.zeros(len(keys) * len(titles), dtype=bool)
        expected[merged.rows.astype(np.int64) * len(titles) + merged.cols] = True
        assert (recall.selected(quotas, total) == expected).all(), (quotas, total)
