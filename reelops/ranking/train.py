"""The ranker's training pipeline: training set, search, train, evaluate, save a candidate.

Each step reads and writes files in one work folder under ``REELOPS_HOME/ranker/runs/``
and returns a small JSON-able dict, so the Airflow tasks pass paths, never frames.

Protocol: a temporal hold-out (``evaluation.test_share`` of the views, the newest,
after one cut-off time) is the test set; a second hold-out inside the training views
is the validation set the search is judged on. The ranker learns from label windows
(the last ``training.label_share`` of the views before a cut-off, in
``training.windows`` windows): for each window, candidates are generated from the
history before its start, features are joined as of its start, and the window's
views and impressions grade the candidates.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reelops.config import Settings
from reelops.ranking.candidates import CandidateConfig, recall_by_source
from reelops.ranking.data import RankingData, load_ranking_data
from reelops.ranking.features import (
    FeatureSet,
    add_store_features,
    assign_query_ids,
    candidate_rows,
    fit_generator,
    label_windows,
    labelled_rows,
    store_columns,
)
from reelops.ranking.ranker import RankerModel, fit_ranker
from reelops.ranking.split import TemporalSplit, temporal_split, validation_split

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
    from reelops.specs import validate_section

    return (
        validate_section(spec, "training", TrainingConfig),
        validate_section(spec, "evaluation", EvaluationConfig),
    )


def splits(data: RankingData, ev: EvaluationConfig, tr: TrainingConfig):
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


def run_dir(settings: Settings, run_id: str) -> Path:
    """The work folder of one training run."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
    return settings.home / "ranker" / "runs" / safe


def prepare(settings: Settings, spec, workdir: Path, source: str | None = None) -> dict[str, Any]:
    """Build the training and scoring sets of the search and of the final model.

    Writes ``inner_train``/``inner_eval`` (validation) and ``outer_train``/``outer_eval``
    (test) parquet files and ``prepared.json`` to ``workdir``.

    Returns:
        ``workdir``, ``source``, ``grid`` (the search points), row counts, the protocol
        and the candidate recall.
    """
    from reelops.features.store import feature_service_version, open_store

    tr, ev = configs(spec)
    started = time.perf_counter()
    data = load_ranking_data(settings, source)
    outer, inner = splits(data, ev, tr)
    workdir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, split in (("inner", inner), ("outer", outer)):
        cutoff = pd.Timestamp(split.protocol.cutoff)
        rows = training_rows(settings, data, cutoff, tr, spec.feature_service)
        rows.to_parquet(workdir / f"{name}_train.parquet", index=False)
        scoring = scoring_rows(settings, data, split, tr, spec.feature_service)
        scoring.to_parquet(workdir / f"{name}_eval.parquet", index=False)
        counts[name] = {"train_rows": len(rows), "eval_rows": len(scoring)}
    recall = recall_by_source(scoring, outer.test)
    repo = open_store(settings, data.source)
    summary = {
        "workdir": str(workdir),
        "source": data.source,
        "grid": spec.search_grid(),
        "rows": counts,
        "protocol": outer.protocol.to_dict(),
        "validation_protocol": inner.protocol.to_dict(),
        "candidate_recall": recall,
        "store_features": list(store_columns(scoring)),
        "data_interval": [str(t) for t in data.span],
        "spec": str(spec.path) if spec.path else None,
        "feature_service": spec.feature_service,
        "feature_service_version": feature_service_version(repo, spec.feature_service),
        "seconds": round(time.perf_counter() - started, 1),
    }
    (workdir / "prepared.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary


def _prepared(workdir: Path) -> dict[str, Any]:
    path = Path(workdir) / "prepared.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run the training_set step first")
    return json.loads(path.read_text())


def _evaluation_context(settings: Settings, spec, prepared: dict[str, Any]):
    tr, ev = configs(spec)
    data = load_ranking_data(settings, prepared["source"])
    outer, inner = splits(data, ev, tr)
    return tr, ev, data, outer, inner


def search_point(
    settings: Settings, spec, workdir: Path, point: dict[str, Any], index: int = 0
) -> dict[str, Any]:
    """Fit one grid point on the validation training rows; its validation metrics.

    Only the validation hold-out inside the training views is used, never the test set.
    """
    from reelops.ranking.evaluate import evaluate_rankers

    workdir = Path(workdir)
    prepared = _prepared(workdir)
    tr, ev, data, _, inner = _evaluation_context(settings, spec, prepared)
    features = FeatureSet(tuple(prepared["store_features"]))
    rows = pd.read_parquet(workdir / "inner_train.parquet")
    model = fit_ranker(rows, features, point, threads=tr.threads)
    scorer = model_scorer(model, pd.read_parquet(workdir / "inner_eval.parquet"), data, inner)
    report = evaluate_rankers(
        inner.train, inner.test, data.titles, None, {"ranker": scorer}, k=ev.k, segments=()
    )
    row = report.overall.loc["ranker"]
    return {
        "index": index,
        "params": point,
        "validation": {c: float(row[c]) for c in report.overall.columns if c != "n_members"},
        "fit_seconds": model.meta["fit_seconds"],
    }


def choose(results: list[dict[str, Any]], k: int = 10) -> dict[str, Any]:
    """The search result with the best validation NDCG@k (the first on ties)."""
    if not results:
        raise ValueError("no search results to choose from")
    metric = f"ndcg@{k}"
    return max(sorted(results, key=lambda r: r["index"]), key=lambda r: r["validation"][metric])


def model_scorer(model: RankerModel, rows: pd.DataFrame, data: RankingData, split: TemporalSplit):
    """The model's full-ranking scorer over candidate rows at the split's cut-off."""
    from reelops.ranking.baselines import InteractionMatrix
    from reelops.ranking.scoring import CandidateScorer, scored_rows

    seen = InteractionMatrix.build(split.train, data.titles)
    counts = np.asarray(seen.matrix.sum(axis=0)).ravel()
    fallback = np.log1p(counts) / (1.0 + np.log1p(counts.max()))
    return CandidateScorer(scored_rows(model, rows), seen.title_ids.to_numpy(), fallback)


def train(settings: Settings, spec, workdir: Path, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Train the model on the test split's training rows with the chosen parameters.

    Saves the model, its meta data and a reference sample of its training features to
    ``workdir/model``.
    """
    workdir = Path(workdir)
    prepared = _prepared(workdir)
    tr, ev = configs(spec)
    best = choose(results, ev.k) if results else {"params": spec.search_grid()[0], "index": 0}
    rows = pd.read_parquet(workdir / "outer_train.parquet")
    features = FeatureSet(tuple(prepared["store_features"]))
    model = fit_ranker(rows, features, best["params"], threads=tr.threads)
    model.meta.update(
        source=prepared["source"],
        feature_service=prepared["feature_service"],
        candidates=tr.candidates,
        search=results,
        chosen=best["index"],
        protocol=prepared["protocol"],
    )
    reference = rows.sample(min(tr.reference_rows, len(rows)), random_state=tr.seed)
    model.save(workdir / "model", reference=reference)
    return {
        "model_dir": str(workdir / "model"),
        "params": best["params"],
        "training_rows": len(rows),
        "fit_seconds": model.meta["fit_seconds"],
    }


def evaluate(settings: Settings, spec, workdir: Path) -> dict[str, Any]:
    """Evaluate the trained model beside the baselines on the test hold-out.

    Writes ``report.json`` and ``report.txt`` to ``workdir``.

    Returns:
        The headline metrics (ranker, best baseline, bootstrap interval).
    """
    from reelops.ranking.evidence import evaluate_models

    workdir = Path(workdir)
    prepared = _prepared(workdir)
    model = RankerModel.load(workdir / "model")
    rows = pd.read_parquet(workdir / "outer_eval.parquet")
    outcome = evaluate_models(settings, spec, {"ranker": model}, prepared["source"], rows=rows)
    report = outcome.report
    payload = {
        **report.to_dict(),
        "candidate_recall": prepared["candidate_recall"],
        "validation_protocol": prepared["validation_protocol"],
        "search": model.meta.get("search", []),
    }
    (workdir / "report.json").write_text(json.dumps(payload, indent=2, default=str))
    (workdir / "report.txt").write_text(report_text(report, prepared))
    summary = headline(report, prepared)
    (workdir / "headline.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary


def headline(report, prepared: dict[str, Any]) -> dict[str, Any]:
    """The metrics recorded with a version: the ranker's, the best baseline's, the CI."""
    k = report.k
    metric = f"ndcg@{k}"
    overall = report.overall
    baselines = [name for name in overall.index if name != "ranker"]
    best = overall.loc[baselines, metric].idxmax()
    ranker = overall.loc["ranker"]
    out = {name: float(ranker[name]) for name in overall.columns if name != "n_members"}
    comparison = next((c for c in report.comparisons if c["b"] == best), {})
    out.update(
        best_baseline=best,
        best_baseline_ndcg=float(overall.loc[best, metric]),
        ndcg_diff_ci=[comparison.get("ci_low"), comparison.get("ci_high")],
        candidate_recall=prepared["candidate_recall"]["all"],
        n_members=int(ranker["n_members"]),
    )
    return out


def report_text(report, prepared: dict[str, Any]) -> str:
    """The readable evaluation report: the table plus candidate recall."""
    recall = ", ".join(f"{k} {v:.3f}" for k, v in prepared["candidate_recall"].items())
    return f"{report.table()}\n\nCandidate recall of the held-out titles: {recall}\n"


def save_candidate(
    settings: Settings, spec, workdir: Path, approval: str | None = None
) -> dict[str, Any]:
    """Register the trained model as a *candidate* with its metrics and lineage."""
    from reelops.registry import Registry, training_lineage

    workdir = Path(workdir)
    prepared = _prepared(workdir)
    model = RankerModel.load(workdir / "model")
    metrics = json.loads((workdir / "headline.json").read_text())
    rows = pd.read_parquet(workdir / "outer_train.parquet", columns=["member_key", "title_id"])
    lineage = training_lineage(
        settings,
        source=prepared["source"],
        feature_service=prepared["feature_service"],
        feature_service_version=prepared["feature_service_version"],
        training_frame=rows,
        params=model.meta["params"],
        data_interval=tuple(prepared["data_interval"]),
        evaluation_cutoff=prepared["protocol"]["cutoff"],
        search=model.meta.get("search", []),
        candidates=model.meta.get("candidates", {}),
    )
    (workdir / "model" / "report.txt").write_text((workdir / "report.txt").read_text())
    version = Registry(settings).save(
        MODEL_NAME, workdir / "model", metrics=metrics, lineage=lineage
    )
    return {
        "model": MODEL_NAME,
        "version": version.version,
        "approval": approval or spec.approval,
        "ndcg@10": metrics.get("ndcg@10"),
        "workdir": str(workdir),
    }


def demo_summary(settings: Settings, version: str | None = None, n_members: int = 2) -> str:
    """The evaluation table beside the baselines and the top 10 of two members.

    Args:
        settings: Platform settings.
        version: Registry version of the ranker; default the production one, else the
            newest candidate.
        n_members: Members shown, each with their favourite genres (true tastes on the
            synthetic world, watched-genre mix otherwise).
    """
    from reelops.ranking.recommend import Recommender, resolve_version

    version, stage = resolve_version(settings, version)
    recommender = Recommender.load(settings, version)
    lines = [f"ranker {version} ({stage})", "", recommender.report_text().rstrip(), ""]
    keys = recommender.sample_members(n_members)
    for key, favourites, recs in recommender.explain(keys, k=10):
        lines.append(f"member {recommender.raw_id(key)} - favourite genres: {favourites}")
        for row in recs.itertuples():
            lines.append(f"  {row.rank:>2}. {row.title_id:<10} {row.genres:<34} via {row.source}")
        lines.append("")
    return "\n".join(lines)


__all__ = [
    "MODEL_NAME",
    "EvaluationConfig",
    "TrainingConfig",
    "choose",
    "configs",
    "demo_summary",
    "evaluate",
    "model_scorer",
    "prepare",
    "run_dir",
    "save_candidate",
    "scoring_rows",
    "search_point",
    "splits",
    "train",
    "training_rows",
]
