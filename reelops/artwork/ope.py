"""Off-policy estimators of a policy's value from logged bandit feedback, with bootstrap CIs.

Every estimator here is a ratio of per-row sums, ``sum(numerator) / sum(denominator)``:

* replay (Li et al. 2011): the mean reward of the rows where the evaluated policy's
  choice equals the logged one (numerator ``match * r``, denominator ``match``);
* IPS: ``mean(w * r)`` with ``w = pi_e(a|x) / pi_0(a|x)`` (denominator 1);
* self-normalised IPS: ``sum(w * r) / sum(w)``;
* doubly robust: ``mean(q_e(x) + w * (r - q(x, a)))`` with ``q`` a reward model and
  ``q_e(x) = sum_a pi_e(a|x) q(x, a)`` (denominator 1).

So one row-resampling bootstrap (percentile interval) serves all four.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ESTIMATORS = ("replay", "ips", "snips", "dr")


@dataclass(frozen=True)
class Estimate:
    """An estimated policy value and its bootstrap percentile interval."""

    estimator: str
    value: float
    low: float
    high: float
    rows_used: int

    def covers(self, truth: float) -> bool:
        return self.low <= truth <= self.high


def _check(**arrays: np.ndarray) -> int:
    sizes = {name: len(a) for name, a in arrays.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"the log's arrays differ in length: {sizes}")
    return next(iter(sizes.values()))


def importance_weights(target_prob: np.ndarray, pscore: np.ndarray) -> np.ndarray:
    """``pi_e(a|x) / pi_0(a|x)`` per logged row.

    Raises:
        ValueError: a logging propensity is not in (0, 1] (naming the first such row),
            since no unbiased weight exists for an action the logger could not choose.
    """
    pscore = np.asarray(pscore, dtype=np.float64)
    bad = ~((pscore > 0) & (pscore <= 1))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"logging propensity must be in (0, 1]; row {row} has {float(pscore[row])}"
        )
    return np.asarray(target_prob, dtype=np.float64) / pscore


def terms(
    estimator: str,
    reward: np.ndarray,
    pscore: np.ndarray,
    target_prob: np.ndarray,
    *,
    match: np.ndarray | None = None,
    q_logged: np.ndarray | None = None,
    q_target: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row numerator and denominator of ``estimator`` (see the module doc).

    Args:
        estimator: One of :data:`ESTIMATORS`.
        reward: Logged reward per row.
        pscore: Logging probability of the logged action.
        target_prob: The evaluated policy's probability of the logged action.
        match: replay only: whether the evaluated policy's (deterministic or sampled)
            choice equals the logged action.
        q_logged: dr only: the reward model at the logged action.
        q_target: dr only: the reward model's expectation under the evaluated policy.
    """
    reward = np.asarray(reward, dtype=np.float64)
    n = _check(reward=reward, pscore=pscore, target_prob=target_prob)
    if estimator == "replay":
        if match is None:
            raise ValueError("replay needs `match`: whether the policy's choice is the logged one")
        hit = np.asarray(match, dtype=np.float64)
        _check(reward=reward, match=hit)
        return hit * reward, hit
    w = importance_weights(target_prob, pscore)
    if estimator == "ips":
        return w * reward, np.ones(n)
    if estimator == "snips":
        return w * reward, w
    if estimator == "dr":
        if q_logged is None or q_target is None:
            raise ValueError("dr needs the reward model's `q_logged` and `q_target`")
        _check(reward=reward, q_logged=q_logged, q_target=q_target)
        return np.asarray(q_target) + w * (reward - np.asarray(q_logged)), np.ones(n)
    raise ValueError(f"unknown estimator {estimator!r}; known: {ESTIMATORS}")


def bootstrap_ratios(
    numerators: np.ndarray,
    denominators: np.ndarray,
    *,
    n_boot: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``sum(num) / sum(den)`` of each row of ``(estimates, n)`` arrays, with percentile
    intervals from one shared row bootstrap (the same resamples for all: paired)."""
    numerators, denominators = np.atleast_2d(numerators), np.atleast_2d(denominators)
    n = numerators.shape[1]
    totals = denominators.sum(axis=1)
    values = np.where(totals > 0, numerators.sum(axis=1) / np.where(totals > 0, totals, 1), np.nan)
    if n == 0:
        return values, values.copy(), values.copy()
    rng = np.random.default_rng(seed)
    stacked = np.vstack([numerators, denominators]).T
    replicates = np.empty((n_boot, len(numerators)))
    for b in range(n_boot):
        # Resampling counts rather than indices: same distribution, one product for all.
        sums = np.bincount(rng.integers(0, n, n), minlength=n) @ stacked
        num, den = sums[: len(numerators)], sums[len(numerators) :]
        replicates[b] = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    alpha = (1 - level) / 2
    low, high = np.nanquantile(replicates, [alpha, 1 - alpha], axis=0)
    return values, low, high


def bootstrap_ratio(numerator: np.ndarray, denominator: np.ndarray, **options) -> tuple:
    """``sum(num) / sum(den)`` and its row-bootstrap percentile interval (float, float, float);
    ``options`` as :func:`bootstrap_ratios`."""
    got = bootstrap_ratios(numerator, denominator, **options)
    return tuple(float(x[0]) for x in got)


def estimate(
    estimator: str,
    *log: np.ndarray,
    n_boot: int = 200,
    level: float = 0.95,
    seed: int = 0,
    **model: np.ndarray | None,
) -> Estimate:
    """One estimator's value of the evaluated policy with its bootstrap CI.

    ``log`` and ``model`` are the arguments of :func:`terms` (reward, pscore, target_prob;
    match or q_logged and q_target); ``n_boot`` resamples of the rows, a ``level`` interval.
    """
    num, den = terms(estimator, *log, **model)
    value, low, high = bootstrap_ratio(num, den, n_boot=n_boot, level=level, seed=seed)
    rows = int(np.count_nonzero(den)) if estimator == "replay" else len(num)
    return Estimate(estimator, value, low, high, rows)


def estimate_all(
    reward: np.ndarray,
    pscore: np.ndarray,
    action_prob: np.ndarray,
    logged_action: np.ndarray,
    *,
    q_hat: np.ndarray | None = None,
    replay_choice: np.ndarray | None = None,
    n_boot: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, Estimate]:
    """Every estimator at once from the evaluated policy's full action distribution.

    Args:
        reward: Logged reward per row.
        pscore: Logging probability of the logged action.
        action_prob: ``(rows, actions)``: the evaluated policy's probabilities per row.
        logged_action: Column of ``action_prob`` that was logged in each row.
        q_hat: ``(rows, actions)`` reward model predictions; without it DR is left out.
        replay_choice: The evaluated policy's choice per row for replay; the most probable
            action when None.
        n_boot: Bootstrap resamples.
        level: Interval level.
        seed: Seed of the resampling.
    """
    rows = np.arange(len(logged_action))
    target = action_prob[rows, logged_action]
    choice = action_prob.argmax(axis=1) if replay_choice is None else replay_choice
    inputs = {
        "replay": {"match": choice == logged_action},
        "ips": {},
        "snips": {},
    }
    if q_hat is not None:
        inputs["dr"] = {
            "q_logged": q_hat[rows, logged_action],
            "q_target": (action_prob * q_hat).sum(axis=1),
        }
    parts = [terms(name, reward, pscore, target, **extra) for name, extra in inputs.items()]
    values, lows, highs = bootstrap_ratios(
        np.array([p[0] for p in parts]),
        np.array([p[1] for p in parts]),
        n_boot=n_boot,
        level=level,
        seed=seed,
    )
    return {
        name: Estimate(
            name,
            float(values[i]),
            float(lows[i]),
            float(highs[i]),
            int(np.count_nonzero(parts[i][1])) if name == "replay" else len(reward),
        )
        for i, name in enumerate(inputs)
    }
