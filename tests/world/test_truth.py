"""The hidden ground truth shows through in the raw data, as a model would need it to."""

import numpy as np
import pandas as pd
import pytest


def test_tastes_are_distributions_over_genres(small_world):
    tastes = small_world.truth["member_tastes"]

    sums = tastes.groupby("member_id")["weight"].sum()
    np.testing.assert_allclose(sums, 1.0)
    assert len(sums) == len(small_world.tables["members"])
    # Concentrated on a few favourites, not spread evenly over 18 genres.
    assert tastes.groupby("member_id")["weight"].max().median() > 0.3


def test_members_watch_their_favourite_genre_far_above_its_catalog_share(medium_world):
    tastes, titles = medium_world.truth["member_tastes"], medium_world.tables["titles"]
    favourite = tastes.loc[tastes.groupby("member_id")["weight"].idxmax(), ["member_id", "genre"]]
    views = medium_world.tables["viewing_events"].merge(titles[["title_id", "genres"]])
    views = views.merge(favourite, on="member_id")
    pairs = zip(views["genre"], views["genres"], strict=True)
    views["in_favourite"] = [genre in genres.split("|") for genre, genres in pairs]
    catalog_share = {
        genre: titles["genres"].str.split("|").apply(lambda gs, g=genre: g in gs).mean()
        for genre in favourite["genre"].unique()
    }

    view_share = views.groupby("member_id")["in_favourite"].mean()
    expected = favourite.set_index("member_id")["genre"].map(catalog_share)[view_share.index]

    assert view_share.mean() > 2 * expected.mean()
    assert (view_share > expected).mean() > 0.75


def test_artwork_with_higher_appeal_for_the_member_gets_played_more(medium_world):
    impressions = medium_world.tables["impressions"]
    taste = medium_world.truth["member_tastes"].pivot(
        index="member_id", columns="genre", values="weight"
    )
    appeal = medium_world.truth["artwork_appeal"].pivot(
        index="variant_id", columns="genre", values="appeal"
    )[taste.columns]
    member_appeal = (
        taste.loc[impressions["member_id"]].to_numpy()
        * appeal.loc[impressions["variant_id"]].to_numpy()
    ).sum(axis=1)

    quintile = pd.qcut(member_appeal, 5, labels=False)
    played = impressions["played"].groupby(quintile).mean()

    assert played[4] > 1.8 * played[0]
    assert played.is_monotonic_increasing


def test_the_variant_shown_matters_beyond_the_title(medium_world):
    impressions = medium_world.tables["impressions"]
    variants = medium_world.truth["artwork_appeal"]
    taste = medium_world.truth["member_tastes"].pivot(
        index="member_id", columns="genre", values="weight"
    )
    appeal = variants.pivot(index="variant_id", columns="genre", values="appeal")[taste.columns]
    # Every member's appeal for every variant, then relative to the title's average variant.
    member_variant = pd.DataFrame(
        taste.to_numpy() @ appeal.to_numpy().T, index=taste.index, columns=appeal.index
    )
    title_of = variants.drop_duplicates("variant_id").set_index("variant_id")["title_id"]
    title_mean = member_variant.T.groupby(title_of[member_variant.columns].to_numpy()).mean().T
    shown = member_variant.to_numpy()[
        member_variant.index.get_indexer(impressions["member_id"]),
        member_variant.columns.get_indexer(impressions["variant_id"]),
    ]
    baseline = title_mean.to_numpy()[
        title_mean.index.get_indexer(impressions["member_id"]),
        title_mean.columns.get_indexer(impressions["title_id"]),
    ]

    excess = pd.qcut(shown - baseline, 5, labels=False)
    played = impressions["played"].groupby(excess).mean()

    assert played[4] > 1.5 * played[0]


def test_top_rows_are_played_more_than_lower_rows(medium_world):
    played = medium_world.tables["impressions"].groupby("row_index")["played"].mean()

    assert played[0] > played[2] > played[4]


def test_propensity_matches_how_often_the_logging_policy_shows_a_pair(medium_world):
    impressions = medium_world.tables["impressions"]
    day = impressions["ts"].dt.floor("D")
    per_day = impressions.groupby(day)["impression_id"].transform("size")
    grouped = impressions.assign(day=day, per_day=per_day).groupby(["day", "variant_id"])
    pairs = grouped.agg(
        shown=("impression_id", "size"), p=("propensity", "first"), n=("per_day", "first")
    )
    pairs["expected"] = pairs["p"] * pairs["n"]

    common = pairs[pairs["expected"] >= 30]
    assert len(common) > 20
    # Poisson noise: counts within ~4 standard deviations of the propensity's prediction.
    z = (common["shown"] - common["expected"]) / np.sqrt(common["expected"])
    assert z.abs().max() < 4.5
    assert abs(z.mean()) < 0.5


def test_fibre_streams_faster_than_mobile(medium_world):
    chunks = medium_world.tables["delivery_chunks"].merge(
        medium_world.tables["playback_sessions"][["session_id", "connection_type", "country"]]
    )

    by_connection = chunks.groupby("connection_type")["throughput_mbps"].mean()
    assert by_connection["fibre"] > 2 * by_connection["mobile"]
    level = chunks.groupby("connection_type")["level"].mean()
    rebuffer = chunks.groupby("connection_type")["rebuffer_s"].mean()
    assert level["fibre"] > level["mobile"] and rebuffer["fibre"] < rebuffer["mobile"]


def test_session_bandwidth_follows_the_network_truth(medium_world):
    sessions = medium_world.tables["playback_sessions"].merge(
        medium_world.truth["session_delivery"]
    )
    segments = sessions.groupby(["country", "connection_type"])["trace_mean_mbps"].median()
    truth = medium_world.truth["network_quality"].set_index(["country", "connection_type"])

    common = segments.index[sessions.groupby(["country", "connection_type"]).size() >= 10]
    ratio = segments[common] / truth.loc[common, "median_mbps"]
    # Outages pull trace means a little below the segment median, never far.
    assert ratio.between(0.6, 1.3).all()
    assert len(common) >= 8


def test_misleading_artwork_draws_plays_that_are_abandoned(medium_world):
    impressions = medium_world.tables["impressions"].merge(
        medium_world.truth["artwork_misleading"][["variant_id", "misleading"]]
    )
    assert 0.05 < impressions["misleading"].mean() < 0.35
    played = impressions[impressions["played"]]
    good_share = (played["completion"] >= 0.5).groupby(played["misleading"]).mean()
    play_rate = impressions.groupby("misleading")["played"].mean()
    # More plays than the other variants, far fewer of them watched to half.
    assert play_rate[True] > 1.1 * play_rate[False]
    assert good_share[True] < 0.6 * good_share[False]


def test_artwork_truth_predicts_the_logged_good_plays(medium_world):
    from reelops.world.generator import artwork_truth

    truth = artwork_truth(medium_world.config)
    impressions = medium_world.tables["impressions"]
    ix = truth.indices(impressions)
    played = impressions["played"].to_numpy()
    good = played & (impressions["completion"].to_numpy() >= 0.5)
    p_play = truth.play_probability(ix, ix["variant"])
    p_good = truth.good_play_probability(ix, ix["variant"], 0.5)
    # A play of a title already watched is dropped, so the log has fewer plays than the
    # per-impression truth; among the plays, the share that is good is the truth's.
    assert 0.6 * p_play.mean() < played.mean() < p_play.mean()
    assert good.sum() / played.sum() == pytest.approx(p_good.sum() / p_play.sum(), rel=0.06)
    with pytest.raises(KeyError, match="member_id 'nobody'"):
        truth.indices(impressions.head(1).assign(member_id="nobody"))
