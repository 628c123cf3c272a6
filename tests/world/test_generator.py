"""Tests for world configuration, determinism and the real-trace option."""

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest

from reelops.abr.traces import Trace
from reelops.world import WorldConfig, generate_world


def test_same_config_gives_identical_frames(small_config, small_world):
    again = generate_world(small_config)

    for name, frame in small_world.tables.items():
        pd.testing.assert_frame_equal(frame, again.tables[name], obj=name)
    for name, frame in small_world.truth.items():
        pd.testing.assert_frame_equal(frame, again.truth[name], obj=name)


def test_different_seeds_give_different_worlds(small_config, small_world):
    other = generate_world(replace(small_config, seed=small_config.seed + 1))

    for name in ("members", "titles", "impressions", "viewing_events", "delivery_chunks"):
        assert not small_world.tables[name].equals(other.tables[name]), name


def test_more_sessions_leave_behaviour_unchanged(small_config, small_world):
    busier = generate_world(replace(small_config, sessions_per_day=45))

    pd.testing.assert_frame_equal(small_world.tables["impressions"], busier.tables["impressions"])
    assert len(busier.tables["playback_sessions"]) == 45 * small_config.days


def test_presets_have_the_promised_sizes():
    demo, large = WorldConfig.demo(), WorldConfig.large()

    assert (demo.n_members, demo.n_titles, demo.days) == (1_500, 400, 21)
    assert (large.n_members, large.n_titles, large.days) == (10_000, 2_000, 30)
    assert large.start == date(2026, 1, 1) and large.end == date(2026, 1, 30)
    assert WorldConfig.large(seed=3).seed == 3


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"n_members": 0}, r"WorldConfig\.n_members must be >= 1, got 0"),
        ({"explore_share": 1.5}, r"WorldConfig\.explore_share must be in \[0, 1\], got 1\.5"),
    ],
)
def test_config_rejects_out_of_range_values(override, message):
    with pytest.raises(ValueError, match=message):
        WorldConfig(**override)


def test_real_traces_are_replayed_scaled_per_segment(small_config):
    times = np.arange(0.0, 60.0)
    traces = [
        Trace("slow.log", times, np.full(60, 1.0)),
        Trace("fast.log", times, np.full(60, 3.0)),
    ]

    world = generate_world(replace(small_config, sessions_per_day=10), traces=traces)

    network = world.truth["network_quality"]
    assert set(network["trace_source"]) == {"real"}
    # Scale = segment median / median of the traces' means (2.0 Mbit/s here).
    np.testing.assert_allclose(network["bandwidth_scale"], network["median_mbps"] / 2.0)
    sessions = world.tables["playback_sessions"].merge(world.truth["session_delivery"])
    assert set(sessions["trace_id"]) == {"slow.log", "fast.log"}
    scale = sessions.merge(network, on=["country", "connection_type"])
    own_mean = scale["trace_id"].map({"slow.log": 1.0, "fast.log": 3.0})
    np.testing.assert_allclose(scale["trace_mean_mbps"], own_mean * scale["bandwidth_scale"])


def test_synthetic_traces_are_named_per_session(small_world):
    sessions = small_world.tables["playback_sessions"]

    assert sessions["trace_id"].tolist() == [f"syn-{i}" for i in range(len(sessions))]
    assert set(small_world.truth["network_quality"]["trace_source"]) == {"synthetic"}
