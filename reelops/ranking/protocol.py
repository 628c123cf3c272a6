"""The ranker's evaluation protocol: spec sections, hold-outs, training and scoring rows.

Two hold-outs (``evaluation.holdout`` names the one the model is judged on):

* ``per_member``: each member's last ``evaluation.holdout_views`` new titles
  (:mod:`reelops.ranking.member_split`); validation is the same split inside the training
  part, and the ranker learns from ``training.windows`` label windows made the same
  way one step further back each (window 1 = the last views of the training part,
  candidates and features from everything before them, per member).
* ``global``: a temporal hold-out (``evaluation.test_share`` of the views, the newest,
after one cut-off time) is the test set; a second hold-out inside the training views
is the validation set the search is judged on. The ranker learns from label windows
(the last ``training.label_share`` of the views before a cut-off, in
``training.windows`` windows): for each window, candidates are generated from the
history before its start, features are joined as of its start, and the window's
views and impressions grade the candidates.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reelops.config import Settings
from reelops.ranking.candidates import CandidateConfig
from reelops.ranking.data import RankingData
from reelops.ranking.features import (
    LABEL,
    add_store_features,
    assign_query_ids,
    candidate_rows,
    fit_generator,
    label_windows,
    labelled_rows,
    sampled_rows,
)
from reelops.ranking.member_split import MemberSplit, member_holdout
from reelops.ranking.quota_search import CandidateSearchConfig
from reelops.ranking.split import TemporalSplit, temporal_split, validation_split
from reelops.specs import validate_section

MODEL_NAME = "ranker"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrainingConfig(_Strict):
    """The spec's ``training`` section.

    Attributes:
        candidates: :class:`~reelops.ranking.candidates.CandidateConfig` fields.
        candidate_search: How the quotas and total are chosen on validation
            (:mod:`reelops.ranking.quota_search`); no totals keeps ``candidates``' own.
        windows: Label windows per training set.
        label_share: Share of the views before a cut-off that the windows cover.
        negatives_per_positive: Unlabelled candidates sampled as negatives per positive.
        validation_share: Share of the training views held out for the search.
        reference_rows: Training-feature rows kept with the model for drift checks.
        threads: XGBoost threads (None = all cores).
        seed: Sampling seed.
    """

    candidates: dict[str, Any] = {}
    candidate_search: CandidateSearchConfig = CandidateSearchConfig()
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
        holdout: The hold-out the model is judged on: ``per_member`` or ``global``
            (the other one is reported beside it).
        holdout_views: New titles held out per member (``per_member``).
        min_history: Titles a member needs before them to be evaluated.
        ease_l2_grid: EASE penalties tried on validation (baseline and source).
        als_grid: ALS parameter lists tried on validation (baseline and source).
        bpr_grid: BPR parameter lists tried on validation (a baseline); empty: no BPR.
    """

    k: int = Field(10, ge=1)
    test_share: float = Field(0.2, gt=0, lt=1)
    bootstrap: int = Field(2000, ge=100)
    head_share: float = Field(0.8, gt=0, lt=1)
    prediction_sample: int = Field(5000, ge=100)
    genre_kl_smoothing: float = Field(0.01, gt=0)
    holdout: Literal["per_member", "global"] = "global"
    holdout_views: int = Field(10, ge=1)
    min_history: int = Field(5, ge=1)
    ease_l2_grid: list[float] = [50.0, 100.0, 200.0, 500.0, 1000.0]
    als_grid: dict[str, list[float]] = {
        "factors": [32, 64],
        "regularization": [0.1, 1.0],
        "alpha": [1.0, 10.0],
        "iterations": [15],
    }
    bpr_grid: dict[str, list[float]] = {}


def configs(spec) -> tuple[TrainingConfig, EvaluationConfig]:
    """The spec's training and evaluation sections, validated."""
    return (
        validate_section(spec, "training", TrainingConfig),
        validate_section(spec, "evaluation", EvaluationConfig),
    )


Split = TemporalSplit | MemberSplit


def splits(
    data: RankingData, ev: EvaluationConfig, tr: TrainingConfig, holdout: str | None = None
) -> tuple[Split, Split]:
    """The outer (test) and inner (validation) hold-outs of ``holdout`` (default the spec's)."""
    if (holdout or ev.holdout) == "per_member":
        outer = member_split(data.interactions, ev)
        return outer, member_split(outer.train, ev)
    outer = temporal_split(data.interactions, test_share=ev.test_share)
    inner = validation_split(outer.train, test_share=tr.validation_share)
    return outer, inner


def member_split(interactions: pd.DataFrame, ev: EvaluationConfig) -> MemberSplit:
    """The spec's per-member hold-out of ``interactions``."""
    return member_holdout(interactions, n_views=ev.holdout_views, min_history=ev.min_history)


def history_generator(data: RankingData, history: pd.DataFrame, tr: TrainingConfig):
    """Candidate sources fitted on all of ``history`` (request time just after its end)."""
    as_of = pd.Timestamp(history["ts"].max()) + pd.Timedelta(seconds=1)
    return fit_generator(history, data.titles, data.members, as_of, tr.candidate_config())


def member_training_rows(
    settings: Settings,
    data: RankingData,
    base: pd.DataFrame,
    tr: TrainingConfig,
    ev: EvaluationConfig,
    service: str,
) -> pd.DataFrame:
    """Labelled rows from ``tr.windows`` per-member windows inside ``base``, no leakage.

    Window 1 holds out each member's last views of ``base`` (as the evaluation does);
    window 2 the ones before those, and so on. Each window's candidates and features
    come from the views before it only, its request time per member is the first
    held-out view's.
    """
    parts, history = [], base
    for i in range(tr.windows):
        try:
            window = member_split(history, ev)
        except ValueError:
            break  # no member has enough history left for another window
        generator = history_generator(data, window.train, tr)
        labels = window.test.assign(**{LABEL: np.where(window.test["completion"] >= 0.9, 2, 1)})
        parts.append(
            sampled_rows(
                generator,
                labels[["member_key", "title_id", LABEL]],
                window.cutoffs,
                tr.negatives_per_positive,
                tr.seed + i,
            )
        )
        history = window.train
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if rows.empty:
        return rows
    return assign_query_ids(add_store_features(settings, rows, service, source=data.source))


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
    split: Split,
    tr: TrainingConfig,
    service: str,
    member_keys: np.ndarray | None = None,
) -> pd.DataFrame:
    """Candidates of the hold-out's members at their cut-off, with every feature."""
    keys = np.sort(split.test["member_key"].unique()) if member_keys is None else member_keys
    generator = split_generator(data, split, tr)
    cutoffs = split.cutoffs if isinstance(split, MemberSplit) else None
    rows = candidate_rows(generator, keys, cutoffs)
    return add_store_features(settings, rows, service, source=data.source)


def split_generator(data: RankingData, split: Split, tr: TrainingConfig):
    """Candidate sources fitted on a hold-out's training part, as its members are served."""
    if isinstance(split, MemberSplit):
        return history_generator(data, split.train, tr)
    cutoff = pd.Timestamp(split.protocol.cutoff)
    return fit_generator(split.train, data.titles, data.members, cutoff, tr.candidate_config())


__all__ = [
    "MODEL_NAME",
    "Split",
    "EvaluationConfig",
    "TrainingConfig",
    "configs",
    "history_generator",
    "member_split",
    "member_training_rows",
    "scoring_rows",
    "split_generator",
    "splits",
    "training_rows",
]
