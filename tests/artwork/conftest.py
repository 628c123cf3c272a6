"""A tiny world, its artwork truth and policies trained on its log, shared by the artwork tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from reelops.artwork.candidates import Candidates, build_candidates
from reelops.artwork.features import member_profiles
from reelops.artwork.policy import ArtworkPolicy, TrainingData, load_artwork_spec, train_policy
from reelops.artwork.saved import catalogue_frame
from reelops.world import WorldConfig, generate_world
from reelops.world.catalog import theme_fit_matrix
from reelops.world.generator import artwork_truth

HELD_OUT_TITLES = 12  # titles whose impressions are kept out of training: "new" titles


@dataclass(eq=False)
class Trained:
    test: Candidates
    policy: ArtworkPolicy
    click: ArtworkPolicy
    good: np.ndarray  # (test impressions, width) true good-play probability
    misleading: np.ndarray  # (test impressions, width) bool
    new_title: np.ndarray  # bool per test impression: its title had no training impression
    theme_pull: np.ndarray  # (test impressions, width) hidden taste x theme fit
    catalogue: pd.DataFrame  # every title's variants with theme and genres (as saved)


@pytest.fixture(scope="session")
def trained() -> Trained:
    config = WorldConfig.tiny(n_members=300, days=8, sessions_per_day=1)
    world = generate_world(config)
    t = world.tables
    imp = t["impressions"]
    start = pd.Timestamp(config.start)
    history, cut = start + pd.Timedelta(days=2), start + pd.Timedelta(days=6)
    new_titles = t["titles"]["title_id"].iloc[:HELD_OUT_TITLES]
    train = imp[(imp.ts >= history) & (imp.ts < cut) & ~imp.title_id.isin(new_titles)]
    test = imp[imp.ts >= cut]
    data = TrainingData(imp, t["viewing_events"], t["titles"], t["members"], t["artwork_variants"])
    spec = load_artwork_spec()
    train_c = build_candidates(train, t["artwork_variants"], t["titles"])
    test_c = build_candidates(test, t["artwork_variants"], t["titles"])
    policies = [
        train_policy(data, train_c, spec, history_before=history, target=target)
        for target in ("reward", "played")
    ]
    for p in policies:  # scoring time: taste from every view before the test days
        p.model.profiles = member_profiles(t["viewing_events"], t["titles"], t["members"], cut)
    truth = artwork_truth(config)
    ix = truth.indices(test_c.impressions)
    cols = np.where(test_c.mask, np.arange(test_c.mask.shape[1]), 0)
    variant = truth.catalog.variant_start[ix["title"]][:, None] + cols
    good = np.column_stack(
        [truth.good_play_probability(ix, variant[:, k], 0.5) for k in range(variant.shape[1])]
    )
    return Trained(
        test=test_c,
        policy=policies[0],
        click=policies[1],
        good=np.where(test_c.mask, good, 0.0),
        misleading=truth.catalog.variant_misleading[variant] & test_c.mask,
        new_title=test_c.impressions["title_id"].isin(new_titles).to_numpy(),
        theme_pull=(truth.members.taste @ theme_fit_matrix())[
            ix["member"][:, None], truth.catalog.variant_theme[variant]
        ],
        catalogue=catalogue_frame(t["artwork_variants"], t["titles"]),
    )
