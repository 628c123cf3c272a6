"""XGBoost quantile model of the throughput ahead, and its plug-in for MPC.

MPC plans as if one throughput held for its whole horizon, so by default the model
predicts exactly that quantity: the harmonic mean throughput of the next
``horizon`` chunks (``horizon=1`` is the next chunk alone). It regresses the log of
it relative to the harmonic mean of the last five chunks (the classic estimate), so
the trees learn how far to trust that estimate rather than the absolute bandwidth
of the networks they were trained on. One multi-quantile booster
(``reg:quantileerror`` with a list of ``quantile_alpha``) gives every quantile at
once; a low quantile is a cautious point estimate, all of them together are equally
likely scenarios for the stochastic MPC.

Which training sessions a model happens to see moves its decisions noticeably, so
a model is a bagged ensemble (:attr:`ModelParams.bags`): each member is trained on
a bootstrap of the training traces (whole traces, so a member sees some networks
twice and others not at all) and the members' outputs (log throughput relative to
the harmonic mean, per quantile) are averaged before the quantiles are sorted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import xgboost as xgb

from reelops.abr.policies import MPC_HORIZON
from reelops.abr.simulator import PlayerState
from reelops.bitrate.features import (
    FEATURE_NAMES,
    LOG_HM_INDEX,
    UNKNOWN_CONTEXT,
    SessionContext,
    features_from_rows,
    features_from_state,
)
from reelops.bitrate.forest import Forest
from reelops.bitrate.targets import bootstrap_groups, bootstrap_weights, training_set

QUANTILES: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)
MODEL_FILE = "model.json"
METADATA_FILE = "metadata.json"
MODEL_KIND = "reelops.delivery.ThroughputModel"


@dataclass(frozen=True)
class ModelParams:
    """Training settings of a :class:`ThroughputModel`.

    Attributes:
        horizon: Chunks whose harmonic-mean throughput is the target, counting the
            one requested; MPC's horizon by default, 1 for the next chunk alone.
        rounds: Boosting rounds (each grows one tree per quantile).
        max_depth: Depth of each tree.
        eta: Learning rate.
        min_child_weight: Least hessian in a leaf; guards against fitting noise.
        subsample: Share of rows each tree sees.
        colsample_bynode: Share of features each split considers.
        reg_lambda: L2 penalty on leaf values.
        quantiles: Quantile levels to predict, increasing, in (0, 1).
        seed: Seed of the row and feature sampling, and of the bootstrap draws.
        threads: Threads for training; 0 for all cores.
        bags: Ensemble members, each trained on a bootstrap of the training traces
            (1: one model on all rows, no bootstrap).
    """

    horizon: int = MPC_HORIZON
    rounds: int = 150
    max_depth: int = 4
    eta: float = 0.05
    min_child_weight: float = 20.0
    subsample: float = 0.8
    colsample_bynode: float = 0.8
    reg_lambda: float = 1.0
    quantiles: tuple[float, ...] = field(default=QUANTILES)
    seed: int = 0
    threads: int = 0
    bags: int = 1

    def __post_init__(self) -> None:
        q = tuple(float(a) for a in self.quantiles)
        if not q or any(not 0 < a < 1 for a in q) or list(q) != sorted(set(q)):
            raise ValueError(f"quantiles must increase strictly within (0, 1), got {q}")
        if self.horizon < 1 or self.rounds < 1 or self.max_depth < 1 or self.eta <= 0:
            raise ValueError(
                f"need horizon >= 1, rounds >= 1, max_depth >= 1 and eta > 0, got "
                f"{self.horizon}, {self.rounds}, {self.max_depth}, {self.eta}"
            )
        if self.bags < 1:
            raise ValueError(f"bags must be at least 1 ensemble member, got {self.bags}")
        object.__setattr__(self, "quantiles", q)

    def booster_params(self, member: int = 0) -> dict[str, object]:
        """The XGBoost training parameters of ensemble member ``member``."""
        return {
            "objective": "reg:quantileerror",
            "quantile_alpha": list(self.quantiles),
            "tree_method": "hist",
            "max_depth": self.max_depth,
            "eta": self.eta,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "colsample_bynode": self.colsample_bynode,
            "lambda": self.reg_lambda,
            "seed": self.seed + member,
            "nthread": self.threads,
        }


class ThroughputModel:
    """Quantiles of the throughput ahead (see :attr:`ModelParams.horizon`) from request features.

    Build one with :meth:`fit` or :meth:`load`.

    Args:
        booster: The trained multi-quantile booster, or the ensemble's boosters (their
            outputs are averaged).
        params: The settings it was trained with.
        feature_names: The features it expects, in order.
        metrics: Anything measured at training time, kept in the metadata.
    """

    def __init__(
        self,
        booster: xgb.Booster | Sequence[xgb.Booster],
        params: ModelParams,
        feature_names: Sequence[str] = FEATURE_NAMES,
        metrics: dict[str, object] | None = None,
    ) -> None:
        if tuple(feature_names) != FEATURE_NAMES:
            raise ValueError(
                f"model was trained on features {list(feature_names)} but this code builds "
                f"{list(FEATURE_NAMES)}; retrain the model with the current features"
            )
        self.boosters = [booster] if isinstance(booster, xgb.Booster) else list(booster)
        if not self.boosters:
            raise ValueError("a ThroughputModel needs at least one booster")
        self.params = params
        self.feature_names = tuple(feature_names)
        self.metrics = dict(metrics or {})
        self._forest = Forest(self.boosters)

    @property
    def quantiles(self) -> tuple[float, ...]:
        return self.params.quantiles

    @classmethod
    def fit(cls, frame: pd.DataFrame, params: ModelParams | None = None) -> ThroughputModel:
        """Train on per-chunk rows in the ``fct_delivery_samples`` layout.

        With ``params.bags > 1`` each member trains on its own bootstrap of the rows'
        traces (``trace_id``, else ``session_id``), seeded ``params.seed + member``.

        Args:
            frame: The rows; see :func:`~reelops.bitrate.targets.training_set` for which are used.
            params: Training settings; the defaults if None.

        Returns:
            The trained model.
        """
        params = params if params is not None else ModelParams()
        rows, target_raw = training_set(frame, params.horizon)
        features = features_from_rows(rows).to_numpy(dtype=np.float32)
        target = np.log(target_raw) - features[:, LOG_HM_INDEX]
        groups = bootstrap_groups(rows)
        boosters = []
        for member in range(params.bags):
            weight = None if params.bags == 1 else bootstrap_weights(groups, params.seed + member)
            data = xgb.QuantileDMatrix(
                features, target, weight=weight, feature_names=list(FEATURE_NAMES)
            )
            boosters.append(
                xgb.train(params.booster_params(member), data, num_boost_round=params.rounds)
            )
        return cls(boosters, params, FEATURE_NAMES, {"training_rows": int(len(rows))})

    def predict_quantiles(self, features: np.ndarray | pd.DataFrame) -> np.ndarray:
        """Throughput quantiles in Mbit/s for rows of features.

        Args:
            features: Shape ``(n, len(FEATURE_NAMES))`` as from
                :func:`~reelops.bitrate.features.features_from_rows`, or one vector.

        Returns:
            Shape ``(n, len(quantiles))``, each row increasing (crossed quantiles,
            which separate quantile fits can produce, are sorted).

        Raises:
            ValueError: The features have the wrong width or columns.
        """
        if isinstance(features, pd.DataFrame):
            if tuple(features.columns) != self.feature_names:
                raise ValueError(
                    f"feature columns {list(features.columns)[:5]}... differ from the model's "
                    f"{list(self.feature_names)[:5]}...; build them with features_from_rows"
                )
            features = features.to_numpy()
        x = np.asarray(features, dtype=np.float32)
        if x.ndim == 1:
            x = x.reshape(1, -1)
        if x.ndim != 2 or x.shape[1] != len(self.feature_names):
            raise ValueError(
                f"expected features of shape (n, {len(self.feature_names)}), got {x.shape}"
            )
        raw = self.raw_outputs(x) + x[:, LOG_HM_INDEX, np.newaxis]
        raw.sort(axis=1)
        return np.exp(raw)

    def raw_outputs(self, x: np.ndarray) -> np.ndarray:
        """The members' mean raw outputs (log of quantile over harmonic mean), unsorted.

        Args:
            x: Float32 features, shape ``(n, len(FEATURE_NAMES))``.

        Returns:
            Shape ``(n, len(quantiles))``.
        """
        shape = (len(x), len(self.quantiles))
        outputs = [
            np.asarray(b.inplace_predict(x), dtype=np.float64).reshape(shape) for b in self.boosters
        ]
        return np.mean(outputs, axis=0)

    def predict_one(self, features: np.ndarray) -> np.ndarray:
        """Throughput quantiles, Mbit/s, for one feature vector: the decision-time path.

        Walks the trees in numpy rather than calling XGBoost (see
        :class:`~reelops.bitrate.forest.Forest`); agrees with :meth:`predict_quantiles`
        to about 1e-6 relative.

        Args:
            features: Shape ``(len(FEATURE_NAMES),)``, as from
                :func:`~reelops.bitrate.features.features_from_state`.

        Returns:
            Shape ``(len(quantiles),)``, increasing.
        """
        x = np.asarray(features, dtype=np.float32)
        if x.shape != (len(self.feature_names),):
            raise ValueError(
                f"expected one feature vector of shape ({len(self.feature_names)},), got {x.shape}"
            )
        raw = self._forest.predict_one(x) + float(x[LOG_HM_INDEX])
        raw.sort()
        return np.exp(raw)

    def predict_rows(self, frame: pd.DataFrame) -> np.ndarray:
        """Throughput quantiles, Mbit/s, for per-chunk rows in the mart's layout."""
        return self.predict_quantiles(features_from_rows(frame))

    def save(self, path: str | Path) -> Path:
        """Write the booster (XGBoost JSON) and a metadata JSON into directory ``path``.

        Args:
            path: Directory to write into; created if missing.

        Returns:
            The directory.
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for member, booster in enumerate(self.boosters):
            booster.save_model(path / _member_file(member))
        metadata = {
            "kind": MODEL_KIND,
            "members": len(self.boosters),
            "feature_names": list(self.feature_names),
            "quantiles": list(self.quantiles),
            "params": asdict(self.params),
            "metrics": self.metrics,
            "xgboost_version": xgb.__version__,
        }
        (path / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> ThroughputModel:
        """Read a model written by :meth:`save`.

        Args:
            path: The directory.

        Returns:
            The model.

        Raises:
            FileNotFoundError: The directory lacks the model or metadata file.
            ValueError: The metadata is not a ThroughputModel's, or its features are
                not the ones this code builds.
        """
        path = Path(path)
        for name in (MODEL_FILE, METADATA_FILE):
            if not (path / name).is_file():
                raise FileNotFoundError(f"{path / name}: not found; expected a saved model here")
        metadata = json.loads((path / METADATA_FILE).read_text())
        if metadata.get("kind") != MODEL_KIND:
            raise ValueError(
                f"{path / METADATA_FILE}: kind is {metadata.get('kind')!r}, expected {MODEL_KIND!r}"
            )
        stored = dict(metadata["params"])
        stored["quantiles"] = tuple(stored["quantiles"])
        boosters = []
        for member in range(int(metadata.get("members", 1))):
            if not (path / _member_file(member)).is_file():
                raise FileNotFoundError(
                    f"{path / _member_file(member)}: not found; the metadata lists "
                    f"{metadata['members']} ensemble members"
                )
            boosters.append(xgb.Booster(model_file=path / _member_file(member)))
        return cls(boosters, ModelParams(**stored), metadata["feature_names"], metadata["metrics"])


def _member_file(member: int) -> str:
    """File of ensemble member ``member``: the first is ``model.json`` as for a single model."""
    return MODEL_FILE if member == 0 else MODEL_FILE.replace(".json", f"_{member}.json")


class XGBoostPredictor:
    """A :class:`~reelops.abr.predictors.ThroughputPredictor` backed by a ThroughputModel.

    It predicts what the model was trained on: with the default horizon, the
    harmonic-mean throughput of MPC's next chunks, which MPC plans with.

    Args:
        model: The trained model.
        quantile: A quantile level of the model to predict (a cautious point estimate
            below 0.5), or ``"scenarios"`` for all quantiles as equally likely scenarios.
        context: The session's device and network history.
    """

    def __init__(
        self,
        model: ThroughputModel,
        quantile: float | Literal["scenarios"] = 0.1,
        context: SessionContext = UNKNOWN_CONTEXT,
    ) -> None:
        if quantile == "scenarios":
            self._pick: int | None = None
        else:
            matches = [i for i, q in enumerate(model.quantiles) if math.isclose(q, quantile)]
            if not matches:
                raise ValueError(
                    f"quantile must be 'scenarios' or one of the model's {model.quantiles}, "
                    f"got {quantile!r}"
                )
            self._pick = matches[0]
        self.model = model
        self.quantile = quantile
        self.context = context

    def reset(self) -> None:
        """Nothing to forget: the features are read from the state."""

    def predict(self, state: PlayerState) -> float | np.ndarray:
        """The chosen quantile of the throughput ahead, or all of them, Mbit/s."""
        quantiles = self.model.predict_one(features_from_state(state, self.context))
        return quantiles if self._pick is None else float(quantiles[self._pick])
