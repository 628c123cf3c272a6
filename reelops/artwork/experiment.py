"""One round of the artwork bandit on a log: taste, train, then every policy on later impressions.

The log's days are cut in three: the first third gives members' taste (their views),
the policy and its click-optimised twin learn from the second third's impressions, and
the last third's impressions judge them beside the logging rule (uniform over a
title's variants) and the best single variant per title, by off-policy estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reelops.artwork.candidates import Candidates, build_candidates
from reelops.artwork.evaluation import (
    PolicyReport,
    dr_difference,
    evaluate,
    greedy,
    segment_differences,
)
from reelops.artwork.features import member_profiles
from reelops.artwork.policy import (
    ArtworkPolicy,
    ArtworkSpec,
    TrainingData,
    label,
    train_policy,
)

TABLES = ("impressions", "viewing_events", "titles", "members", "artwork_variants")
UNIFORM = "logging = uniform random"
BEST_SINGLE = "best single variant"


@dataclass(eq=False)
class Experiment:
    """Trained policies and the evaluation impressions with every policy's probabilities."""

    history: pd.Timestamp
    cut: pd.Timestamp
    train: Candidates
    test: Candidates
    learned: ArtworkPolicy
    click: ArtworkPolicy
    policies: dict[str, np.ndarray]
    q_hat: np.ndarray
    reward: np.ndarray

    def reports(self, truth=None, *, seed: int = 0) -> dict[str, PolicyReport]:
        """Every policy's estimates (and true values, given the truth)."""
        return evaluate(self.policies, self.test, self.reward, self.q_hat, truth, seed=seed)

    def uplift(self, other: str, *, seed: int = 0) -> tuple[float, float, float]:
        """DR estimate of learned minus ``other`` with its paired-bootstrap interval."""
        return dr_difference(
            self.policies["learned"],
            self.policies[other],
            self.test,
            self.reward,
            self.q_hat,
            seed=seed,
        )

    def segment_uplift(
        self, members: pd.DataFrame, column: str, other: str = UNIFORM, *, seed: int = 0
    ) -> dict[str, tuple[float, float, float]]:
        """DR learned minus ``other`` per value of a member ``column`` (country, age_band)."""
        by_member = members.set_index("member_id")[column]
        segment = by_member.reindex(self.test.impressions["member_id"]).fillna("unknown")
        return segment_differences(
            self.policies["learned"],
            self.policies[other],
            self.test,
            self.reward,
            self.q_hat,
            segment.to_numpy(dtype=object),
            seed=seed,
        )


def run_experiment(tables: dict[str, pd.DataFrame], spec: ArtworkSpec) -> Experiment:
    """Train on the middle third of the log's days, lay out every policy on the last third.

    Raises:
        ValueError: a table is missing or the log spans fewer than 3 days.
    """
    if missing := [t for t in TABLES if t not in tables]:
        raise ValueError(f"the artwork experiment needs the tables {missing}")
    imp = tables["impressions"]
    first = imp["ts"].min().floor("D")
    days = (imp["ts"].max().floor("D") - first).days + 1
    if days < 3:
        raise ValueError(f"the impressions span {days} day(s); the experiment needs at least 3")
    history = first + pd.Timedelta(days=days // 3)
    cut = first + pd.Timedelta(days=2 * days // 3)
    variants, titles = tables["artwork_variants"], tables["titles"]
    train = build_candidates(imp[(imp.ts >= history) & (imp.ts < cut)], variants, titles)
    test = build_candidates(imp[imp.ts >= cut], variants, titles)
    data = TrainingData(imp, tables["viewing_events"], titles, tables["members"], variants)
    learned, click = (
        train_policy(data, train, spec, history_before=history, target=target)
        for target in ("reward", "played")
    )
    # Scoring time: taste from every view before the evaluation days.
    profiles = member_profiles(data.viewing_events, titles, data.members, cut)
    for policy in (learned, click):
        policy.model.profiles = profiles
    rows, cols = np.nonzero(test.mask)
    variant_good = np.full(test.mask.shape, -np.inf)
    variant_good[rows, cols] = learned.model.evidence.of(
        test.variant_ids[rows, cols], test.themes[rows, cols]
    )[:, 1]
    policies = {
        "learned": learned.probabilities(test),
        UNIFORM: test.uniform(),
        BEST_SINGLE: greedy(variant_good),
        "click-optimised": click.probabilities(test),
    }
    return Experiment(
        history=history,
        cut=cut,
        train=train,
        test=test,
        learned=learned,
        click=click,
        policies=policies,
        q_hat=learned.model.predict(test),
        reward=label(test.impressions, spec)["reward"].to_numpy(),
    )
