"""Ranker models and the baselines on the spec's temporal hold-out, evaluated in one run.

Training (``train.evaluate``), release evidence and ``reelops ranker evaluate`` all
judge models here, so they share one hold-out, one set of baselines and one report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reelops.config import Settings
from reelops.ranking.baseline_suite import fit_baselines
from reelops.ranking.baselines import InteractionMatrix
from reelops.ranking.data import RankingData, load_ranking_data, member_tastes
from reelops.ranking.full_ranking import evaluate_rankers
from reelops.ranking.protocol import configs, scoring_rows, splits
from reelops.ranking.ranker import RankerModel
from reelops.ranking.report import EvaluationReport
from reelops.ranking.scoring import CandidateScorer, scored_rows
from reelops.ranking.split import TemporalSplit

BASELINE_LABELS = {"popular": "most_popular"}


@dataclass(eq=False)
class EvaluationOutcome:
    """One evaluation run: the report and what it was computed from."""

    report: EvaluationReport
    data: RankingData
    split: TemporalSplit
    rows: pd.DataFrame
    models: dict[str, RankerModel]
    baselines: list[str]


def model_scorer(
    model: RankerModel, rows: pd.DataFrame, data: RankingData, split: TemporalSplit
) -> CandidateScorer:
    """The model's full-ranking scorer over candidate rows at the split's cut-off."""
    seen = InteractionMatrix.build(split.train, data.titles)
    counts = np.asarray(seen.matrix.sum(axis=0)).ravel()
    fallback = np.log1p(counts) / (1.0 + np.log1p(counts.max()))
    return CandidateScorer(scored_rows(model, rows), seen.title_ids.to_numpy(), fallback)


def evaluate_models(
    settings: Settings,
    spec,
    models: dict[str, RankerModel],
    source: str | None = None,
    rows: pd.DataFrame | None = None,
) -> EvaluationOutcome:
    """Evaluate ranker models and the baselines on the spec's temporal hold-out, in one run.

    Args:
        settings: Platform settings.
        spec: The ranker's model spec.
        models: Label -> model (``ranker``; or ``candidate`` and ``champion``).
        source: Data source; the active one when None.
        rows: The hold-out members' candidate feature rows, if already built.

    Returns:
        The report (every label's metrics, per segment, each model's NDCG@k minus the
        best baseline's as a paired bootstrap) and its inputs.
    """
    tr, ev = configs(spec)
    data = load_ranking_data(settings, source)
    outer, _ = splits(data, ev, tr)
    if rows is None:
        rows = scoring_rows(settings, data, outer, tr, spec.feature_service)
    rankers: dict[str, Any] = {
        label: model_scorer(model, rows, data, outer) for label, model in models.items()
    }
    baselines = {
        BASELINE_LABELS.get(name, name): scorer
        for name, scorer in fit_baselines(outer.train, data.titles, data.members).items()
    }
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
    metric = f"ndcg@{ev.k}"
    best = report.overall.loc[list(baselines), metric].idxmax()
    report.comparisons = [report.compare(label, best, ev.bootstrap) for label in models]
    return EvaluationOutcome(report, data, outer, rows, models, list(baselines))


__all__ = ["BASELINE_LABELS", "EvaluationOutcome", "evaluate_models", "model_scorer"]
