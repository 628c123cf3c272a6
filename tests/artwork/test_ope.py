"""Off-policy estimators against values computed by hand on a four-row log."""

from __future__ import annotations

import numpy as np
import pytest

from reelops.artwork.ope import bootstrap_ratio, estimate, estimate_all
from reelops.artwork.open_bandit import bts_action_dist

REWARD = np.array([1.0, 0.0, 1.0, 0.0])
LOGGED = np.array([0, 1, 1, 0])
PSCORE = np.array([0.5, 0.5, 0.25, 0.75])
POLICY = np.array([[0.8, 0.2], [0.8, 0.2], [0.1, 0.9], [0.5, 0.5]])
Q_HAT = np.array([[0.5, 0.2], [0.5, 0.2], [0.4, 0.6], [0.3, 0.1]])


def test_estimators_match_hand_computed_values():
    got = estimate_all(REWARD, PSCORE, POLICY, LOGGED, q_hat=Q_HAT, n_boot=50)
    # weights 0.8/0.5, 0.2/0.5, 0.9/0.25, 0.5/0.75 = 1.6, 0.4, 3.6, 2/3
    assert got["ips"].value == pytest.approx((1.6 + 3.6) / 4)
    assert got["snips"].value == pytest.approx(5.2 / (1.6 + 0.4 + 3.6 + 2 / 3))
    # greedy choices 0, 0, 1, 0 (a tie goes to the first): rows 0, 2, 3 match, rewards 1, 1, 0
    assert got["replay"].value == pytest.approx(2 / 3) and got["replay"].rows_used == 3
    # q_e = .44, .44, .58, .2; corrections 1.6*.5, .4*-.2, 3.6*.4, (2/3)*-.3
    assert got["dr"].value == pytest.approx((1.24 + 0.36 + 2.02 + 0.0) / 4)
    for e in got.values():
        assert e.low <= e.value <= e.high


def test_bootstrap_interval_narrows_with_rows_and_covers_the_mean():
    rng = np.random.default_rng(3)
    small = rng.random(100) < 0.3
    large = rng.random(10_000) < 0.3
    v1, lo1, hi1 = bootstrap_ratio(small.astype(float), np.ones(100))
    v2, lo2, hi2 = bootstrap_ratio(large.astype(float), np.ones(10_000))
    assert lo1 < v1 < hi1 and lo2 < 0.3 < hi2
    assert hi2 - lo2 < (hi1 - lo1) / 5


def test_a_zero_logging_propensity_is_refused_naming_the_row():
    with pytest.raises(ValueError, match="row 2 has 0.0"):
        estimate("ips", REWARD, np.array([0.5, 0.5, 0.0, 0.5]), np.full(4, 0.5))
    with pytest.raises(ValueError, match="unknown estimator 'direct'"):
        estimate("direct", REWARD, PSCORE, np.full(4, 0.5))


def test_bts_action_dist_ranks_the_dominant_prior_first_in_every_draw():
    dist = bts_action_dist(np.array([500.0, 1.0, 1.0, 1.0]), np.array([1.0, 50.0, 50, 50]), 3, 500)
    np.testing.assert_allclose(dist.sum(axis=0), 1.0)
    assert dist[0, 0] == 1.0 and dist[0, 1:].sum() == 0.0
    assert (dist.sum(axis=1) <= 1.0 + 1e-12).all()
