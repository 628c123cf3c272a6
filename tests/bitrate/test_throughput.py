"""Tests for the XGBoost throughput model and its use as MPC's predictor."""

import json
import time

import numpy as np
import pytest
from bitrate_cases import varied_traces

from reelops.abr.policies import MPC
from reelops.abr.qoe import qoe
from reelops.abr.simulator import BufferBased, PlayerState, simulate_session
from reelops.abr.video import reference_video
from reelops.bitrate.features import LOG_HM_INDEX, features_from_rows, features_from_state
from reelops.bitrate.sessions import simulate_training_sessions
from reelops.bitrate.targets import training_set
from reelops.bitrate.throughput import ModelParams, ThroughputModel, XGBoostPredictor

VIDEO = reference_video()
SMALL = ModelParams(rounds=60, max_depth=3, eta=0.1, min_child_weight=10.0, threads=1)
NEXT_CHUNK = ModelParams(
    horizon=1, rounds=60, max_depth=3, eta=0.1, min_child_weight=10.0, threads=1
)


@pytest.fixture(scope="module")
def train_rows():
    return simulate_training_sessions(varied_traces(11, 16), seed=1, sessions_per_trace=4)


@pytest.fixture(scope="module")
def held_out_rows():
    return simulate_training_sessions(varied_traces(12, 8), seed=2, sessions_per_trace=3)


@pytest.fixture(scope="module")
def model(train_rows):
    return ThroughputModel.fit(train_rows, SMALL)


# The chunks further ahead are harder to foresee, so the margin over the past is smaller.
@pytest.mark.parametrize(
    ("params", "margin"), [(NEXT_CHUNK, 0.9), (SMALL, 0.97)], ids=["next-chunk", "mpc-horizon"]
)
def test_model_beats_the_harmonic_mean_on_held_out_varied_traces(
    params, margin, train_rows, held_out_rows
):
    model = ThroughputModel.fit(train_rows, params)
    rows, target = training_set(held_out_rows, params.horizon)
    features = features_from_rows(rows)

    median = np.log(model.predict_quantiles(features)[:, model.quantiles.index(0.5)])
    harmonic = features.to_numpy()[:, LOG_HM_INDEX]

    model_mae = np.abs(median - np.log(target)).mean()
    harmonic_mae = np.abs(harmonic - np.log(target)).mean()
    assert model_mae < margin * harmonic_mae, (model_mae, harmonic_mae)


def test_quantiles_are_ordered_and_roughly_calibrated(model, held_out_rows):
    rows, actual = training_set(held_out_rows, model.params.horizon)
    quantiles = model.predict_rows(rows)

    assert quantiles.shape == (len(rows), 5)
    assert (np.diff(quantiles, axis=1) >= 0).all() and (quantiles > 0).all()
    covered = ((actual >= quantiles[:, 0]) & (actual <= quantiles[:, -1])).mean()
    assert 0.6 <= covered <= 0.95, covered
    below = (actual[:, None] < quantiles).mean(axis=0)
    assert np.all(np.diff(below) > 0), below


def test_save_load_round_trip_predicts_identically(model, train_rows, held_out_rows, tmp_path):
    features = features_from_rows(held_out_rows)

    loaded = ThroughputModel.load(model.save(tmp_path / "bitrate"))

    np.testing.assert_array_equal(
        loaded.predict_quantiles(features), model.predict_quantiles(features)
    )
    row = features.to_numpy()[5]
    np.testing.assert_array_equal(loaded.predict_one(row), model.predict_one(row))
    assert loaded.params == model.params
    metadata = json.loads((tmp_path / "bitrate" / "metadata.json").read_text())
    assert metadata["quantiles"] == [0.1, 0.25, 0.5, 0.75, 0.9]
    assert metadata["feature_names"][0] == "log_tput_1"
    assert metadata["params"]["horizon"] == 5
    assert metadata["metrics"]["training_rows"] == len(training_set(train_rows, 5)[0])


def test_single_row_path_agrees_with_xgboost(model, held_out_rows):
    features = features_from_rows(held_out_rows).to_numpy()[::5]

    one_by_one = np.array([model.predict_one(x) for x in features])

    np.testing.assert_allclose(one_by_one, model.predict_quantiles(features), rtol=1e-5)


def test_load_refuses_other_features_and_missing_files(model, tmp_path):
    path = model.save(tmp_path / "m")
    metadata = json.loads((path / "metadata.json").read_text())
    metadata["feature_names"] = metadata["feature_names"][:-1]
    (path / "metadata.json").write_text(json.dumps(metadata))

    with pytest.raises(ValueError, match="retrain"):
        ThroughputModel.load(path)
    with pytest.raises(FileNotFoundError, match="model.json"):
        ThroughputModel.load(tmp_path / "nowhere")


def test_predictor_drives_mpc_through_a_whole_session(model):
    trace = varied_traces(13, 1)[0]

    for mode in (0.25, "scenarios"):
        result = simulate_session(trace, VIDEO, MPC(XGBoostPredictor(model, mode)))
        assert len(result) == VIDEO.n_chunks
        assert np.isfinite(qoe(result)["qoe_lin"])
        # It adapts rather than sticking to one level.
        assert len(set(result.level.tolist())) > 1


def test_predictor_returns_a_quantile_or_all_of_them(model):
    result = simulate_session(varied_traces(14, 1)[0], VIDEO, BufferBased())
    state = PlayerState(
        VIDEO,
        chunk_index=10,
        buffer_s=float(result.buffer_s[10]),
        chunks_remaining=VIDEO.n_chunks - 10,
        levels=result.level[:10].tolist(),
        throughputs_mbps=result.throughput_mbps[:10].tolist(),
        download_s=result.download_s[:10].tolist(),
        chunk_bytes=result.chunk_bytes[:10].tolist(),
    )
    every = model.predict_quantiles(features_from_state(state))[0]

    assert XGBoostPredictor(model, 0.25).predict(state) == pytest.approx(every[1], rel=1e-5)
    np.testing.assert_allclose(
        XGBoostPredictor(model, "scenarios").predict(state), every, rtol=1e-5
    )
    with pytest.raises(ValueError, match="0.3"):
        XGBoostPredictor(model, 0.3)


def test_one_prediction_is_well_under_a_millisecond(model):
    state = PlayerState(
        VIDEO,
        chunk_index=20,
        buffer_s=15.0,
        chunks_remaining=28,
        throughputs_mbps=[1.0, 2.0, 1.5, 1.2, 0.9] * 4,
        download_s=[1.0] * 20,
        chunk_bytes=[300_000] * 20,
    )
    predictor = XGBoostPredictor(model, 0.25)
    predictor.predict(state)

    spans = []
    for _ in range(200):
        started = time.perf_counter()
        predictor.predict(state)
        spans.append(time.perf_counter() - started)

    # Typically well under 0.2 ms; the bound allows a loaded machine.
    assert np.median(spans) < 1e-3, f"{np.median(spans) * 1e3:.2f} ms per prediction"


def test_fit_needs_rows_with_history(train_rows):
    first_chunks = train_rows[train_rows["chunk_index"] == 0]

    with pytest.raises(ValueError, match="prev_throughput_1"):
        ThroughputModel.fit(first_chunks, SMALL)
    with pytest.raises(ValueError, match="quantiles"):
        ModelParams(quantiles=(0.5, 0.25))


BAGGED = ModelParams(rounds=30, max_depth=3, eta=0.1, min_child_weight=10.0, threads=1, bags=3)


@pytest.fixture(scope="module")
def bagged(train_rows):
    return ThroughputModel.fit(train_rows, BAGGED)


def test_ensemble_quantiles_are_the_mean_of_its_members(bagged, held_out_rows):
    """Each quantile's log ratio to the harmonic mean is the members' mean, then sorted."""
    assert len(bagged.boosters) == 3
    x = features_from_rows(held_out_rows).to_numpy(dtype=np.float32)
    members = [
        ThroughputModel(b, BAGGED).raw_outputs(x) + x[:, [LOG_HM_INDEX]] for b in bagged.boosters
    ]
    expected = np.exp(np.sort(np.mean(members, axis=0), axis=1))
    np.testing.assert_allclose(bagged.predict_quantiles(x), expected, rtol=1e-6)
    # Members saw different traces, so they disagree: the bags are not copies.
    assert not np.allclose(members[0], members[1])
    for row in x[::50]:  # the decision-time tree walk averages the same way
        np.testing.assert_allclose(
            bagged.predict_one(row), bagged.predict_quantiles(row)[0], rtol=1e-5
        )


def test_ensemble_save_load_round_trip(bagged, held_out_rows, tmp_path):
    bagged.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").glob("model*.json")) == [
        "model.json",
        "model_1.json",
        "model_2.json",
    ]
    loaded = ThroughputModel.load(tmp_path / "m")
    assert loaded.params.bags == 3
    np.testing.assert_array_equal(
        loaded.predict_rows(held_out_rows), bagged.predict_rows(held_out_rows)
    )
    (tmp_path / "m" / "model_2.json").unlink()
    with pytest.raises(FileNotFoundError, match="model_2.json"):
        ThroughputModel.load(tmp_path / "m")
    with pytest.raises(ValueError, match="bags"):
        ModelParams(bags=0)
