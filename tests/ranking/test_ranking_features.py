"""Ranker rows: cross features, graded labels, request grouping, the XGBoost model, genre KL."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reelops.ranking.candidates import SOURCES, CandidateConfig
from reelops.ranking.evidence import genre_kl
from reelops.ranking.features import (
    CROSS_COLUMNS,
    LABEL,
    QUERY_ID,
    REQUEST_TIME,
    FeatureSet,
    assign_query_ids,
    candidate_rows,
    fit_generator,
    graded_labels,
    label_windows,
    labelled_rows,
)
from reelops.ranking.ranker import RankerError, RankerModel, check_grouped, fit_ranker
from reelops.ranking.scoring import OUTSIDE, CandidateScorer

CONFIG = CandidateConfig(total=40, quotas={"cowatch": 15, "genre": 15, "popular": 10, "fresh": 5})


@pytest.fixture(scope="module")
def cut(split):
    return pd.Timestamp(split.protocol.cutoff)


@pytest.fixture(scope="module")
def generator(interactions, titles, members, cut):
    return fit_generator(interactions, titles, members, cut, CONFIG)


@pytest.fixture(scope="module")
def rows(generator, interactions):
    return labelled_rows(
        generator, interactions, pd.DataFrame(), generator.as_of + pd.Timedelta(days=2), 5, 0
    )


def test_candidate_rows_never_hold_watched_titles_and_carry_provenance(
    generator, interactions, cut
):
    keys = np.sort(interactions["member_key"].unique())[:50]
    frame = candidate_rows(generator, keys)
    before = interactions[interactions["ts"] < cut]
    watched = set(zip(before["member_key"], before["title_id"], strict=True))
    pairs = set(zip(frame["member_key"], frame["title_id"], strict=True))
    assert frame["member_key"].nunique() == 50
    assert not pairs & watched
    assert set(frame["source"].astype(str)) <= set(SOURCES)
    assert (frame["x_n_sources"] >= 1).all()
    best_rank = frame[[f"x_rank_{s}" for s in SOURCES]].to_numpy()
    proposed = best_rank[np.arange(len(frame)), frame["x_source"].to_numpy()]
    assert (proposed >= 1).all(), "the best source must have proposed the title"
    assert set(CROSS_COLUMNS) <= set(frame.columns)
    assert (frame[REQUEST_TIME] == cut).all()


def test_cross_affinity_is_history_mix_times_title_genres(generator, interactions):
    key = interactions["member_key"].iloc[0]
    frame = candidate_rows(generator, [key]).head(5)
    row = generator.data.rows([key])[0]
    cols = pd.Index(generator.title_ids).get_indexer(frame["title_id"])
    expected = generator.title_genres[cols] @ generator.affinity[row]
    np.testing.assert_allclose(frame["x_affinity"], expected)


def test_graded_labels_take_the_best_of_views_and_impressions():
    t = pd.Timestamp("2026-01-02")
    views = pd.DataFrame(
        {
            "member_key": ["a", "a", "b"],
            "title_id": ["x", "y", "x"],
            "ts": [t, t, t - pd.Timedelta(days=2)],
            "completion": [0.95, 0.3, 1.0],
        }
    )
    shown = pd.DataFrame(
        {
            "member_key": ["a", "a", "b"],
            "title_id": ["y", "z", "z"],
            "ts": [t] * 3,
            "label": [2, 0, 0],
        }
    )
    labels = graded_labels(views, shown, t - pd.Timedelta(hours=1), t + pd.Timedelta(hours=1))
    got = {(r.member_key, r.title_id): r.label for r in labels.itertuples()}
    # b's view of x is before the window: only its skipped impression of z counts.
    assert got == {("a", "x"): 2, ("a", "y"): 2, ("a", "z"): 0, ("b", "z"): 0}


def test_labelled_rows_have_positives_and_bounded_sampled_negatives(rows):
    assert not rows.empty
    per_member = rows.groupby("member_key")[LABEL].agg(pos=lambda s: (s > 0).sum(), n="size")
    assert (per_member["pos"] >= 1).all()
    assert ((per_member["n"] - per_member["pos"]) <= 5 * per_member["pos"]).all()
    assert set(rows[LABEL].unique()) <= {0, 1, 2}


def test_label_windows_cover_the_end_of_train_and_stop_at_the_cut(interactions, cut):
    windows = label_windows(interactions, cut, 3, 0.3)
    assert len(windows) == 3
    assert windows[-1][1] == cut
    assert all(a < b for a, b in windows)
    assert all(w[1] == n[0] for w, n in zip(windows[:-1], windows[1:], strict=True))
    with pytest.raises(ValueError, match="label_share"):
        label_windows(interactions, cut, 3, 1.5)


def test_rows_are_grouped_by_request_for_xgboost():
    t1, t2 = pd.Timestamp("2026-01-01"), pd.Timestamp("2026-01-02")
    frame = pd.DataFrame(
        {
            "member_key": ["b", "a", "b", "a", "a"],
            REQUEST_TIME: [t2, t2, t1, t1, t2],
            "title_id": list("vwxyz"),
        }
    )
    grouped = assign_query_ids(frame)
    assert grouped[QUERY_ID].tolist() == [0, 1, 2, 2, 3]
    assert grouped["title_id"].tolist() == ["y", "x", "w", "z", "v"]
    check_grouped(grouped[QUERY_ID].to_numpy())
    with pytest.raises(RankerError, match="sorted by qid"):
        check_grouped(np.array([0, 0, 2, 1]))


def _toy_rows(n_queries: int = 60, per_query: int = 10, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n_queries * per_query)
    return pd.DataFrame(
        {
            QUERY_ID: np.repeat(np.arange(n_queries), per_query),
            "f__signal": signal,
            "f__noise": rng.normal(size=len(signal)),
            LABEL: np.digitize(signal, [0.5, 1.2]),
        }
    )


def test_xgboost_ranker_learns_order_and_round_trips(tmp_path):
    rows = _toy_rows()
    features = FeatureSet(("f__signal", "f__noise"), cross=())
    model = fit_ranker(rows, features, {"num_boost_round": 20, "max_depth": 2}, threads=1)
    scores = model.score(rows)
    by_label = pd.Series(scores).groupby(rows[LABEL].to_numpy()).mean()
    assert by_label.is_monotonic_increasing and by_label[2] > by_label[0] + 1.0
    assert pd.Series(scores).corr(rows["f__signal"], method="spearman") > 0.5
    assert model.meta["training_requests"] == 60
    model.save(tmp_path / "m", reference=rows)
    loaded = RankerModel.load(tmp_path / "m")
    np.testing.assert_allclose(loaded.score(rows), scores, rtol=1e-6)
    assert list(pd.read_parquet(tmp_path / "m" / "reference_features.parquet").columns) == [
        "f__signal",
        "f__noise",
    ]


def test_ranker_refuses_ungrouped_rows_and_bad_params(tmp_path):
    rows = _toy_rows().sample(frac=1.0, random_state=1)
    features = FeatureSet(("f__signal", "f__noise"), cross=())
    with pytest.raises(RankerError, match="sorted by qid"):
        fit_ranker(rows, features, {"num_boost_round": 5})
    ordered = _toy_rows()
    with pytest.raises(RankerError, match="objective must be one of"):
        fit_ranker(ordered, features, {"objective": "reg:squarederror"})
    with pytest.raises(RankerError, match="num_boost_round"):
        fit_ranker(ordered, features, {"num_boost_round": 0})
    with pytest.raises(RankerError, match="not a saved ranker"):
        RankerModel.load(tmp_path)


def test_candidate_scorer_ranks_candidates_first_then_fallback():
    rows = pd.DataFrame({"member_key": ["a", "a"], "title_id": ["t2", "t0"], "score": [0.5, -3.0]})
    scorer = CandidateScorer(rows, np.array(["t0", "t1", "t2"]), np.array([0.1, 0.3, 0.2]))
    scores = scorer.score(np.array(["a", "unknown"]))
    assert np.argsort(-scores[0]).tolist() == [2, 0, 1]
    np.testing.assert_allclose(scores[1], OUTSIDE + np.array([0.1, 0.3, 0.2]))


def test_genre_kl_by_hand():
    titles = pd.DataFrame(
        {"title_id": ["a", "b", "c"], "genres": ["Drama", "Comedy", "Drama|Comedy"]}
    )
    train = pd.DataFrame({"member_key": ["m", "m"], "title_id": ["a", "c"]})
    recs = pd.DataFrame({"member_key": ["m", "m"], "title_id": ["b", "c"]})
    # genres sorted: Comedy, Drama. Watched p = (0.25, 0.75); recommended q = (0.75, 0.25).
    p, q = np.array([0.25, 0.75]), np.array([0.75, 0.25])
    q_smooth = 0.9 * q + 0.1 * p
    expected = float((p * np.log(p / q_smooth)).sum())
    got = genre_kl(recs, train, titles, smoothing=0.1)
    assert got.loc["m"] == pytest.approx(expected)
    same = genre_kl(train, train, titles, smoothing=0.1)
    assert same.loc["m"] == pytest.approx(0.0)


def test_the_ranker_spec_validates():
    from reelops.ranking.protocol import configs
    from reelops.specs import load_spec

    spec = load_spec("ranker")
    training, evaluation = configs(spec)
    assert spec.feature_service == "ranker_v1"
    assert spec.evaluator == "reelops.ranking.evidence:evaluate_release"
    # A small grid: `ranker train` on MovieLens-100K must stay under 10 minutes on 2 cores.
    assert 2 <= len(spec.search_grid()) <= 6
    assert training.candidate_config().total == 300 and evaluation.k == 10
    assert evaluation.holdout == "per_member" and evaluation.holdout_views == 10
    assert {"ease", "als"} <= {s for s, q in training.candidate_config().quotas.items() if q}
    assert spec.gates.quality.metric == "ndcg@10" and spec.gates.quality.must_beat_baselines
    checks = {(c.kind, c.metric) for c in spec.gates.bias.checks}
    assert checks == {
        ("segment_ratio", "ndcg@10"),
        ("mean_max", "genre_kl"),
        ("mean_min", "long_tail@10"),
    }
