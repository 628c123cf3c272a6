"""Release evaluation: candidate, champion and baselines on one temporal hold-out, as evidence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reelops.config import Settings
from reelops.ranking.candidates import genre_matrix, genre_shares
from reelops.ranking.data import RankingData, load_ranking_data
from reelops.ranking.evaluate import EvaluationReport, evaluate_rankers, fit_baselines
from reelops.ranking.ranker import REFERENCE_FILE, RankerModel
from reelops.ranking.split import TemporalSplit
from reelops.ranking.train import MODEL_NAME, configs, model_scorer, scoring_rows, splits

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


def member_tastes(settings: Settings, source: str) -> pd.DataFrame | None:
    """The synthetic world's true tastes keyed by member_key, or None when unknown."""
    from reelops.privacy import load_key, pseudonymize
    from reelops.sources import read_truth

    try:
        truth = read_truth(settings, source, "member_tastes")
    except (FileNotFoundError, OSError):
        return None
    keys = pseudonymize(truth["member_id"].astype(str).unique().tolist(), load_key(settings))
    out = truth.assign(member_key=truth["member_id"].astype(str).map(keys))
    return out[["member_key", "genre", "weight"]]


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


def genre_kl(
    recommendations: pd.DataFrame,
    train: pd.DataFrame,
    titles: pd.DataFrame,
    smoothing: float = 0.01,
) -> pd.Series:
    """Per member, KL(watched genre mix || recommended genre mix), Steck's calibration.

    The watched mix splits each title watched in train evenly over its genres; the
    recommended mix does the same over the top k. The recommended mix is smoothed
    as ``(1 - a) q + a p`` (``a = smoothing``) so the divergence stays finite.

    Returns:
        KL in nats per ``member_key`` of ``recommendations`` (0 = perfectly calibrated).
    """
    genres, _ = genre_matrix(titles)
    shares = pd.DataFrame(genre_shares(genres), index=titles["title_id"].to_numpy())

    def mix(frame: pd.DataFrame) -> pd.DataFrame:
        pairs = frame[["member_key", "title_id"]].drop_duplicates()
        values = shares.reindex(pairs["title_id"]).fillna(0.0)
        summed = values.groupby(pairs["member_key"].to_numpy()).sum()
        return summed.div(summed.sum(axis=1).replace(0.0, 1.0), axis=0)

    q = mix(recommendations)
    p = mix(train).reindex(q.index).fillna(0.0)
    q_smooth = (1.0 - smoothing) * q.to_numpy() + smoothing * p.to_numpy()
    p_values = p.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p_values > 0, p_values * np.log(p_values / q_smooth), 0.0)
    return pd.Series(terms.sum(axis=1), index=q.index, name="genre_kl")


def per_unit_frame(outcome: EvaluationOutcome, labels: list[str], smoothing: float) -> pd.DataFrame:
    """One row per (label, member): metrics, ``genre_kl`` and the member's segments."""
    report = outcome.report
    frames = []
    for label in labels:
        rows = report.per_member[report.per_member["ranker"] == label].drop(columns="ranker")
        kl = genre_kl(
            report.recommendations[label], outcome.split.train, outcome.data.titles, smoothing
        )
        rows = rows.assign(label=label, unit=rows["member_key"].to_numpy())
        rows["genre_kl"] = kl.reindex(rows["member_key"]).to_numpy()
        frames.append(rows)
    per_unit = pd.concat(frames, ignore_index=True)
    segments = [c for c in ("country", "age_band", "gender") if c in outcome.data.members.columns]
    members = outcome.data.members[["member_key", *segments]]
    per_unit = per_unit.merge(members, on="member_key", how="left").drop(columns="member_key")
    first = ["label", "unit"]
    return per_unit[first + [c for c in per_unit.columns if c not in first]]


def prediction_sample(outcome: EvaluationOutcome, n: int, seed: int = 0) -> dict[str, pd.Series]:
    """Each model's scores on the same seeded sample of hold-out (member, candidate) rows."""
    sample = outcome.rows.sample(min(n, len(outcome.rows)), random_state=seed)
    return {
        label: pd.Series(model.score(sample), index=sample.index, name=label)
        for label, model in outcome.models.items()
    }


def evaluate_release(
    settings: Settings, spec, candidate_version: str, champion_version: str | None = None
):
    """Evaluate a candidate ranker (and the champion) beside the baselines for the gates.

    Args:
        settings: Platform settings.
        spec: The ranker's spec (``models/ranker.yaml``).
        candidate_version: Registry version of the candidate.
        champion_version: Registry version in production, or None.

    Returns:
        :class:`~reelops.quality.evidence.ReleaseEvidence` with ``candidate``,
        ``champion`` and the baselines (``most_popular``, ``popular_recent``,
        ``popular_country``, ``item_knn``, ``ease``) on one temporal hold-out.
    """
    from reelops.quality.evidence import CANDIDATE, ReleaseEvidence, version_folders

    _, ev = configs(spec)
    folders = version_folders(settings, MODEL_NAME, candidate_version, champion_version)
    models = {label: RankerModel.load(folder) for label, folder in folders.items()}
    source = models[CANDIDATE].meta.get("source")
    outcome = evaluate_models(settings, spec, models, source)
    report = outcome.report
    labels = [*models, *outcome.baselines]
    overall = report.overall.drop(columns="n_members")
    per_unit = per_unit_frame(outcome, labels, ev.genre_kl_smoothing)
    overall["genre_kl"] = per_unit.groupby("label")["genre_kl"].mean().reindex(overall.index)
    reference = {
        label: pd.read_parquet(folder / REFERENCE_FILE)
        for label, folder in folders.items()
        if (folder / REFERENCE_FILE).is_file()
    }
    return ReleaseEvidence(
        model=MODEL_NAME,
        candidate_version=candidate_version,
        champion_version=champion_version,
        metric=f"ndcg@{ev.k}",
        higher_is_better=True,
        baselines=outcome.baselines,
        overall=overall,
        per_unit=per_unit,
        reference_features=reference,
        predictions=prediction_sample(outcome, ev.prediction_sample),
        protocol=report.protocol or {},
        extra={"comparisons": report.comparisons, "table": report.table()},
    )


__all__ = [
    "BASELINE_LABELS",
    "EvaluationOutcome",
    "evaluate_models",
    "evaluate_release",
    "genre_kl",
    "member_tastes",
    "per_unit_frame",
    "prediction_sample",
]


def evaluate_version(settings: Settings, version: str) -> EvaluationReport:
    """``reelops ranker evaluate``: one registry version beside the baselines."""
    from reelops.registry import Registry
    from reelops.specs import load_spec

    folder = Registry(settings).files(MODEL_NAME, version)
    model = RankerModel.load(folder)
    outcome = evaluate_models(
        settings, load_spec(MODEL_NAME), {"ranker": model}, model.meta.get("source")
    )
    return outcome.report
