"""The ranker end to end on a small seeded world: DAG, evaluation, release evidence, CLI, serving.

One world goes through the real pipeline (lake, dbt, Feast) and one training DAG run
(``dag.test()``) per module; every test reads that run's outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from small_world import small_world
from typer.testing import CliRunner

from reelops.config import get_settings

pytestmark = pytest.mark.slow
SPEC = Path(__file__).with_name("ranker_small.yaml")
runner = CliRunner()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A 400-member, 10-day world through land, dbt build and materialization."""
    with small_world(tmp_path_factory.mktemp("ranker_world")) as settings:
        yield settings


@pytest.fixture(scope="module")
def trained(world):
    """One run of the reelops_ranker DAG: its result, work folder and saved candidate."""
    from reelops.orchestration.runs import run_dag
    from reelops.ranking.train import run_dir

    result = run_dag(world, "reelops_ranker", conf={"approval": "auto", "spec": str(SPEC)})
    workdir = run_dir(world, result.run_id)
    return result, workdir


def test_training_dag_runs_end_to_end_and_releases_the_candidate(world, trained):
    from reelops.registry import Registry

    result, workdir = trained
    assert result.ok, result.task_states
    assert set(result.task_states) == {
        "training_set",
        "search",
        "train",
        "evaluate",
        "save_candidate",
        "gates",
        "route",
        "approval",
        "promote",
        "reject",
        "released",
    }
    saved = json.loads((workdir / "candidate.json").read_text())
    assert saved["model"] == "ranker" and saved["approval"] == "auto"
    version = Registry(world).get("ranker", saved["version"])
    # The first model has no champion: it must beat the baselines and pass drift and bias.
    assert version.gates["checks"], "gate results are recorded on the version"
    assert version.gates["passed"], [c for c in version.gates["checks"] if c["status"] == "fail"]
    assert version.stage == "production"
    # Its drift report compares its training sample with its hold-out: never empty.
    first = {c["name"]: c for c in version.gates["checks"]}["feature drift training vs hold-out"]
    assert first["status"] == "skip" and "first model" in first["detail"]
    assert "data_drift_html" in version.reports
    assert result.task_states["approval"] == "skipped"  # auto approval asks nobody
    assert result.task_states["reject"] == "skipped"
    assert 0.0 < version.metrics["ndcg@10"] <= 1.0
    assert version.metrics["best_baseline"] in {
        "most_popular",
        "popular_recent",
        "item_knn",
        "ease",
        "als",
        "popular_country",
        "bpr",
    }
    lineage = version.lineage
    assert lineage["feature_service"] == "ranker_v1" and lineage["feature_service_version"]
    assert lineage["training_rows"] > 0 and lineage["code_version"]
    assert lineage["params"]["objective"].startswith("rank:")
    assert len(lineage["search"]) == 2, "every grid point is searched on validation"
    # The candidate quotas and total are chosen on validation and are what the model uses.
    chosen = lineage["candidate_search"]
    assert chosen["total"] in (50, 100) and chosen["options"]
    assert lineage["candidates"]["total"] == chosen["total"]
    assert lineage["candidates"]["quotas"] == chosen["quotas"]
    report = json.loads((workdir / "report.json").read_text())
    assert report["global"]["protocol"]["kind"] == "temporal hold-out"
    assert 0.0 < report["global"]["candidate_recall"]["all"] <= 1.0
    assert report["per_member"]["protocol"]["kind"] == "per-member hold-out"
    assert "bpr" in {row["ranker"] for row in report["per_member"]["metrics"]}
    assert "Candidates chosen on validation" in (workdir / "report.txt").read_text()
    # The served model is the refit on every view; the judged one is kept beside it.
    assert "refitted on every view" in lineage["served_model"]
    folder = Registry(world).files("ranker", saved["version"])
    served = json.loads((folder / "meta.json").read_text())
    judged = json.loads((folder / "evaluated" / "meta.json").read_text())
    assert served["fitted_on"] == "all views (refit)"
    assert judged["fitted_on"] == "per_member hold-out"
    assert served["training_rows"] > judged["training_rows"]


def test_ranker_beats_random_and_most_popular(world, trained):
    from reelops.ranking.baselines import MostPopular, RandomRanker
    from reelops.ranking.data import load_ranking_data
    from reelops.ranking.full_ranking import evaluate_rankers
    from reelops.ranking.holdout_eval import model_scorer
    from reelops.ranking.protocol import configs, splits
    from reelops.ranking.ranker import RankerModel
    from reelops.specs import load_spec

    _, workdir = trained
    tr, ev = configs(load_spec(SPEC))
    data = load_ranking_data(world, "world")
    outer, _ = splits(data, ev, tr)
    model = RankerModel.load(workdir / "evaluated" / "per_member")  # fitted before the hold-out
    rows = pd.read_parquet(workdir / "per_member" / "outer_eval.parquet")
    rankers = {
        "ranker": model_scorer(model, rows, data, outer),
        "random": RandomRanker(seed=3).fit(outer.train, data.titles),
        "most_popular": MostPopular().fit(outer.train, data.titles),
    }
    report = evaluate_rankers(
        outer.train, outer.test, data.titles, None, rankers, segments=(), compare=()
    )
    ndcg = report.overall["ndcg@10"]
    assert ndcg["ranker"] > ndcg["most_popular"] > ndcg["random"]
    assert report.compare("ranker", "most_popular")["ci_low"] > 0


def test_release_evidence_for_the_gates(world, trained):
    from reelops.quality.evidence import ReleaseEvidence
    from reelops.ranking.evidence import evaluate_release
    from reelops.specs import load_spec

    _, workdir = trained
    version = json.loads((workdir / "candidate.json").read_text())["version"]
    evidence = evaluate_release(world, load_spec(SPEC), version, None)
    assert isinstance(evidence, ReleaseEvidence)
    assert evidence.metric == "ndcg@10" and "most_popular" in evidence.baselines
    assert {"candidate", "most_popular", "item_knn", "ease"} <= set(evidence.overall.index)
    columns = {"label", "unit", "ndcg@10", "hr@10", "mrr", "long_tail@10", "genre_kl"}
    assert columns | {"country", "age_band"} <= set(evidence.per_unit.columns)
    candidate = evidence.per_unit[evidence.per_unit["label"] == "candidate"]
    assert candidate["unit"].is_unique and (candidate["genre_kl"] >= 0).all()
    reference = evidence.reference_features["candidate"]
    assert 0 < len(reference) <= 5000 and "x_affinity" in reference.columns
    predictions = evidence.predictions["candidate"]
    assert len(predictions) > 0 and np.isfinite(predictions).all()


def _watched(settings) -> set[tuple[str, str]]:
    from reelops.ranking.data import read_viewing_events

    views = read_viewing_events(settings, "world")
    return set(zip(views["member_key"], views["title_id"], strict=True))


def test_recommend_cli_writes_top_k_of_unwatched_titles(world, trained, tmp_path):
    from reelops.cli import app
    from reelops.privacy import MemberKeyVault
    from reelops.sources import read_source_table

    member_ids = read_source_table(world, "world", "members").column("member_id").to_pylist()[:3]
    out = tmp_path / "recs.csv"
    done = runner.invoke(
        app,
        ["ranker", "recommend", "--members", ",".join(member_ids), "--k", "5", "--out", str(out)],
    )
    assert done.exit_code == 0, done.output
    assert "production" in done.output
    recs = pd.read_csv(out, dtype={"member_id": str, "title_id": str})
    assert set(recs["member_id"]) == set(member_ids)
    assert recs.groupby("member_id")["rank"].apply(list).map(lambda r: r == [1, 2, 3, 4, 5]).all()
    with MemberKeyVault(world) as vault:
        keys = {m: vault.key_of("world", m) for m in member_ids}
    pairs = {(keys[m], t) for m, t in zip(recs["member_id"], recs["title_id"], strict=True)}
    assert not pairs & _watched(world)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--members", "no-such-member", "--k", "10"], "unknown member 'no-such-member'"),
        (["--members", "all", "--k", "0"], "'--k': Input should be greater than or equal to 1"),
        (["--members", "all", "--out", "recs.txt"], "must end in .csv or .parquet"),
        (["--members", "all", "--version", "nope"], "unknown version ranker:nope"),
    ],
)
def test_recommend_cli_bad_input_is_a_clear_error(world, trained, args, message, tmp_path):
    from reelops.cli import app

    if "--out" not in args:
        args = [*args, "--out", str(tmp_path / "r.csv")]
    done = runner.invoke(app, ["ranker", "recommend", *args])
    assert done.exit_code == 2
    assert message in done.output


def test_cli_without_a_trained_model_says_so(tmp_path, monkeypatch):
    from reelops.cli import app

    monkeypatch.setenv("REELOPS_HOME", str(tmp_path / "empty"))
    get_settings.cache_clear()
    try:
        out = str(tmp_path / "r.csv")
        for command in (["recommend", "--members", "all", "--out", out], ["evaluate"]):
            done = runner.invoke(app, ["ranker", *command])
            assert done.exit_code == 2
            assert "no trained ranker in the registry" in done.output
    finally:
        get_settings.cache_clear()


def test_online_ranking_of_one_member_from_the_feature_store(world, trained):
    from reelops.ranking.recommend import RankerRuntime

    recommender = RankerRuntime.load(world)
    key = recommender.sample_members(1)[0]
    top, timings = recommender.rank_online(key, recommender.online_lookup(), k=10)
    assert top["rank"].tolist() == list(range(1, 11))
    assert not {(key, t) for t in top["title_id"]} & _watched(world)
    assert set(timings) == {"candidates_ms", "features_ms", "score_ms"}
    batch = recommender.recommend([key], k=10)
    # Online and offline features agree as of the same time, so the lists match.
    assert top["title_id"].tolist() == batch["title_id"].tolist()


def test_demo_summary_shows_the_table_and_two_members(world, trained):
    from reelops.ranking.train import demo_summary

    text = demo_summary(world)
    assert "ndcg@10" in text and "most_popular" in text
    assert text.count("favourite genres:") == 2
    assert Path(trained[1] / "report.txt").read_text().splitlines()[0] in text


def test_a_ranker_trained_on_shuffled_labels_is_rejected_and_never_promoted(world, trained):
    """The issue's broken candidate: real training on shuffled labels, then the gates."""
    import shutil

    from reelops.quality import release
    from reelops.ranking import train
    from reelops.ranking.features import LABEL
    from reelops.registry import Registry
    from reelops.specs import load_spec

    _, workdir = trained
    registry = Registry(world)
    champion = registry.production("ranker")
    assert champion is not None, "the DAG run above promoted the first ranker"
    broken = workdir.parent / "shuffled-labels"
    shutil.rmtree(broken, ignore_errors=True)
    shutil.copytree(workdir, broken, ignore=shutil.ignore_patterns("model", "evaluated"))
    rng = np.random.default_rng(0)
    # Every model of the run (judged per hold-out, and the refit) learns from shuffled labels.
    for path in sorted(broken.glob("*/*_train.parquet")):
        rows = pd.read_parquet(path)
        # Shuffled within each request, so groups keep their sizes and sort order.
        rows[LABEL] = rows.groupby("qid")[LABEL].transform(lambda s: rng.permutation(s.to_numpy()))
        rows.to_parquet(path, index=False)
    spec = load_spec(SPEC)
    train.train(world, spec, broken, [])
    train.evaluate(world, spec, broken)
    version = train.save_candidate(world, spec, broken)["version"]

    gates = release.run_gates(world, "ranker", version, spec=SPEC)
    assert not gates["passed"] and gates["champion"] == champion.version
    assert any(f.startswith("quality") for f in gates["failures"]), gates["failures"]
    release.settle_rejection(world, gates, None)
    assert registry.get("ranker", version).stage == "rejected"
    assert registry.production("ranker").version == champion.version
