"""The ranker's training pipeline: training set, search, train, evaluate, save a candidate.

Each step reads and writes files in one work folder under ``REELOPS_HOME/ranker/runs/``
and returns a small JSON-able dict, so the Airflow tasks pass paths, never frames.
The protocol the steps follow (hold-outs, label windows, spec sections) lives in
:mod:`reelops.ranking.protocol`; models are judged by :mod:`reelops.ranking.holdout_eval`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

from reelops.config import Settings
from reelops.features.store import open_store
from reelops.features.versions import feature_service_version
from reelops.ranking.candidate_index import CandidateIndex
from reelops.ranking.candidates import CandidateConfig, recall_by_source
from reelops.ranking.data import load_ranking_data
from reelops.ranking.features import FeatureSet, store_columns
from reelops.ranking.full_ranking import evaluate_rankers
from reelops.ranking.holdout_eval import evaluate_models, model_scorer
from reelops.ranking.protocol import (
    MODEL_NAME,
    configs,
    scoring_rows,
    splits,
    training_rows,
)
from reelops.ranking.ranker import RankerModel, fit_ranker
from reelops.ranking.recommend import RankerRuntime, resolve_version
from reelops.registry import Registry, training_lineage


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


def read_prepared(workdir: Path) -> dict[str, Any]:
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
    workdir = Path(workdir)
    prepared = read_prepared(workdir)
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


def train(settings: Settings, spec, workdir: Path, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Train the model on the test split's training rows with the chosen parameters.

    Saves the model, its meta data and a reference sample of its training features to
    ``workdir/model``.
    """
    workdir = Path(workdir)
    prepared = read_prepared(workdir)
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
    workdir = Path(workdir)
    prepared = read_prepared(workdir)
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
    """Register the trained model as a *candidate* with its metrics, lineage and serving index.

    The model folder gets the :class:`~reelops.ranking.candidate_index.CandidateIndex`
    fitted on the whole history (not the evaluation cut-off), so a service answers
    from the registry folder alone.
    """
    workdir = Path(workdir)
    prepared = read_prepared(workdir)
    model = RankerModel.load(workdir / "model")
    data = load_ranking_data(settings, prepared["source"])
    config = CandidateConfig(**model.meta.get("candidates", {}))
    CandidateIndex.build(data, config).save(workdir / "model")
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
    version, stage = resolve_version(settings, version)
    recommender = RankerRuntime.load(settings, version)
    lines = [f"ranker {version} ({stage})", "", recommender.report_text().rstrip(), ""]
    keys = recommender.sample_members(n_members)
    for key, favourites, recs in recommender.explain(keys, k=10):
        lines.append(f"member {recommender.raw_id(key)} - favourite genres: {favourites}")
        for row in recs.itertuples():
            lines.append(f"  {row.rank:>2}. {row.title_id:<10} {row.genres:<34} via {row.source}")
        lines.append("")
    return "\n".join(lines)


__all__ = [
    "choose",
    "demo_summary",
    "evaluate",
    "prepare",
    "read_prepared",
    "run_dir",
    "save_candidate",
    "search_point",
    "train",
]
