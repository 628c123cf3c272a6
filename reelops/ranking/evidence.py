"""Release evidence: candidate, champion and baselines on one temporal hold-out, for the gates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reelops.config import Settings
from reelops.quality.evidence import CANDIDATE, ReleaseEvidence, version_folders
from reelops.ranking.candidates import genre_matrix, genre_shares
from reelops.ranking.holdout_eval import EvaluationOutcome, evaluate_models
from reelops.ranking.protocol import MODEL_NAME, configs
from reelops.ranking.ranker import EVALUATED_DIR, REFERENCE_FILE, RankerModel
from reelops.ranking.report import EvaluationReport
from reelops.registry import Registry
from reelops.specs import load_spec


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
    _, ev = configs(spec)
    folders = version_folders(settings, MODEL_NAME, candidate_version, champion_version)
    models = {label: judged_model(folder) for label, folder in folders.items()}
    meta = models[CANDIDATE].meta
    outcome = evaluate_models(
        settings,
        spec,
        models,
        meta.get("source"),
        holdout=meta.get("holdout"),
        sources=meta.get("sources"),
        candidates=meta.get("candidates"),
    )
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
        holdout_features=holdout_features(outcome.rows, reference.get(CANDIDATE)),
    )


def holdout_features(rows: pd.DataFrame, reference: pd.DataFrame | None, n: int = 5000):
    """The hold-out's candidate rows in the reference sample's columns, or None.

    A first model's drift report compares its training sample with these rows.
    """
    if reference is None:
        return None
    columns = [c for c in reference.columns if c in rows.columns]
    return rows[columns].sample(min(n, len(rows)), random_state=0).reset_index(drop=True)


def judged_model(folder, holdout: str | None = None) -> RankerModel:
    """The model a version's evaluation judges: the one fitted before the hold-out.

    A refitted version keeps it in ``evaluated/`` (the served model saw the hold-out),
    and the one fitted before the other hold-out in ``evaluated_<holdout>/``.
    """
    other = folder / f"{EVALUATED_DIR}_{holdout}"
    if holdout and other.is_dir():
        return RankerModel.load(other)
    evaluated = folder / EVALUATED_DIR
    return RankerModel.load(evaluated if evaluated.is_dir() else folder)


def evaluate_version(
    settings: Settings, version: str, holdout: str | None = None
) -> EvaluationReport:
    """``reelops ranker evaluate``: one registry version's judged model beside the baselines.

    Args:
        settings: Platform settings.
        version: Registry version.
        holdout: ``per_member`` or ``global``; default the one the version was judged
            on. Each hold-out is judged with the model fitted before it.
    """
    folder = Registry(settings).files(MODEL_NAME, version)
    model = judged_model(folder, holdout)
    judged_on = model.meta.get("holdout")
    fitted_for = (model.meta.get("fitted_on") or "").removesuffix(" hold-out")
    if holdout and fitted_for and holdout != fitted_for:
        # Judging a model on a hold-out it was not fitted before would leak its views.
        raise ValueError(
            f"ranker {version} has no model fitted before the {holdout} hold-out (its "
            f"judged model was fitted before the {fitted_for} one); retrain it with "
            "`reelops ranker train` to evaluate it there"
        )
    outcome = evaluate_models(
        settings,
        load_spec(MODEL_NAME),
        {"ranker": model},
        model.meta.get("source"),
        holdout=holdout or fitted_for or judged_on,
        sources=model.meta.get("sources"),
        candidates=model.meta.get("candidates"),
    )
    return outcome.report


__all__ = [
    "evaluate_release",
    "evaluate_version",
    "genre_kl",
    "per_unit_frame",
    "prediction_sample",
]
