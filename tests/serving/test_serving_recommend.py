"""`/recommend` answers from the registry folder alone: no lake, no marts after training."""

from __future__ import annotations

import shutil

import pytest

from reelops.serving.schemas import RecommendRequest

pytestmark = pytest.mark.slow
MEMBERS = 5


def _top10(endpoint, member_id: str, **context) -> list[str]:
    answer = endpoint(RecommendRequest(member_id=member_id, k=10, context=context))
    return [t.title_id for t in answer.titles]


def test_recommend_answers_the_same_without_the_lake_and_the_marts(served, tmp_path):
    from reelops.privacy import MemberKeyVault
    from reelops.serving.recommend import RecommendEndpoint

    settings = served.settings
    endpoint = RecommendEndpoint(settings, poll_seconds=0)
    runtime = endpoint.loaded().model.recommender
    keys = runtime.sample_members(MEMBERS)
    with MemberKeyVault(settings) as vault:
        raw = vault.raw_ids(runtime.source, keys)
    member_ids = [raw[key] for key in keys]
    before = {m: _top10(endpoint, m) for m in member_ids}
    newcomer = _top10(endpoint, "never-seen", country="US")
    # Online features and the offline store agree as of the same time: same lists.
    batch = runtime.recommend(keys, k=10)
    for key, member_id in zip(keys, member_ids, strict=True):
        assert batch.loc[batch["member_key"] == key, "title_id"].tolist() == before[member_id]

    moved = {
        settings.lake_dir(runtime.source): tmp_path / "lake",
        settings.warehouse_dir / runtime.source: tmp_path / "warehouse",
    }
    for path, away in moved.items():
        shutil.move(path, away)
    try:
        fresh = RecommendEndpoint(settings, poll_seconds=0)  # loads the version anew
        assert fresh.loaded().model is not endpoint.loaded().model
        after = {m: _top10(fresh, m) for m in member_ids}
        answer = fresh(RecommendRequest(member_id=member_ids[0], k=10))
        assert not answer.cold_start and answer.fallback is None
        assert _top10(fresh, "never-seen", country="US") == newcomer
    finally:
        for path, away in moved.items():
            shutil.move(away, path)
    assert after == before
    assert all(len(titles) == 10 for titles in after.values())
