"""Tests for the numpy tree walk: it reaches XGBoost's leaves, missing values included."""

import numpy as np
from bitrate_cases import small_model, traces

from reelops.bitrate.features import features_from_rows
from reelops.bitrate.forest import Forest
from reelops.bitrate.sessions import simulate_training_sessions


def test_walk_gives_xgboost_raw_outputs_with_and_without_missing_values():
    model = small_model()
    rows = simulate_training_sessions(traces(3, 9, "f"), seed=9, sessions_per_trace=2)
    x = features_from_rows(rows).to_numpy(dtype=np.float32)[::7]
    x[::3, 1] = np.nan  # missing values take the learned default branch
    forest = Forest(model.boosters)

    walked = np.array([forest.predict_one(row) for row in x])

    assert forest.n_features == x.shape[1] and forest.outputs == len(model.quantiles)
    np.testing.assert_allclose(walked, model.raw_outputs(x), rtol=1e-5, atol=1e-6)
