"""The artwork policy: exact propensities, no zero propensity, new titles, misleading artwork."""

from __future__ import annotations

import numpy as np
import pytest

from reelops.artwork.candidates import build_candidates
from reelops.artwork.policy import ArtworkPolicy, Exploration, load_artwork_spec, sample
from reelops.specs import SpecError


def test_a_served_choice_has_the_probability_it_was_sampled_with(trained):
    probs = trained.policy.probabilities(trained.test)[:6]
    draws = 20_000
    rng = np.random.default_rng(0)
    for row, p in enumerate(probs):
        choice, propensity = sample(np.repeat(p[None, :], draws, axis=0), rng)
        np.testing.assert_allclose(propensity, p[choice])
        freq = np.bincount(choice, minlength=len(p)) / draws
        # Within 5 standard errors of the stated probability, column by column.
        assert (np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / draws) + 1e-12).all(), row
    chosen, propensity = trained.policy.choose(trained.test, rng)
    full = trained.policy.probabilities(trained.test)
    np.testing.assert_array_equal(propensity, full[np.arange(len(chosen)), chosen])


def test_no_variant_has_zero_propensity_not_even_a_new_titles(trained):
    probs = trained.policy.probabilities(trained.test)
    eps = trained.policy.exploration.epsilon
    mask = trained.test.mask
    assert trained.new_title.any()
    floor = eps / trained.test.n_variants[:, None]
    assert (probs[mask] >= np.broadcast_to(floor, mask.shape)[mask] - 1e-12).all()
    assert (probs[~mask] == 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_new_titles_get_artwork_by_theme_evidence_not_at_random(trained):
    new, mask = trained.new_title, trained.test.mask
    model = trained.policy.model
    ids, themes = trained.test.variant_ids[new][mask[new]], trained.test.themes[new][mask[new]]
    # Never shown: a new title's variant carries exactly its theme's evidence.
    unseen = model.evidence.of(ids, themes)
    assert (unseen[:, 2] == 0).all()
    np.testing.assert_allclose(unseen[:, 1], unseen[:, 3])
    # The personalised theme evidence learned from the log follows the hidden taste x theme
    # fit, and choosing by it beats choosing at random on the new titles.
    taste = model.profiles.reindex(trained.test.impressions["member_id"])
    taste = taste[[c for c in taste.columns if c.startswith("taste_")]].to_numpy()
    rows, cols = np.nonzero(mask)
    lift = np.full(mask.shape, -np.inf)
    lift[rows, cols] = model.evidence.member_theme(taste[rows], trained.test.themes[rows, cols])
    assert np.corrcoef(lift[mask], trained.theme_pull[mask])[0, 1] > 0.2
    good = trained.good[new]
    picked = good[np.arange(len(good)), lift[new].argmax(axis=1)].mean()
    uniform = (good * trained.test.uniform()[new]).sum(axis=1).mean()
    assert picked > 1.03 * uniform


def test_a_misleading_variant_is_not_preferred(trained):
    mis = trained.misleading
    share = {
        name: (probs * mis).sum(axis=1).mean()
        for name, probs in (
            ("uniform", trained.test.uniform()),
            ("learned", trained.policy.probabilities(trained.test)),
            ("click", trained.click.probabilities(trained.test)),
        )
    }
    assert share["learned"] < 0.8 * share["uniform"] < share["click"], share


def test_bootstrap_thompson_probabilities_are_bag_shares(trained):
    model = trained.policy.model
    bags = [model.boosters[0]] * 2
    thompson = ArtworkPolicy(
        type(model)(bags, model.space, model.profiles, model.evidence, model.target),
        Exploration(rule="bootstrap_thompson", epsilon=0.2, bags=2),
    )
    probs = thompson.probabilities(trained.test)
    greedy = ArtworkPolicy(model, Exploration(rule="epsilon_greedy", epsilon=0.2))
    np.testing.assert_allclose(probs, greedy.probabilities(trained.test))


def test_spec_refuses_zero_exploration_naming_the_field(tmp_path):
    text = load_artwork_spec().model_dump_json()
    path = tmp_path / "artwork.yaml"
    path.write_text(text.replace('"epsilon":0.1', '"epsilon":0.0'))
    with pytest.raises(SpecError, match="exploration.epsilon"):
        load_artwork_spec(path)


def test_an_impression_of_an_unknown_variant_is_refused(trained):
    imp = trained.test.impressions.head(2).assign(variant_id="t99999-v1")
    variants = trained.test.impressions[["title_id"]].head(0)
    with pytest.raises(ValueError, match="has no variants|is not one of"):
        build_candidates(imp, variants.assign(variant_id=[], theme=[]), imp)


def test_a_new_titles_variant_is_chosen_by_theme_evidence_not_at_random(trained):
    cands, model = trained.test, trained.policy.model
    # The held-out titles have no logged impression: the policy knows them as new (with
    # the titles first shown after the training days).
    new = model.new_titles(cands)
    assert new[trained.new_title].all() and new.sum() < 2 * trained.new_title.sum()
    probs = trained.policy.probabilities(cands)
    theme = model.theme_scores(cands)
    # Its favourite variant of a new title is the one whose theme the member's evidence
    # ranks first (the member's lift of the theme, learned from every other title).
    np.testing.assert_array_equal(probs[new].argmax(axis=1), theme[new].argmax(axis=1))
    assert (probs[new].max(axis=1) >= 1 - trained.policy.exploration.epsilon).all()
    # Personalised: members with different tastes get different variants of one title.
    favourite = cands.variant_ids[new][np.arange(new.sum()), probs[new].argmax(axis=1)]
    titles = cands.impressions["title_id"].to_numpy()[new]
    per_title = {t: set(favourite[titles == t]) for t in set(titles)}
    assert max(len(v) for v in per_title.values()) >= 2, per_title
    # Not at random: on the new titles the true good-play rate is well above uniform's
    # (the reward model's own scores there gained under 1 %).
    good = trained.good[new]
    learned = (probs[new] * good).sum(axis=1).mean()
    uniform = (cands.uniform()[new] * good).sum(axis=1).mean()
    assert learned > 1.08 * uniform, (learned, uniform)
    # Titles with impressions keep the reward model's choice.
    scores = model.predict(cands)
    old = ~new
    np.testing.assert_array_equal(
        probs[old].argmax(axis=1), np.where(cands.mask, scores, -np.inf)[old].argmax(axis=1)
    )
