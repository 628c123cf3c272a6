"""Off-policy evaluation on the real Open Bandit sample: the Bernoulli TS policy from Random logs.

The evaluated policy is ZOZOTOWN's production Bernoulli Thompson Sampling with its fixed
prior, replicated as obp 0.4.1 does (``BernoulliTS(is_zozotown_prior=True,
random_state=12345).compute_batch_action_dist(n_sim=100000)``): ``n_sim`` draws of a Beta
sample per item from one ``RandomState`` stream, the top ``len_list`` items of each draw
counted per slot. Reproducing that stream exactly is what makes obp's published relative
value (IPS over the Random log's mean click, 1.198126) comparable to ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reelops.artwork.ope import Estimate, estimate_all
from reelops.datasets.open_bandit import BanditLog, read_log, read_prior

OBP_SEED = 12345
OBP_N_SIM = 100_000
PUBLISHED_RELATIVE_IPS = 1.198126  # obp 0.4.1 README, "Example with Open Bandit Dataset"


def bts_action_dist(
    alpha: np.ndarray, beta: np.ndarray, len_list: int, n_sim: int = OBP_N_SIM, seed: int = OBP_SEED
) -> np.ndarray:
    """``(actions, len_list)``: how often Bernoulli TS puts each item in each slot.

    With no observed rewards the posterior is the prior, so each draw samples
    ``Beta(alpha, beta)`` per item and ranks the samples; the loop keeps one draw per
    call on a legacy ``RandomState`` because that is the stream obp's figure came from.
    """
    random = np.random.RandomState(seed)
    count = np.zeros((len(alpha), len_list))
    slots = np.arange(len_list)
    for _ in range(n_sim):
        ranked = random.beta(a=alpha, b=beta).argsort()[::-1][:len_list]
        count[ranked, slots] += 1
    return count / n_sim


def click_model(log: BanditLog, folds: int = 2, prior_weight: float = 10.0) -> np.ndarray:
    """``(rows, actions)`` cross-fitted click rate per item and slot, for doubly robust.

    Each row's predictions come from the other folds only: the item-and-slot click rate,
    shrunk to the slot's rate with ``prior_weight`` pseudo-impressions.
    """
    n, k, slots = len(log.action), log.n_actions, log.len_list
    fold = np.arange(n) % folds
    q = np.empty((n, k))
    for f in range(folds):
        train = fold != f
        cell = log.action[train] * slots + log.position[train]
        shown = np.bincount(cell, minlength=k * slots).reshape(k, slots)
        clicks = np.bincount(cell, weights=log.reward[train], minlength=k * slots)
        slot_rate = clicks.reshape(k, slots).sum(0) / np.maximum(shown.sum(0), 1)
        rate = (clicks.reshape(k, slots) + prior_weight * slot_rate) / (shown + prior_weight)
        q[fold == f] = rate[:, log.position[fold == f]].T
    return q


@dataclass(frozen=True)
class OpenBanditResult:
    """The BTS policy's value estimated from the Random log, beside the BTS log's own mean."""

    campaign: str
    estimates: dict[str, Estimate]
    random_mean_click: float
    on_policy_truth: float  # mean click of the BTS log: the policy's realised value
    rows: int

    def relative(self, estimator: str) -> float:
        return self.estimates[estimator].value / self.random_mean_click


def evaluate_bts(
    folder: Path, campaign: str = "all", n_sim: int = OBP_N_SIM, n_boot: int = 200, seed: int = 0
) -> OpenBanditResult:
    """Replay, IPS, SNIPS and DR of Bernoulli TS from the Random log of ``campaign``."""
    random_log = read_log(folder, "random", campaign)
    alpha, beta = read_prior(folder, campaign)
    dist = bts_action_dist(alpha, beta, random_log.len_list, n_sim=n_sim)
    # Each row is one slot: the evaluated policy's distribution is that slot's column.
    action_prob = dist[:, random_log.position].T
    rng = np.random.default_rng(seed)
    sampled = (rng.random((len(action_prob), 1)) > action_prob.cumsum(axis=1)).sum(axis=1)
    estimates = estimate_all(
        random_log.reward,
        random_log.pscore,
        action_prob,
        random_log.action,
        q_hat=click_model(random_log),
        replay_choice=np.minimum(sampled, random_log.n_actions - 1),
        n_boot=n_boot,
        seed=seed,
    )
    bts_log = read_log(folder, "bts", campaign)
    return OpenBanditResult(
        campaign=campaign,
        estimates=estimates,
        random_mean_click=float(random_log.reward.mean()),
        on_policy_truth=float(bts_log.reward.mean()),
        rows=len(random_log.action),
    )
