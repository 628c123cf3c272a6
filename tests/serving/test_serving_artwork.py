"""`/recommend` with the production artwork policy: each title's variant, its propensity
(the probability the policy really drew it with) and the policy's version, logged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reelops.serving.schemas import RecommendRequest

pytestmark = pytest.mark.slow
DRAWS = 10_000


@pytest.fixture(scope="module")
def artwork_version(served) -> str:
    """The artwork policy trained on the small world's marts, saved (not yet promoted)."""
    from reelops.artwork import train
    from reelops.registry import Registry

    prepared = train.prepare_training_set(served.settings, "serving-artwork")
    trained = train.train_model(prepared, log=lambda _line: None)
    saved = Registry(served.settings).save(
        "artwork", Path(trained["files"]), metrics={}, lineage={"source": "world"}
    )
    return saved.version


def _request(served, k: int = 10):
    return RecommendRequest(member_id=served.known_member, k=k)


def test_without_an_artwork_policy_titles_carry_none_and_the_answer_says_why(
    served, artwork_version
):
    from reelops.registry import Registry
    from reelops.serving.recommend import RecommendEndpoint

    assert Registry(served.settings).production("artwork") is None
    endpoint = RecommendEndpoint(served.settings, poll_seconds=0)
    answer = endpoint(_request(served))
    assert len(answer.titles) == 10 and answer.fallback is None
    assert answer.artwork_version is None and answer.artwork_note == "no_artwork_policy"
    assert all(t.artwork_variant is None and t.artwork_propensity is None for t in answer.titles)
    assert endpoint.info()["artwork_version"] is None
    endpoint.close()


def test_each_title_gets_the_policys_variant_with_the_probability_it_was_drawn_with(
    served, artwork_version
):
    from reelops.artwork.candidates import build_candidates
    from reelops.artwork.saved import POLICY_DIR, load_catalogue, load_policy
    from reelops.privacy import load_key, pseudonym
    from reelops.registry import Registry
    from reelops.serving.artwork_policy import RecommendArtwork
    from reelops.serving.recommend import RecommendEndpoint

    settings = served.settings
    registry = Registry(settings)
    before = RecommendEndpoint(settings, poll_seconds=0)(_request(served))
    registry.promote("artwork", artwork_version, actor="pytest", reason="serving tests")
    endpoint = RecommendEndpoint(settings, poll_seconds=0)
    answer = endpoint(_request(served))
    # The titles are the ranker's, untouched; the artwork comes beside them.
    assert [t.title_id for t in answer.titles] == [t.title_id for t in before.titles]
    assert answer.artwork_version == artwork_version and answer.artwork_note is None
    assert endpoint.info()["artwork_version"] == artwork_version

    # The policy's own probabilities for this member, titles and slots, from the saved
    # files through ArtworkPolicy.probabilities (the reference the chooser must equal).
    files = registry.files("artwork", artwork_version) / POLICY_DIR
    policy, catalogue = load_policy(files), load_catalogue(files)
    key = pseudonym(served.known_member, load_key(settings))
    titles = [t.title_id for t in answer.titles]
    impressions = pd.DataFrame(
        {
            "member_id": key,
            "title_id": titles,
            "variant_id": [
                catalogue.loc[catalogue.title_id == t, "variant_id"].iloc[0] for t in titles
            ],  # fmt: skip
            "row_index": 0,
            "position": range(len(titles)),
        }
    )
    cands = build_candidates(
        impressions, catalogue, catalogue.drop_duplicates("title_id")[["title_id", "genres"]]
    )
    expected = policy.probabilities(cands)
    for row, title in enumerate(answer.titles):
        variants = list(cands.variant_ids[row][cands.mask[row]])
        assert title.artwork_variant in variants
        column = variants.index(title.artwork_variant)
        assert title.artwork_propensity == pytest.approx(expected[row, column], abs=1e-12)
        assert title.artwork_propensity >= policy.exploration.epsilon / len(variants)

    # Sampling: over many draws each variant is served as often as its probability says,
    # and every draw reports the probability of the variant it drew.
    chooser = RecommendArtwork(settings, poll_seconds=0, seed=3)
    column_of = [{v: c for c, v in enumerate(cands.variant_ids[row])} for row in range(len(titles))]
    drawn = np.empty((DRAWS, len(titles)), dtype=np.int64)
    said = np.empty((DRAWS, len(titles)))
    for i in range(DRAWS):
        for row, (variant, propensity) in enumerate(chooser.choose(key, titles).choices):
            drawn[i, row], said[i, row] = column_of[row][variant], propensity
    rows = np.arange(len(titles))
    np.testing.assert_allclose(said, expected[rows[None, :], drawn], atol=1e-12)
    freq = np.stack([np.bincount(drawn[:, r], minlength=expected.shape[1]) for r in rows]) / DRAWS
    se = np.sqrt(expected * (1 - expected) / DRAWS)
    assert (np.abs(freq - expected) <= 5 * se + 1e-9).all()
    chooser.close()
    endpoint.close()


def test_the_choices_reach_the_prediction_log(served, artwork_version):
    from reelops.registry import Registry
    from reelops.serving.prediction_log import PredictionLog, served_artwork
    from reelops.serving.recommend import RecommendEndpoint

    settings = served.settings
    if Registry(settings).production("artwork") is None:
        Registry(settings).promote("artwork", artwork_version, actor="pytest", reason="test")
    lake = settings.home / "artwork-log-lake"
    log = PredictionLog(lake, flush_seconds=3600)
    endpoint = RecommendEndpoint(settings, prediction_log=log, poll_seconds=0)
    answers = [endpoint(_request(served, k=5)) for _ in range(3)]
    answers.append(endpoint(RecommendRequest(member_id="never-seen-member", k=5)))
    log.close()
    rows = served_artwork(lake)
    assert len(rows) == 4 * 5
    assert set(rows["artwork_version"]) == {artwork_version}
    first = rows.iloc[:5]
    assert first["title_id"].tolist() == [t.title_id for t in answers[0].titles]
    assert first["variant_id"].tolist() == [t.artwork_variant for t in answers[0].titles]
    assert first["propensity"].tolist() == [t.artwork_propensity for t in answers[0].titles]
    assert first["position"].tolist() == list(range(5))
    assert rows["member_key"].str.fullmatch(r"[0-9a-f]{32}").all()  # pseudonyms, no raw ids
    assert (rows["propensity"] > 0).all() and (rows["propensity"] <= 1).all()
    endpoint.close()


def test_an_artwork_policy_that_cannot_load_leaves_the_titles_alone(served, tmp_path):
    from reelops.registry import Registry
    from reelops.serving.recommend import RecommendEndpoint

    settings = served.settings
    registry = Registry(settings)
    broken = tmp_path / "broken"
    (broken / "policy").mkdir(parents=True)
    (broken / "policy" / "policy.json").write_text("{not json")
    version = registry.save("artwork", broken, metrics={}, lineage={}).version
    registry.promote("artwork", version, actor="pytest", reason="a broken policy")
    endpoint = RecommendEndpoint(settings, poll_seconds=0)  # starts nonetheless
    answer = endpoint(_request(served))
    assert len(answer.titles) == 10 and answer.fallback is None
    assert answer.artwork_note == "no_artwork_policy"
    assert all(t.artwork_variant is None for t in answer.titles)
    endpoint.close()
