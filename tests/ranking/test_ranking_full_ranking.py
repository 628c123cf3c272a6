"""The evaluation harness: full ranking, hand-made cases, report shape, bootstrap, tastes."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from reelops.ranking.baselines import EASE, MostPopular, RandomRanker
from reelops.ranking.full_ranking import evaluate_rankers

TITLES = pd.DataFrame({"title_id": ["t0", "t1", "t2", "t3", "t4"], "genres": ["A"] * 5})
TRAIN = pd.DataFrame(
    {
        "member_key": ["a", "a", "b"],
        "title_id": ["t0", "t1", "t0"],
        "ts": pd.Timestamp("2026-01-01"),
        "completion": 1.0,
    }
)
TEST = pd.DataFrame({"member_key": ["a", "a", "b"], "title_id": ["t3", "t4", "t2"]})
MEMBERS = pd.DataFrame({"member_key": ["a", "b"], "country": ["US", "NO"]})


class FixedScorer:
    """The same scores for every member (one row per member key, in ``order``)."""

    def __init__(self, scores: dict[str, list[float]], title_ids=None) -> None:
        self.scores = scores
        self.title_ids = np.asarray(title_ids or TITLES["title_id"])

    def score(self, member_keys):
        return np.array([self.scores[k] for k in member_keys], dtype=float)


def test_full_ranking_by_hand():
    # a watched t0, t1 (their top scores must not count); unwatched order t2, t3, t4.
    # b watched t0; unwatched order t1, t2, ...: its held-out t2 is second.
    scorer = FixedScorer({"a": [9, 8, 3, 2, 1], "b": [9, 8, 3, 2, 1]})
    report = evaluate_rankers(
        TRAIN, TEST, TITLES, MEMBERS, {"fixed": scorer}, k=2, segments=("country",)
    )
    per_member = report.per_member.set_index("member_key")
    # a: top 2 = t2, t3; hit at rank 2 of 2 relevant: DCG = 1/log2(3), ideal = 1 + 1/log2(3).
    assert per_member.loc["a", "ndcg@2"] == pytest.approx(
        (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    )
    assert per_member.loc["a", "recall@2"] == pytest.approx(0.5)
    assert per_member.loc["a", "mrr"] == pytest.approx(0.5)
    # b: top 2 = t1, t2; the only relevant title second.
    assert per_member.loc["b", "ndcg@2"] == pytest.approx(1 / math.log2(3))
    assert per_member.loc["b", "hr@2"] == 1.0
    overall = report.overall.loc["fixed"]
    assert overall["n_members"] == 2
    assert overall["coverage@2"] == pytest.approx(3 / 5)  # t1, t2, t3
    by_country = report.segments.set_index("value")["ndcg@2"]
    assert by_country.to_dict() == pytest.approx(
        {"US": per_member.loc["a", "ndcg@2"], "NO": per_member.loc["b", "ndcg@2"]}
    )
    recs = report.recommendations["fixed"]
    assert recs[recs["member_key"] == "a"]["title_id"].tolist() == ["t2", "t3"]


def test_oracle_scores_perfectly_and_title_order_does_not_matter():
    oracle = {"a": [0, 0, 0, 1, 1], "b": [0, 0, 1, 0, 0]}
    shuffled = [4, 2, 0, 3, 1]
    rankers = {
        "oracle": FixedScorer(oracle),
        "shuffled": FixedScorer(
            {k: [v[i] for i in shuffled] for k, v in oracle.items()},
            [f"t{i}" for i in shuffled],
        ),
    }
    report = evaluate_rankers(TRAIN, TEST, TITLES, None, rankers, k=2)
    for name in rankers:
        assert report.overall.loc[name, ["ndcg@2", "hr@2", "recall@2", "mrr"]].tolist() == [1.0] * 4


def test_bad_scorers_and_test_sets_are_refused():
    with pytest.raises(ValueError, match="shape"):
        evaluate_rankers(TRAIN, TEST, TITLES, None, {"bad": FixedScorer({"a": [1], "b": [1]})})
    seen_in_test = pd.concat([TEST, pd.DataFrame({"member_key": ["a"], "title_id": ["t0"]})])
    with pytest.raises(ValueError, match="watched in train"):
        evaluate_rankers(TRAIN, seen_in_test, TITLES, None, {"x": FixedScorer({})})
    with pytest.raises(ValueError, match="not the catalogue"):
        evaluate_rankers(
            TRAIN, TEST, TITLES, None, {"x": FixedScorer({}, ["t0", "t1", "t9", "t3", "t4"])}
        )
    with pytest.raises(ValueError, match="rankers is empty"):
        evaluate_rankers(TRAIN, TEST, TITLES, None, {})


@pytest.fixture(scope="module")
def report(split, titles, members, tastes):
    rankers = {
        "ease": EASE(100.0).fit(split.train, titles),
        "popular": MostPopular().fit(split.train, titles),
        "random": RandomRanker().fit(split.train, titles),
    }
    return evaluate_rankers(
        split.train,
        split.test,
        titles,
        members,
        rankers,
        protocol=split.protocol.to_dict(),
        member_tastes=tastes,
    )


def test_report_is_json_and_a_readable_table(report, split):
    out = json.loads(json.dumps(report.to_dict()))
    assert out["protocol"]["cutoff"] == split.protocol.cutoff
    assert {row["ranker"] for row in out["metrics"]} == {"ease", "popular", "random"}
    assert {
        "ndcg@10",
        "hr@10",
        "recall@10",
        "mrr",
        "coverage@10",
        "long_tail@10",
        "genre_mix@10",
    } <= set(out["metrics"][0])
    table = report.table()
    for text in (
        "ease",
        "popular",
        "random",
        "country",
        "age_band",
        "gender",
        "95% CI",
        "hold-out",
    ):
        assert text in table


def test_segments_partition_the_members(report):
    for (_, segment), rows in report.segments.groupby(["ranker", "segment"]):
        assert rows["n_members"].sum() == report.n_members, segment
    assert set(report.segments["segment"]) == {"country", "age_band", "gender"}
    us = report.segments.query("ranker == 'ease' and segment == 'country' and value == 'US'")
    per_member = report.per_member.query("ranker == 'ease'").set_index("member_key")
    assert len(us) == 1 and 0 < us["ndcg@10"].iloc[0] <= 1
    assert per_member["ndcg@10"].between(0, 1).all()


def test_popularity_bias_and_coverage(report):
    overall = report.overall
    assert overall.loc["popular", "long_tail@10"] < overall.loc["random", "long_tail@10"]
    assert overall.loc["popular", "coverage@10"] < overall.loc["random", "coverage@10"]


def test_paired_bootstrap(report):
    (default,) = report.comparisons
    assert (default["a"], default["b"]) == ("ease", "popular")  # best vs runner-up
    c = report.compare("ease", "random")
    assert c["ci_low"] <= c["mean_difference"] <= c["ci_high"]
    assert c["a_better"] and c["ci_low"] > 0
    same = report.compare("ease", "ease")
    assert same["mean_difference"] == same["ci_low"] == same["ci_high"] == 0.0
    with pytest.raises(ValueError, match="no ranker"):
        report.compare("ease", "xgb")


def test_genre_mix_in_the_report_ranks_personal_above_random(report):
    mix = report.overall["genre_mix@10"]
    assert abs(mix["random"]) < 0.1
    assert mix["popular"] < 0  # popular titles the member skipped are off its taste
