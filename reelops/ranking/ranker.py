"""The XGBoost learning-to-rank model: fit on request-grouped rows, save, load, score."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reelops.ranking.features import LABEL, QUERY_ID, FeatureSet

MODEL_FILE = "model.json"
META_FILE = "meta.json"
REFERENCE_FILE = "reference_features.parquet"
EVALUATED_DIR = "evaluated"  # the judged model beside a refitted one in a version folder
OBJECTIVES = ("rank:ndcg", "rank:pairwise", "rank:map")
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "rank:ndcg",
    "eta": 0.1,
    "max_depth": 6,
    "min_child_weight": 1.0,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "num_boost_round": 200,
}


class RankerError(ValueError):
    """The ranker cannot be trained, loaded or used as asked; the message says why."""


def check_grouped(qid: np.ndarray) -> None:
    """Raise unless query ids are non-decreasing (each request's rows contiguous).

    Raises:
        RankerError: naming the first row out of order.
    """
    qid = np.asarray(qid)
    bad = np.flatnonzero(np.diff(qid) < 0)
    if len(bad):
        raise RankerError(
            f"rows must be sorted by {QUERY_ID} (XGBoost ranking needs each request's rows "
            f"together); row {bad[0] + 1} has {QUERY_ID} {qid[bad[0] + 1]} after {qid[bad[0]]}. "
            "Use reelops.ranking.features.assign_query_ids"
        )


def booster_params(params: dict[str, Any], threads: int | None = None) -> tuple[dict, int]:
    """XGBoost parameters and the number of rounds from a spec's ``params``.

    Raises:
        RankerError: an unknown ranking objective or a bad number of rounds.
    """
    merged = {**DEFAULT_PARAMS, **params}
    rounds = merged.pop("num_boost_round")
    if not isinstance(rounds, int) or rounds < 1:
        raise RankerError(f"num_boost_round must be a whole number >= 1, got {rounds!r}")
    if merged["objective"] not in OBJECTIVES:
        raise RankerError(f"objective must be one of {OBJECTIVES}, got {merged['objective']!r}")
    merged.setdefault("eval_metric", "ndcg@10")
    merged.setdefault("tree_method", "hist")
    merged.setdefault("seed", 0)
    if threads:
        merged["nthread"] = threads
    return merged, rounds


@dataclass(eq=False)
class RankerModel:
    """A trained ranker: the booster, its input columns and what it was trained with.

    Attributes:
        booster: The XGBoost booster.
        features: Input columns, in order.
        meta: Parameters, candidate settings, training statistics.
    """

    booster: Any
    features: FeatureSet
    meta: dict[str, Any] = field(default_factory=dict)

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """Scores of feature rows (higher ranks first), one float per row."""
        if frame.empty:
            return np.zeros(0)
        return self.score_matrix(self.features.matrix(frame))

    def score_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """Scores of an already built float32 matrix in :attr:`features` column order."""
        if matrix.shape[1] != len(self.features.columns):
            raise RankerError(
                f"the model reads {len(self.features.columns)} features, got {matrix.shape[1]}"
            )
        return np.asarray(self.booster.inplace_predict(matrix), dtype=np.float64)

    def save(self, folder: Path, reference: pd.DataFrame | None = None) -> Path:
        """Write ``model.json``, ``meta.json`` (and the reference feature sample) to ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(folder / MODEL_FILE))
        meta = {
            **self.meta,
            "store_features": list(self.features.store),
            "cross_features": list(self.features.cross),
        }
        (folder / META_FILE).write_text(json.dumps(meta, indent=2, default=str))
        if reference is not None:
            reference[self.features.columns].to_parquet(folder / REFERENCE_FILE, index=False)
        return folder

    @classmethod
    def load(cls, folder: Path) -> RankerModel:
        """Read a model saved by :meth:`save`.

        Raises:
            RankerError: the folder lacks ``model.json`` or ``meta.json``.
        """
        import xgboost as xgb

        folder = Path(folder)
        for name in (MODEL_FILE, META_FILE):
            if not (folder / name).is_file():
                raise RankerError(f"{folder} has no {name}: not a saved ranker")
        booster = xgb.Booster()
        booster.load_model(str(folder / MODEL_FILE))
        meta = json.loads((folder / META_FILE).read_text())
        features = FeatureSet(tuple(meta["store_features"]), tuple(meta["cross_features"]))
        booster.set_param({"nthread": 1})
        return cls(booster, features, meta)


def fit_ranker(
    rows: pd.DataFrame,
    features: FeatureSet,
    params: dict[str, Any],
    *,
    threads: int | None = None,
) -> RankerModel:
    """Train an XGBoost ranker on request-grouped, graded rows.

    Args:
        rows: Sorted by ``qid`` (see :func:`~reelops.ranking.features.assign_query_ids`),
            with ``label`` (0/1/2) and the feature columns.
        features: Input columns.
        params: Spec parameters (``objective``, ``eta``, ``max_depth``...,
            ``num_boost_round``).
        threads: XGBoost threads (default all cores).

    Returns:
        The model; ``meta`` records the parameters, rows, requests and seconds.

    Raises:
        RankerError: no rows, rows not grouped, or bad parameters.
    """
    import xgboost as xgb

    if rows.empty:
        raise RankerError("no training rows: no member played a candidate title in any window")
    qid = rows[QUERY_ID].to_numpy()
    check_grouped(qid)
    xgb_params, rounds = booster_params(params, threads)
    # QuantileDMatrix bins the features straight for the hist method (no float copy kept).
    matrix = xgb.QuantileDMatrix(
        features.matrix(rows),
        label=rows[LABEL].to_numpy(dtype=np.float32),
        qid=qid,
        feature_names=features.columns,
    )
    started = time.perf_counter()
    booster = xgb.train(xgb_params, matrix, num_boost_round=rounds)
    meta = {
        "params": {**xgb_params, "num_boost_round": rounds},
        "training_rows": len(rows),
        "training_requests": int(rows[QUERY_ID].nunique()),
        "label_counts": {str(k): int(v) for k, v in rows[LABEL].value_counts().items()},
        "fit_seconds": round(time.perf_counter() - started, 3),
    }
    return RankerModel(booster, features, meta)


__all__ = [
    "DEFAULT_PARAMS",
    "EVALUATED_DIR",
    "META_FILE",
    "MODEL_FILE",
    "REFERENCE_FILE",
    "RankerError",
    "RankerModel",
    "booster_params",
    "check_grouped",
    "fit_ranker",
]
