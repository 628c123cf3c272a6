"""The request-time chooser: the policy's exact probabilities for one member, fast; saved
policies load back the same."""

from __future__ import annotations

import time

import numpy as np

from reelops.artwork.chooser import ArtworkChooser
from reelops.artwork.saved import load_catalogue, load_policy, save_policy

ROWS = 400


def _rows(trained):
    """Test impressions spread over the log, new titles' ones included."""
    picks = np.linspace(0, len(trained.test.logged) - 1, ROWS).astype(int)
    return np.union1d(picks, np.flatnonzero(trained.new_title)[:100])


def test_the_chooser_gives_the_policys_probabilities_for_each_impression(trained):
    chooser = ArtworkChooser(trained.policy, trained.catalogue)
    expected = trained.policy.probabilities(trained.test)
    imp = trained.test.impressions
    for row in _rows(trained):
        r = imp.iloc[row]
        [probs] = chooser.probabilities(r.member_id, [r.title_id], [int(r.position)], r.row_index)
        k = len(probs)
        np.testing.assert_allclose(probs, expected[row, :k], rtol=0, atol=1e-12)
        assert list(chooser.titles[r.title_id].variant_ids) == list(
            trained.test.variant_ids[row, :k]
        )


def test_one_request_scores_many_titles_at_once_and_skips_unknown_ones(trained):
    chooser = ArtworkChooser(trained.policy, trained.catalogue)
    member = trained.test.impressions["member_id"].iloc[0]
    titles = list(chooser.titles)[:10]
    alone = [chooser.probabilities(member, [t], [i])[0] for i, t in enumerate(titles)]
    together = chooser.probabilities(member, [*titles, "t-unknown"], [*range(10), 10])
    assert together[-1] is None
    for a, b in zip(alone, together[:-1], strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)
    rng = np.random.default_rng(0)
    chosen = chooser.choose(member, [*titles, "t-unknown"], rng)
    assert chosen[-1] is None
    for choice, probs in zip(chosen[:-1], together[:-1], strict=True):
        column = chooser.titles[choice.title_id].variant_ids.index(choice.variant_id)
        assert choice.propensity == probs[column] > 0
    # A member the policy never saw scores as one without views or demographics.
    [stranger] = chooser.probabilities("never-seen", titles[:1], [0])
    assert np.isclose(stranger.sum(), 1.0) and (stranger > 0).all()
    started = time.perf_counter()
    for _ in range(200):
        chooser.choose(member, titles, rng)
    per_call_ms = (time.perf_counter() - started) / 200 * 1e3
    assert per_call_ms < 10, f"{per_call_ms:.2f} ms per 10-title choice"


def test_a_saved_policy_loads_back_with_the_same_probabilities(trained, tmp_path):
    from reelops.artwork.policy import load_artwork_spec

    folder = save_policy(trained.policy, tmp_path / "policy", load_artwork_spec(),
                         trained.catalogue)  # fmt: skip
    assert not list(folder.glob("*.pkl")) and (folder / "booster_0.json").is_file()
    loaded = load_policy(folder)
    assert loaded.exploration == trained.policy.exploration
    np.testing.assert_allclose(
        loaded.probabilities(trained.test), trained.policy.probabilities(trained.test), atol=1e-12
    )
    chooser = ArtworkChooser.load(folder)
    saved = load_catalogue(folder).astype(str)
    assert saved.values.tolist() == trained.catalogue.astype(str).values.tolist()
    assert set(chooser.titles) == set(trained.catalogue["title_id"])
