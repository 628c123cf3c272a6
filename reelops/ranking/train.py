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
from reelops.ranking.candidates import CandidateConfig
from reelops.ranking.data import load_ranking_data
from reelops.ranking.features import FeatureSet, store_columns
from reelops.ranking.full_ranking import evaluate_rankers
from reelops.ranking.holdout_eval import evaluate_models, model_scorer, with_sources
from reelops.ranking.holdout_sets import holdout_order, holdout_rows
from reelops.ranking.protocol import (
    MODEL_NAME,
    configs,
    splits,
)
from reelops.ranking.ranker import EVALUATED_DIR, RankerModel, fit_ranker
from reelops.ranking.recommend import RankerRuntime, resolve_version
from reelops.registry import Registry, training_lineage


def run_dir(settings: Settings, run_id: str) -> Path:
    """The work folder of one training run."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
    return settings.home / "ranker" / "runs" / safe


def prepare(settings: Settings, spec, workdir: Path, source: str | None = None) -> dict[str, Any]:
    """Build the training and scoring sets of the search, the judged model and the refit.

    For each hold-out (the spec's, then the other one): EASE and ALS are tuned on its
    validation split, then ``<holdout>/{inner,outer,refit}_train`` and
    ``<holdout>/{inner,outer}_eval`` parquet files are written; ``prepared.json`` records
    the hold-outs, the sources chosen and the candidate recall of every source.

    Returns:
        ``workdir``, ``source``, ``grid`` (the search points), row counts, the protocols
        and the candidate recall.
    """
    tr, ev = configs(spec)
    started = time.perf_counter()
    data = load_ranking_data(settings, source)
    workdir.mkdir(parents=True, exist_ok=True)
    holdouts: dict[str, Any] = {}
    store: tuple[str, ...] = ()
    for holdout in holdout_order(ev):
        try:
            built = holdout_rows(settings, spec, data, holdout, tr, ev)
        except ValueError as error:
            if holdout == ev.holdout:
                raise
            holdouts[holdout] = {"skipped": str(error)}
            continue
        (workdir / holdout).mkdir(exist_ok=True)
        for name, frame in built.pop("frames").items():
            frame.to_parquet(workdir / holdout / f"{name}.parquet", index=False)
            built.setdefault("rows", {})[name] = len(frame)
            if name == "outer_eval":
                store = store or store_columns(frame)
        holdouts[holdout] = built
    judged = holdouts[ev.holdout]
    repo = open_store(settings, data.source)
    summary = {
        "workdir": str(workdir),
        "source": data.source,
        "holdout": ev.holdout,
        "grid": spec.search_grid(),
        "holdouts": holdouts,
        "rows": judged["rows"],
        "protocol": judged["protocol"],
        "validation_protocol": judged["validation_protocol"],
        "candidate_recall": judged["candidate_recall"],
        "sources": judged["sources"],
        "store_features": list(store),
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
    outer, inner = splits(data, ev, tr, prepared["holdout"])
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
    folder = workdir / prepared["holdout"]
    rows = pd.read_parquet(folder / "inner_train.parquet")
    model = fit_ranker(rows, features, point, threads=tr.threads)
    scorer = model_scorer(model, pd.read_parquet(folder / "inner_eval.parquet"), data, inner)
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
    """Train the judged models and the refit with the parameters chosen on validation.

    ``workdir/evaluated/<holdout>``: fitted on the rows before each hold-out (the models
    the evaluation judges); ``workdir/model``: refitted on every view up to the data
    interval's end (the one saved and served), with the judged model of the spec's
    hold-out copied into ``model/evaluated``.
    """
    workdir = Path(workdir)
    prepared = read_prepared(workdir)
    tr, ev = configs(spec)
    best = choose(results, ev.k) if results else {"params": spec.search_grid()[0], "index": 0}
    features = FeatureSet(tuple(prepared["store_features"]))
    out: dict[str, Any] = {"params": best["params"]}
    for holdout, built in prepared["holdouts"].items():
        if "skipped" in built:
            continue
        rows = pd.read_parquet(workdir / holdout / "outer_train.parquet")
        model = fit_ranker(rows, features, best["params"], threads=tr.threads)
        _describe(model, prepared, tr, built, results, best, fitted_on=f"{holdout} hold-out")
        model.save(workdir / "evaluated" / holdout)
        out[f"{holdout}_training_rows"] = len(rows)
    rows = pd.read_parquet(workdir / prepared["holdout"] / "refit_train.parquet")
    refit = fit_ranker(rows, features, best["params"], threads=tr.threads)
    _describe(refit, prepared, tr, prepared, results, best, fitted_on="all views (refit)")
    reference = rows.sample(min(tr.reference_rows, len(rows)), random_state=tr.seed)
    refit.save(workdir / "model", reference=reference)
    for holdout in out_holdouts(prepared):
        model = RankerModel.load(workdir / "evaluated" / holdout)
        target = EVALUATED_DIR if holdout == prepared["holdout"] else f"{EVALUATED_DIR}_{holdout}"
        model.save(workdir / "model" / target, reference=reference)
    return {
        **out,
        "model_dir": str(workdir / "model"),
        "training_rows": len(rows),
        "fit_seconds": refit.meta["fit_seconds"],
    }


def out_holdouts(prepared: dict[str, Any]) -> list[str]:
    """The hold-outs a judged model was fitted for (a skipped one has none)."""
    return [h for h, built in prepared["holdouts"].items() if "skipped" not in built]


def _describe(model, prepared, tr, built, results, best, fitted_on: str) -> None:
    model.meta.update(
        source=prepared["source"],
        feature_service=prepared["feature_service"],
        candidates=with_sources(tr, built["sources"]).candidates,
        sources=built["sources"],
        holdout=prepared["holdout"],
        fitted_on=fitted_on,
        search=results,
        chosen=best["index"],
        protocol=built["protocol"],
    )


def evaluate(settings: Settings, spec, workdir: Path) -> dict[str, Any]:
    """Evaluate the judged models beside the baselines on both hold-outs.

    Writes ``report.json`` and ``report.txt`` to ``workdir``.

    Returns:
        The headline metrics of the spec's hold-out (ranker, best baseline, CIs), and
        the other hold-out's under ``other``.
    """
    workdir = Path(workdir)
    prepared = read_prepared(workdir)
    payload: dict[str, Any] = {"validation_protocol": prepared["validation_protocol"]}
    texts, summary = [], {}
    for holdout, built in prepared["holdouts"].items():
        if "skipped" in built:
            texts.append(f"[{holdout} hold-out] skipped: {built['skipped']}")
            continue
        model = RankerModel.load(workdir / "evaluated" / holdout)
        rows = pd.read_parquet(workdir / holdout / "outer_eval.parquet")
        outcome = evaluate_models(
            settings, spec, {"ranker": model}, prepared["source"], rows, holdout, built["sources"]
        )
        report = outcome.report
        payload[holdout] = {
            **report.to_dict(),
            "candidate_recall": built["candidate_recall"],
            "sources": built["sources"],
        }
        texts.append(f"[{holdout} hold-out]\n" + report_text(report, built))
        line = headline(report, built)
        if holdout == prepared["holdout"]:
            summary.update(line)
        else:
            summary["other"] = {"holdout": holdout, **line}
    payload["search"] = json.loads((workdir / "prepared.json").read_text()).get("grid")
    (workdir / "report.json").write_text(json.dumps(payload, indent=2, default=str))
    (workdir / "report.txt").write_text("\n\n".join(texts) + "\n")
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
        baselines={
            c["b"]: {
                "ndcg": float(overall.loc[c["b"], metric]),
                "diff_ci": [c["ci_low"], c["ci_high"]],
            }
            for c in report.comparisons
            if c["a"] == "ranker"
        },
        candidate_recall=prepared["candidate_recall"]["all"],
        n_members=int(ranker["n_members"]),
    )
    return out


def report_text(report, prepared: dict[str, Any]) -> str:
    """The readable evaluation report: the table plus candidate recall."""
    recall = ", ".join(f"{k} {v:.3f}" for k, v in prepared["candidate_recall"].items())
    return (
        f"{report.table()}\n\nCandidate recall of the held-out titles (per source, the union "
        f"'all', and EASE's own top N at the union's size): {recall}\n"
        + search_text(prepared["sources"].get("candidate_search"))
    )


def search_text(found: dict[str, Any] | None) -> str:
    """The candidate quotas and total chosen on validation, and each total's best recall."""
    if not found:
        return ""
    quotas = ", ".join(f"{s} {q}" for s, q in found["quotas"].items())
    totals = "; ".join(
        f"{row['total']}: {row['recall']:.3f} ("
        + ", ".join(f"{s} {q}" for s, q in row["quotas"].items())
        + ")"
        for row in found["best_by_total"]
    )
    return (
        f"Candidates chosen on validation ({found['members']} members, {found['pairs']} "
        f"titles; {len(found['options'])} options): total {found['total']}, quotas {quotas}, "
        f"validation recall {found['recall']:.3f}. Best per total: {totals}. "
        f"Rule: {found['rule']}.\n"
    )


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
    rows = pd.read_parquet(
        workdir / prepared["holdout"] / "refit_train.parquet", columns=["member_key", "title_id"]
    )
    lineage = training_lineage(
        settings,
        source=prepared["source"],
        feature_service=prepared["feature_service"],
        feature_service_version=prepared["feature_service_version"],
        training_frame=rows,
        params=model.meta["params"],
        data_interval=tuple(prepared["data_interval"]),
        evaluation_protocol=prepared["protocol"],
        served_model=(
            "refitted on every view up to the data interval's end after the evaluation; the "
            f"evaluated model (fitted before the {prepared['holdout']} hold-out) is the one "
            f"judged, kept in {EVALUATED_DIR}/"
        ),
        search=model.meta.get("search", []),
        candidates=model.meta.get("candidates", {}),
        candidate_search=model.meta.get("sources", {}).get("candidate_search"),
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
