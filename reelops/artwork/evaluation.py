"""Artwork policies side by side: off-policy estimates from a log, and true values when known.

Each policy is a ``(impressions, width)`` matrix of the probability it would serve each
of the title's variants (:class:`~reelops.artwork.candidates.Candidates` layout). From
the log (the variant shown, its logging propensity and its reward) every policy gets
replay, IPS, SNIPS and DR estimates with bootstrap CIs; where the hidden truth is
known (a simulated world), ``good[i, k]`` is the true probability of a good play had
variant ``k`` been shown in impression ``i``, and the policy's true value is
``mean_i sum_k pi[i, k] * good[i, k]``, exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reelops.artwork.candidates import Candidates
from reelops.artwork.ope import Estimate, bootstrap_ratio, estimate_all, terms
from reelops.artwork.policy import sample


@dataclass(frozen=True)
class Truth:
    """Per impression and variant column: true P(good play), P(play), E[completion | play]."""

    good: np.ndarray
    play: np.ndarray
    completion: np.ndarray

    def value(self, probs: np.ndarray) -> float:
        """True good-play rate per impression under ``probs``."""
        return float((probs * self.good).sum(axis=1).mean())

    def completion_rate(self, probs: np.ndarray) -> float:
        """True mean completion of the plays ``probs`` would start."""
        plays = probs * self.play
        return float((plays * self.completion).sum() / plays.sum())

    def oracle(self, mask: np.ndarray) -> np.ndarray:
        """The policy that always serves the truly best variant."""
        return greedy(np.where(mask, self.good, -np.inf))


def greedy(scores: np.ndarray) -> np.ndarray:
    """Deterministic policy: probability 1 on each row's best-scored column."""
    return np.eye(scores.shape[1])[scores.argmax(axis=1)]


@dataclass(frozen=True)
class PolicyReport:
    """One policy's estimates from the log, and its true value when the truth is known."""

    name: str
    estimates: dict[str, Estimate]
    true_value: float | None = None
    true_completion: float | None = None


def evaluate(
    policies: dict[str, np.ndarray],
    cands: Candidates,
    reward: np.ndarray,
    q_hat: np.ndarray,
    truth: Truth | None = None,
    *,
    pscore: np.ndarray | None = None,
    n_boot: int = 200,
    seed: int = 0,
) -> dict[str, PolicyReport]:
    """Estimates (and true values) of every policy on one log.

    Args:
        policies: Name -> ``(impressions, width)`` probabilities.
        cands: The logged impressions with their variants (``logged`` is the shown one).
        reward: Logged reward (a good play) per impression.
        q_hat: Reward model predictions per impression and variant, for DR.
        truth: The hidden truth, when known.
        pscore: Logging propensity of the shown variant; the world's uniform rule when None.
        n_boot: Bootstrap resamples per estimator.
        seed: Seed of the resampling (the same rows for every policy: paired).
    """
    pscore = cands.logged_prob(cands.uniform()) if pscore is None else pscore
    out = {}
    for name, probs in policies.items():
        estimates = estimate_all(
            reward, pscore, probs, cands.logged, q_hat=q_hat, n_boot=n_boot, seed=seed
        )
        out[name] = PolicyReport(
            name,
            estimates,
            truth.value(probs) if truth is not None else None,
            truth.completion_rate(probs) if truth is not None else None,
        )
    return out


def dr_difference(
    a: np.ndarray,
    b: np.ndarray,
    cands: Candidates,
    reward: np.ndarray,
    q_hat: np.ndarray,
    *,
    pscore: np.ndarray | None = None,
    n_boot: int = 200,
    seed: int = 0,
) -> tuple[float, float, float]:
    """DR estimate of value(a) - value(b) with its paired row-bootstrap interval."""
    pscore = cands.logged_prob(cands.uniform()) if pscore is None else pscore
    rows = np.arange(len(reward))
    parts = []
    for probs in (a, b):
        num, _ = terms(
            "dr",
            reward,
            pscore,
            probs[rows, cands.logged],
            q_logged=q_hat[rows, cands.logged],
            q_target=(probs * q_hat).sum(axis=1),
        )
        parts.append(num)
    return bootstrap_ratio(parts[0] - parts[1], np.ones(len(rows)), n_boot=n_boot, seed=seed)


def segment_differences(
    a: np.ndarray,
    b: np.ndarray,
    cands: Candidates,
    reward: np.ndarray,
    q_hat: np.ndarray,
    segment: np.ndarray,
    *,
    n_boot: int = 200,
    seed: int = 0,
) -> dict[str, tuple[float, float, float]]:
    """DR value(a) - value(b) within each member segment (e.g. country), with paired CIs.

    Args:
        segment: The segment label of each impression's member.
    """
    out = {}
    for label in sorted(set(segment.tolist())):
        rows = np.flatnonzero(segment == label)
        sub = Candidates(
            cands.impressions.iloc[rows],
            cands.variant_ids[rows],
            cands.themes[rows],
            cands.mask[rows],
            cands.logged[rows],
            cands.title_genres[rows],
        )
        out[str(label)] = dr_difference(
            a[rows], b[rows], sub, reward[rows], q_hat[rows], n_boot=n_boot, seed=seed
        )
    return out


def simulated_log(
    cands: Candidates, truth: Truth, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A fresh log on the same impressions: a uniform variant and a good play drawn from the truth.

    Returns:
        The logged column per impression and its reward.
    """
    logged, _ = sample(cands.uniform(), rng)
    good = truth.good[np.arange(len(logged)), logged]
    return logged, (rng.random(len(logged)) < good).astype(np.float64)
