"""Candidate generation: provenance, quotas, never a watched or unreleased title, recall, speed."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from reelops.ranking.candidates import (
    SOURCES,
    CandidateConfig,
    CandidateGenerator,
    candidate_recall,
    generate_candidates,
    recall_by_source,
)

RANKS = [f"rank_{s}" for s in SOURCES]


def seen_pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame["member_key"], frame["title_id"], strict=True))


@pytest.fixture(scope="module")
def generator(split, titles, members) -> CandidateGenerator:
    return CandidateGenerator(split.train, titles, members)


@pytest.fixture(scope="module")
def candidates(generator) -> pd.DataFrame:
    return generator.generate()


def test_never_a_watched_title(candidates, split):
    assert not seen_pairs(candidates) & seen_pairs(split.train)
    assert set(candidates["member_key"]) == set(split.train["member_key"])


def test_finished_only_exclusion_keeps_abandoned_titles(split, titles, members):
    config = CandidateConfig(exclude="finished")
    candidates = generate_candidates(split.train, titles, members, config=config)
    finished = split.train[split.train["completion"] >= 0.9]
    assert not seen_pairs(candidates) & seen_pairs(finished)
    # Abandoned titles may come back (e.g. co-watched with what the member finished).
    assert seen_pairs(candidates) & seen_pairs(split.train)


def test_every_candidate_carries_its_provenance(candidates):
    # Every source with a quota places titles (EASE and ALS are off by default).
    on = {source for source, quota in CandidateConfig().quotas.items() if quota}
    assert set(candidates["source"].astype(str)) == on
    assert not candidates.duplicated(["member_key", "title_id"]).any()
    ranks = candidates[RANKS].to_numpy()
    assert ((ranks > 0).sum(axis=1) == candidates["n_sources"]).all()
    # The named source proposed the title, at its best rank over all sources.
    named = ranks[np.arange(len(ranks)), candidates["source"].cat.codes.to_numpy()]
    assert (named > 0).all()
    assert (named == np.where(ranks > 0, ranks, np.iinfo(ranks.dtype).max).min(axis=1)).all()
    assert np.isfinite(candidates["source_score"]).all()


def test_quotas_and_total_are_respected(split, titles, members):
    config = CandidateConfig(
        total=25, quotas={"cowatch": 10, "genre": 10, "popular": 8, "fresh": 0}
    )
    candidates = generate_candidates(split.train, titles, members, config=config)
    per_member = candidates.groupby("member_key")
    assert (per_member.size() == 25).all()
    assert (candidates["rank_fresh"] == 0).all()
    # Each source places its whole quota (ranks 1..quota), or all it has if it runs out.
    for source in ("cowatch", "genre", "popular"):
        quota, ranks = config.quotas[source], per_member[f"rank_{source}"]
        placed = ranks.apply(lambda r, q=quota: ((r > 0) & (r <= q)).sum())
        assert (placed == np.minimum(quota, ranks.max())).all(), source
        assert (placed == quota).mean() > 0.9, source


def test_fresh_and_unreleased_titles(generator, candidates, titles):
    release = pd.to_datetime(titles.set_index("title_id")["release_date"])
    age = (generator.as_of - release.reindex(candidates["title_id"])).dt.days.to_numpy()
    assert (age >= 0).all(), "a title released after the request time was proposed"
    fresh = candidates["rank_fresh"].to_numpy() > 0
    assert fresh.any() and (age[fresh] <= generator.config.fresh_days).all()


def test_members_without_history_get_popular_and_fresh(generator):
    cold = generator.generate(["new-member"])
    assert len(cold) > 0
    assert set(cold["source"].astype(str)) <= {"popular", "fresh"}


def test_candidate_recall_by_hand():
    test = pd.DataFrame({"member_key": ["a", "a", "b", "c"], "title_id": ["t1", "t2", "t1", "t9"]})
    candidates = pd.DataFrame(
        {
            "member_key": ["a", "a", "b", "b"],
            "title_id": ["t1", "t3", "t1", "t2"],
            "rank_cowatch": [1, 0, 0, 1],
        }
    )
    assert candidate_recall(candidates, test) == pytest.approx(0.5)  # (a, t1) and (b, t1)
    assert recall_by_source(candidates, test) == {"cowatch": 0.25, "all": 0.5}


def test_candidate_recall_grows_with_the_budget(split, titles, members):
    def recall(total: int) -> float:
        quotas = {s: total // 2 for s in SOURCES}
        config = CandidateConfig(total=total, quotas=quotas)
        members_with_test = split.test["member_key"].unique()
        found = generate_candidates(split.train, titles, members, members_with_test, config=config)
        return candidate_recall(found, split.test)

    small, large = recall(10), recall(40)
    assert 0 < small < large
    assert large > 0.5


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="unknown candidate sources"):
        CandidateConfig(quotas={"trending": 10})
    with pytest.raises(ValueError, match="exclude"):
        CandidateConfig(exclude="nothing")


@pytest.mark.slow
def test_ten_thousand_members_in_seconds():
    rng = np.random.default_rng(0)
    n_members, n_titles, per_member = 10_000, 2_000, 60
    popularity = rng.pareto(1.2, n_titles) + 0.1
    title = rng.choice(n_titles, size=n_members * per_member, p=popularity / popularity.sum())
    interactions = pd.DataFrame(
        {
            "member_key": np.repeat([f"m{i:05d}" for i in range(n_members)], per_member),
            "title_id": [f"t{t:04d}" for t in title],
            "ts": pd.Timestamp("2026-01-01")
            + pd.to_timedelta(rng.integers(0, 30 * 86_400, len(title)), unit="s"),
            "completion": rng.random(len(title)),
        }
    )
    titles = pd.DataFrame(
        {
            "title_id": [f"t{t:04d}" for t in range(n_titles)],
            "genres": np.array(["Drama", "Comedy|Romance", "Action|Thriller", "Horror"])[
                np.arange(n_titles) % 4
            ],
            "release_date": pd.Timestamp("2025-06-01")
            + pd.to_timedelta(rng.integers(0, 240, n_titles), unit="D"),
        }
    )
    members = pd.DataFrame({"member_key": [f"m{i:05d}" for i in range(n_members)], "country": "US"})
    start = time.perf_counter()
    candidates = generate_candidates(interactions, titles, members)
    seconds = time.perf_counter() - start
    assert candidates["member_key"].nunique() == n_members
    assert candidates.groupby("member_key").size().min() == 300
    assert seconds < 30, f"{seconds:.1f} s for {n_members} members"
