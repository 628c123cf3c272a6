"""Implicit-feedback ALS (Hu, Koren & Volinsky 2008) and BPR (Rendle et al. 2009), on CPU.

Both with the ``implicit`` library. ALS is a baseline and a candidate source: member
and title factors learned from the watched matrix (confidence ``1 + alpha`` per watched
title); BPR, a baseline, learns them from sampled (watched, unwatched) pairs. Both score
``member factors . title factors``; members unknown at fit time score zero everywhere.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import scipy.sparse as sp

from reelops.ranking.baselines import Ranker

ALS_GRID = {
    "factors": (32, 64),
    "regularization": (0.1, 1.0),
    "alpha": (1.0, 10.0),
    "iterations": (15,),
}


class _Factors(Ranker):
    """A ranker scoring member factors times title factors."""

    member_factors: np.ndarray
    title_factors: np.ndarray

    def _score(self, member_keys: np.ndarray) -> np.ndarray:
        rows = self.data.rows(member_keys)
        out = np.zeros((len(member_keys), self.title_factors.shape[0]))
        known = rows >= 0
        out[known] = self.member_factors[rows[known]] @ self.title_factors.T
        return out

    def _learn(self, model) -> None:
        model.fit(sp.csr_matrix(self.data.matrix, dtype=np.float32), show_progress=False)
        self.member_factors = np.asarray(model.user_factors, dtype=np.float64)
        self.title_factors = np.asarray(model.item_factors, dtype=np.float64)


class ALS(_Factors):
    """Implicit ALS fitted with :class:`implicit.cpu.als.AlternatingLeastSquares`.

    Args:
        factors: Latent dimensions.
        regularization: L2 penalty of the factors.
        alpha: Confidence of a watched title is ``1 + alpha``.
        iterations: ALS sweeps.
        threads: Threads ``implicit`` uses (the machine is shared: keep it small).
        seed: Seed of the initial factors.
    """

    def __init__(
        self,
        factors: int = 32,
        regularization: float = 1.0,
        alpha: float = 1.0,
        iterations: int = 15,
        threads: int = 2,
        seed: int = 0,
    ) -> None:
        if factors < 1 or iterations < 1 or regularization < 0 or alpha < 0:
            raise ValueError(
                "ALS needs factors >= 1, iterations >= 1, regularization >= 0 and alpha >= 0; "
                f"got {factors}, {iterations}, {regularization}, {alpha}"
            )
        # Specs may write whole numbers as floats (1e2, a grid typed as floats).
        self.factors, self.iterations = int(factors), int(iterations)
        self.regularization, self.alpha = float(regularization), float(alpha)
        self.threads, self.seed = int(threads), seed

    @property
    def params(self) -> dict[str, float]:
        """The hyperparameters, as a spec writes them."""
        return {
            "factors": self.factors,
            "regularization": self.regularization,
            "alpha": self.alpha,
            "iterations": self.iterations,
        }

    def _fit(self, titles: pd.DataFrame, members: pd.DataFrame | None) -> None:
        # implicit warns (and slows down) when OpenBLAS runs its own threads under it.
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        from implicit.cpu.als import AlternatingLeastSquares

        model = AlternatingLeastSquares(
            factors=self.factors,
            regularization=self.regularization,
            alpha=self.alpha,
            iterations=self.iterations,
            random_state=self.seed,
            num_threads=self.threads,
            calculate_training_loss=False,
        )
        self._learn(model)


class BPR(_Factors):
    """Bayesian personalized ranking, :class:`implicit.cpu.bpr.BayesianPersonalizedRanking`.

    Args:
        factors: Latent dimensions (``implicit`` adds a title bias).
        learning_rate: SGD step.
        regularization: L2 penalty of the factors.
        iterations: Passes over the watched pairs.
        threads: 1 by default: with more, the updates race and runs differ.
        seed: Seed of the factors and the sampled unwatched titles.
    """

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.01,
        regularization: float = 0.01,
        iterations: int = 100,
        threads: int = 1,
        seed: int = 0,
    ) -> None:
        if factors < 1 or iterations < 1 or learning_rate <= 0 or regularization < 0:
            raise ValueError(
                "BPR needs factors >= 1, iterations >= 1, learning_rate > 0 and "
                f"regularization >= 0; got {factors}, {iterations}, {learning_rate}, "
                f"{regularization}"
            )
        self.factors, self.iterations = int(factors), int(iterations)
        self.learning_rate, self.regularization = float(learning_rate), float(regularization)
        self.threads, self.seed = int(threads), seed

    @property
    def params(self) -> dict[str, float]:
        """The hyperparameters, as a spec writes them."""
        return {
            "factors": self.factors,
            "learning_rate": self.learning_rate,
            "regularization": self.regularization,
            "iterations": self.iterations,
        }

    def _fit(self, titles: pd.DataFrame, members: pd.DataFrame | None) -> None:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        self._learn(
            BayesianPersonalizedRanking(
                factors=self.factors,
                learning_rate=self.learning_rate,
                regularization=self.regularization,
                iterations=self.iterations,
                num_threads=self.threads,
                random_state=self.seed,
            )
        )


__all__ = ["ALS", "ALS_GRID", "BPR"]
