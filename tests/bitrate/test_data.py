"""Tests for the bitrate model's hold-out: read as data from what the source publishes."""

import numpy as np
import pandas as pd
import pytest

from reelops.abr.traces import traces_from_frame
from reelops.bitrate.data import BitrateDataError, Holdout, published_holdout, source_holdout
from reelops.bitrate.features import CONTEXT_COLUMNS, SessionContext
from reelops.sources import HOLDOUT_SEGMENT_COLUMNS, read_holdout, write_source
from reelops.world.generator import WorldConfig
from reelops.world.synthetic_source import generate_source

CONTEXTS = {"US:fibre": SessionContext(None, 4.0, 8.0, 12.0, "US:fibre")}


@pytest.fixture
def world(settings):
    generate_source(settings, WorldConfig.tiny())
    return settings


def test_holdout_is_exactly_what_the_world_published(world, tmp_path):
    published = read_holdout(world, "world")

    holdout = published_holdout(published, CONTEXTS, per_segment=2)

    expected = traces_from_frame(published.traces)
    assert list(holdout.traces) == list(expected) == list(published.segments["trace_id"])
    for trace_id, trace in holdout.traces.items():
        np.testing.assert_array_equal(trace.time_s, expected[trace_id].time_s)
        np.testing.assert_array_equal(trace.mbps, expected[trace_id].mbps)
    segments = holdout.segments
    pd.testing.assert_frame_equal(
        segments[list(HOLDOUT_SEGMENT_COLUMNS)], published.segments[list(HOLDOUT_SEGMENT_COLUMNS)]
    )
    us_fibre = segments[(segments["country"] == "US") & (segments["connection"] == "fibre")]
    assert (us_fibre[list(CONTEXT_COLUMNS)].to_numpy() == [4.0, 8.0, 12.0]).all()
    assert (
        segments.loc[~segments.index.isin(us_fibre.index), list(CONTEXT_COLUMNS)].isna().all().all()
    )
    assert (holdout.kind, holdout.meta, holdout.train_trace_ids) == (
        "network_model",
        {"seed": 0},
        None,
    )
    first = holdout.split("test")[0].trace_id
    assert holdout.context_of(first).network_key == "US:fibre"
    # What the training run saves and reloads is the same hold-out.
    again = Holdout.load(holdout.save(tmp_path / "holdout"))
    assert list(again.traces) == list(holdout.traces)
    pd.testing.assert_frame_equal(again.segments, segments)


def test_source_holdout_of_the_world_reads_its_published_traces(world, monkeypatch):
    # Feast's latest context needs a warehouse; its own reader is not under test here.
    monkeypatch.setattr(
        "reelops.bitrate.data.latest_network_context", lambda settings, source: CONTEXTS
    )

    holdout = source_holdout(world, "world", 0, (0.6, 0.2, 0.2), per_segment=2)

    expected = published_holdout(read_holdout(world, "world"), CONTEXTS, per_segment=2)
    assert list(holdout.traces) == list(expected.traces)
    pd.testing.assert_frame_equal(holdout.segments, expected.segments)


def test_small_runs_take_the_first_traces_of_a_seeded_pick_of_segments(world):
    published = read_holdout(world, "world")

    holdout = published_holdout(published, {}, per_segment=1, segments=4, seed=0)

    segments = holdout.segments
    assert len(holdout.split("validation")) == len(holdout.split("test")) == 4
    picked = segments.groupby("split")[["country", "connection"]].apply(
        lambda part: list(map(tuple, part.to_numpy()))
    )
    assert picked["validation"] == picked["test"]
    rank = published.segments.groupby(["split", "country", "connection"]).cumcount()
    firsts = set(published.segments.loc[rank == 0, "trace_id"])
    assert set(segments["trace_id"]) <= firsts
    again = published_holdout(published, {}, per_segment=1, segments=4, seed=0)
    assert list(again.traces) == list(holdout.traces)
    with pytest.raises(BitrateDataError, match="holdout_traces_per_segment=3.*publishes 2"):
        published_holdout(published, {}, per_segment=3)


def test_a_source_without_a_published_holdout_says_what_to_do(settings):
    write_source(settings, "movielens", "movielens", {})

    with pytest.raises(BitrateDataError, match="publishes no hold-out.*reelops world generate"):
        source_holdout(settings, "movielens", 0, (0.6, 0.2, 0.2), per_segment=2)
