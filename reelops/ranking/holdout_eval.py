"""Ranker models and the baselines on one of the spec's hold-outs, evaluated in one run.

Training (``train.evaluate``), release evidence and ``reelops ranker evaluate`` all
judge models here, so they share one hold-out, one set of baselines and one report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reelops.config import Settings
from reelops.ranking.baseline_suite import fit_baselines, tune_sources
from reelops.ranking.baselines import InteractionMatrix
from reelops.ranking.data import RankingData, load_ranking_data, member_tastes
from reelops.ranking.full_ranking import evaluate_rankers
from reelops.ranking.protocol import Split, TrainingConfig, configs, scoring_rows, splits
from reelops.ranking.ranker import RankerModel
from reelops.ranking.report import EvaluationReport
from reelops.ranking.scoring import CandidateScorer, scored_rows

BASELINE_LABELS = {"popular": "most_popular"}


@dataclass(eq=False)
class EvaluationOutcome:
    """One evaluation run: the report and what it was computed from."""

    report: EvaluationReport
    data: RankingData
    split: Split
    rows: pd.DataFrame
    models: dict[str, RankerModel]
    baselines: list[str]
    sources: dict[str, Any]


def model_scorer(model: RankerModel, rows: pd.DataFrame, data: RankingData, split: Split):
    """The model's full-ranking scorer: candidates by model score, then every other title.

    Titles outside a member's candidates rank after all of them, by popularity in the
    split's training part, so the ranking still covers every unwatched title.
    """
    seen = InteractionMatrix.build(split.train, data.titles)
    counts = np.asarray(seen.matrix.sum(axis=0)).ravel()
    fallback = np.log1p(counts) / (1.0 + np.log1p(counts.max()))
    return CandidateScorer(scored_rows(model, rows), seen.title_ids.to_numpy(), fallback)


def with_sources(tr: TrainingConfig, sources: dict[str, Any]) -> TrainingConfig:
    """``tr`` with the EASE penalty, ALS parameters and, if chosen, quotas and total."""
    candidates = {**tr.candidates, "ease_l2": sources["ease_l2"], "als": sources["als"]}
    chosen = sources.get("candidate_search")
    if chosen:
        candidates.update(total=chosen["total"], quotas=dict(chosen["quotas"]))
    return tr.model_copy(update={"candidates": candidates})


def validation_sources(data: RankingData, inner: Split, ev) -> dict[str, Any]:
    """EASE's, ALS's and BPR's parameters chosen on the validation split ``inner``,
    from the grids of the evaluation config ``ev``."""
    return tune_sources(
        inner.train,
        inner.test,
        data.titles,
        ev.ease_l2_grid,
        ev.als_grid,
        ev.k,
        bpr_grid=ev.bpr_grid,
    )


def evaluate_models(
    settings: Settings,
    spec,
    models: dict[str, RankerModel],
    source: str | None = None,
    rows: pd.DataFrame | None = None,
    holdout: str | None = None,
    sources: dict[str, Any] | None = None,
    candidates: dict[str, Any] | None = None,
) -> EvaluationOutcome:
    """Evaluate ranker models and the baselines on one of the spec's hold-outs, in one run.

    Args:
        settings: Platform settings.
        spec: The ranker's model spec.
        models: Label -> model (``ranker``; or ``candidate`` and ``champion``).
        source: Data source; the active one when None.
        rows: The hold-out members' candidate feature rows, if already built.
        holdout: ``per_member`` or ``global``; default the spec's.
        sources: EASE and ALS parameters already chosen on this hold-out's validation
            split (:func:`~reelops.ranking.baseline_suite.tune_sources`); else chosen here.
        candidates: The candidate settings the models were trained with (their
            ``meta["candidates"]``); default the spec's.

    Returns:
        The report (every label's metrics, per segment, each model's NDCG@k minus every
        baseline's as a paired bootstrap) and its inputs.
    """
    tr, ev = configs(spec)
    if candidates is not None:
        tr = tr.model_copy(update={"candidates": dict(candidates)})
    data = load_ranking_data(settings, source)
    outer, inner = splits(data, ev, tr, holdout)
    if sources is None:
        sources = validation_sources(data, inner, ev)
    tr = with_sources(tr, sources)
    if rows is None:
        rows = scoring_rows(settings, data, outer, tr, spec.feature_service)
    rankers: dict[str, Any] = {
        label: model_scorer(model, rows, data, outer) for label, model in models.items()
    }
    fitted = fit_baselines(
        outer.train,
        data.titles,
        data.members,
        l2_grid=[sources["ease_l2"]],
        als=sources["als"],
        bpr=sources.get("bpr"),
    )
    baselines = {BASELINE_LABELS.get(name, name): scorer for name, scorer in fitted.items()}
    report = evaluate_rankers(
        outer.train,
        outer.test,
        data.titles,
        data.members,
        {**rankers, **baselines},
        k=ev.k,
        segments=data.segments,
        compare=(),
        protocol=outer.protocol.to_dict(),
        n_bootstrap=ev.bootstrap,
        head_share=ev.head_share,
        member_tastes=member_tastes(settings, data.source),
    )
    report.comparisons = [
        report.compare(label, baseline, ev.bootstrap) for label in models for baseline in baselines
    ]
    return EvaluationOutcome(report, data, outer, rows, models, list(baselines), sources)


__all__ = [
    "BASELINE_LABELS",
    "EvaluationOutcome",
    "evaluate_models",
    "model_scorer",
    "with_sources",
]
