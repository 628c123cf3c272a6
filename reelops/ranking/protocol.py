"""The ranker's evaluation protocol: spec sections, temporal hold-outs, training and scoring rows.

Protocol: a temporal hold-out (``evaluation.test_share`` of the views, the newest,
after one cut-off time) is the test set; a second hold-out inside the training views
is the validation set the search is judged on. The ranker learns from label windows
(the last ``training.label_share`` of the views before a cut-off, in
``training.windows`` windows): for each window, candidates are generated from the
history before its start, features are joined as of its start, and the window's
views and impressions grade the candidates.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reelops.config import Settings
from reelops.ranking.candidates import CandidateConfig
from reelops.ranking.data import RankingData
from reelops.ranking.features import (
    add_store_features,
    assign_query_ids,
    candidate_rows,
    fit_generator,
    label_windows,
    labelled_rows,
)
from reelops.ranking.split import TemporalSplit, temporal_split, validation_split
from reelops.specs import validate_section

MODEL_NAME = "ranker"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrainingConfig(_Strict):
    """The spec's ``training`` section.

    Attributes:
        candidates: :class:`~reelops.ranking.candidates.CandidateConfig` fields.
        windows: Label windows per training set.
        label_share: Share of the views before a cut-off that the windows cover.
        negatives_per_positive: Unlabelled candidates sampled as negatives per positive.
        validation_share: Share of the training views held out for the search.
        reference_rows: Training-feature rows kept with the model for drift checks.
        threads: XGBoost threads (None = all cores).
        seed: Sampling seed.
    """

    candidates: dict[str, Any] = {}
    windows: int = Field(3, ge=1, le=20)
    label_share: float = Field(0.3, gt=0, lt=1)
    negatives_per_positive: int = Field(10, ge=1)
    validation_share: float = Field(0.2, gt=0, lt=1)
    reference_rows: int = Field(5000, ge=100)
    threads: int | None = Field(None, ge=1)
    seed: int = 0

    def candidate_config(self) -> CandidateConfig:
        """The candidate generation knobs of this section."""
        return CandidateConfig(**self.candidates)


class EvaluationConfig(_Strict):
    """The spec's ``evaluation`` section.

    Attributes:
        k: Cut-off of the top-k metrics.
        test_share: Share of the views (the newest) in the temporal hold-out.
        bootstrap: Paired-bootstrap resamples over members.
        head_share: Share of training views held by the popularity head (the rest is
            the long tail).
        prediction_sample: Hold-out (member, candidate) rows whose scores are compared
            for prediction drift.
        genre_kl_smoothing: Added to every genre share before the KL divergence.
    """

    k: int = Field(10, ge=1)
    test_share: float = Field(0.2, gt=0, lt=1)
    bootstrap: int = Field(2000, ge=100)
    head_share: float = Field(0.8, gt=0, lt=1)
    prediction_sample: int = Field(5000, ge=100)
    genre_kl_smoothing: float = Field(0.01, gt=0)


def configs(spec) -> tuple[TrainingConfig, EvaluationConfig]:
    """The spec's training and evaluation sections, validated."""
    return (
        validate_section(spec, "training", TrainingConfig),
        validate_section(spec, "evaluation", EvaluationConfig),
    )


def splits(
    data: RankingData, ev: EvaluationConfig, tr: TrainingConfig
) -> tuple[TemporalSplit, TemporalSplit]:
    """The outer (test) and inner (validation) temporal hold-outs."""
    outer = temporal_split(data.interactions, test_share=ev.test_share)
    inner = validation_split(outer.train, test_share=tr.validation_share)
    return outer, inner


def training_rows(
    settings: Settings, data: RankingData, cutoff: pd.Timestamp, tr: TrainingConfig, service: str
) -> pd.DataFrame:
    """Labelled, request-grouped rows from the label windows before ``cutoff`` (Feast PIT joins)."""
    config = tr.candidate_config()
    parts = []
    for i, (start, end) in enumerate(
        label_windows(data.interactions, cutoff, tr.windows, tr.label_share)
    ):
        generator = fit_generator(data.interactions, data.titles, data.members, start, config)
        parts.append(
            labelled_rows(
                generator,
                data.interactions,
                data.impressions,
                end,
                tr.negatives_per_positive,
                tr.seed + i,
            )
        )
    rows = pd.concat(parts, ignore_index=True)
    if rows.empty:
        return rows
    return assign_query_ids(add_store_features(settings, rows, service, source=data.source))


def scoring_rows(
    settings: Settings,
    data: RankingData,
    split: TemporalSplit,
    tr: TrainingConfig,
    service: str,
    member_keys: np.ndarray | None = None,
) -> pd.DataFrame:
    """Candidates of the hold-out's members at the cut-off, with every feature."""
    cutoff = pd.Timestamp(split.protocol.cutoff)
    generator = fit_generator(split.train, data.titles, data.members, cutoff, tr.candidate_config())
    keys = np.sort(split.test["member_key"].unique()) if member_keys is None else member_keys
    rows = candidate_rows(generator, keys)
    return add_store_features(settings, rows, service, source=data.source)


__all__ = [
    "MODEL_NAME",
    "EvaluationConfig",
    "TrainingConfig",
    "configs",
    "scoring_rows",
    "splits",
    "training_rows",
]
