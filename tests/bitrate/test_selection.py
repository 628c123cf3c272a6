"""Tests for fitting the grid and choosing the model and MPC mode on validation traces."""

import pytest
from bitrate_cases import SMALL, small_model, traces

from reelops.bitrate.selection import select_model
from reelops.bitrate.sessions import simulate_training_sessions
from reelops.bitrate.throughput import ModelParams, ThroughputModel


@pytest.fixture(scope="module")
def model() -> ThroughputModel:
    return small_model()


def test_select_model_tries_every_mode_and_keeps_the_best(model):
    rows = simulate_training_sessions(traces(8, 4, "t"), seed=4, sessions_per_trace=2)
    validation = traces(4, 5, "v")
    grid = [SMALL, ModelParams(horizon=1, rounds=40, max_depth=3, threads=1)]
    chosen = select_model(rows, grid, (0.1, "scenarios"), validation)
    assert len(chosen.trials) == 4
    best = max(chosen.trials, key=lambda t: t["validation_qoe_lin"])
    assert chosen.mode == best["mode"]
    assert chosen.model.params.horizon == grid[best["candidate"]].horizon
    assert all("minus_robust_mpc" in t for t in chosen.trials)
