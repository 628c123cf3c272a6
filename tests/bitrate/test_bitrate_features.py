"""Tests for the request-time features and the simulated training sessions that feed them."""

import math
import time

import numpy as np
import pandas as pd
import pytest

from reelops.abr.policies import robust_mpc
from reelops.abr.simulator import BufferBased, PlayerState, simulate_session
from reelops.abr.traces import Trace, synthetic_traces
from reelops.abr.video import reference_video
from reelops.bitrate.features import (
    FEATURE_NAMES,
    PREV_DOWNLOAD_COLUMNS,
    PREV_THROUGHPUT_COLUMNS,
    SessionContext,
    features_from_rows,
    features_from_state,
)
from reelops.bitrate.sessions import (
    BEHAVIOUR_POLICIES,
    randomized_traces,
    session_rows,
    simulate_training_sessions,
)

VIDEO = reference_video()
CONTEXT = SessionContext("tv", 0.8, 2.5, 6.0, "NO:mobile")
COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}


class Recording:
    """Plays like ``inner`` and keeps the feature vector of every decision."""

    def __init__(self, inner, context=CONTEXT):
        self.inner, self.context, self.vectors = inner, context, []

    def reset(self) -> None:
        self.inner.reset()
        self.vectors.clear()

    def choose(self, state: PlayerState) -> int:
        self.vectors.append(features_from_state(state, self.context))
        return self.inner.choose(state)


def constant(mbps: float) -> Trace:
    return Trace(f"const-{mbps}", np.array([0.0, 10_000.0]), np.array([mbps, mbps]))


@pytest.mark.parametrize(
    ("trace", "policy", "start"),
    [
        (synthetic_traces(np.random.default_rng(3), [1.5])[0], robust_mpc, 7),
        (synthetic_traces(np.random.default_rng(4), [0.6], volatility=0.8)[0], BufferBased, 1),
        # Fast enough for the 60 s buffer cap: the clock must count the sleeps.
        (constant(30.0), BufferBased, 1),
    ],
)
def test_training_rows_and_decision_time_give_identical_vectors(trace, policy, start):
    recorder = Recording(policy())
    result = simulate_session(trace, VIDEO, recorder, start_index=start)

    from_rows = features_from_rows(session_rows(result, "s", CONTEXT)).to_numpy()

    # The first chunk is fetched without a decision; every other row is one.
    assert len(recorder.vectors) == VIDEO.n_chunks - 1
    np.testing.assert_array_equal(from_rows[1:], np.array(recorder.vectors))
    if trace.trace_id == "const-30.0":
        assert result.sleep_s.sum() > 0


def test_features_of_a_hand_built_row():
    rows = pd.DataFrame(
        {
            "prev_throughput_1": [2.0],
            "prev_throughput_2": [0.5],
            "prev_download_s_1": [1.5],
            "prev_download_s_2": [3.0],
            **{c: [None] for c in PREV_THROUGHPUT_COLUMNS[2:] + PREV_DOWNLOAD_COLUMNS[2:]},
            "buffer_s": [6.0],
            "chunk_index": [2],
            "seconds_since_start": [9.5],
            "device": ["tablet"],
            "throughput_p50_7d": [4.0],
        }
    )

    f = features_from_rows(rows).iloc[0]

    hm = 2 / (1 / 2.0 + 1 / 0.5)  # 0.8
    assert f["log_tput_1"] == pytest.approx(math.log(2.0))
    assert f["log_tput_2"] == pytest.approx(math.log(0.5))
    assert np.isnan(f[["log_tput_3", "log_tput_5", "download_s_3", "rel_tput_4"]]).all()
    assert f["download_s_1"] == 1.5
    assert f["log_tput_hm"] == pytest.approx(math.log(hm))
    assert f["rel_tput_1"] == pytest.approx(math.log(2.0 / hm))
    assert f["log_tput_std"] == pytest.approx(math.log(2.0 / 0.5) / 2)
    assert f["log_tput_min"] == pytest.approx(math.log(0.5))
    assert math.exp(f["log_last_chunk_bytes"]) == pytest.approx(2.0 * 1.5 * 1e6 / 8)
    assert f["device"] == 2.0
    assert f["log_net_p50"] == pytest.approx(math.log(4.0))
    assert f["rel_net_p50"] == pytest.approx(math.log(4.0 / hm))
    assert np.isnan(f[["log_net_p10", "log_net_p90"]]).all()
    assert (f["buffer_s"], f["chunk_index"], f["seconds_since_start"]) == (6.0, 2.0, 9.5)


def test_first_chunk_and_unknown_context_are_nan():
    result = simulate_session(constant(2.0), VIDEO, BufferBased())
    f = features_from_rows(session_rows(result, "s").drop(columns=["device"]))

    assert len(f) == VIDEO.n_chunks
    history = [n for n in FEATURE_NAMES if "tput" in n or "download" in n or "bytes" in n]
    assert f.loc[0, history].isna().all()
    assert f[["device", "log_net_p10", "log_net_p50", "log_net_p90"]].isna().all().all()
    assert f.loc[1:, "log_tput_1"].notna().all()


def test_missing_column_and_unknown_device_are_named():
    result = simulate_session(constant(2.0), VIDEO, BufferBased())
    rows = session_rows(result, "s")

    with pytest.raises(ValueError, match="buffer_s"):
        features_from_rows(rows.drop(columns=["buffer_s"]))
    with pytest.raises(ValueError, match="toaster"):
        features_from_rows(rows.assign(device="toaster"))
    with pytest.raises(ValueError, match="toaster"):
        SessionContext(device="toaster")


def test_features_from_state_is_fast():
    trace = synthetic_traces(np.random.default_rng(5), [2.0])[0]
    state = PlayerState(VIDEO, chunk_index=40, buffer_s=20.0, chunks_remaining=8)
    result = simulate_session(trace, VIDEO, BufferBased())
    state.throughputs_mbps = result.throughput_mbps[:40].tolist()
    state.download_s = result.download_s[:40].tolist()
    state.chunk_bytes = result.chunk_bytes[:40].tolist()

    spans = []
    for _ in range(300):
        started = time.perf_counter()
        features_from_state(state, CONTEXT)
        spans.append(time.perf_counter() - started)

    # Typically 10-30 us; the bound leaves room for a loaded test machine.
    assert np.median(spans) < 250e-6, f"{np.median(spans) * 1e6:.0f} us per vector"


def test_simulated_sessions_follow_the_mart_layout():
    traces = synthetic_traces(np.random.default_rng(6), [0.8, 2.0, 5.0])
    contexts = {t.trace_id: SessionContext("web", 1.0, 2.0, 3.0, "US:cable") for t in traces}

    rows = simulate_training_sessions(
        traces, seed=2, sessions_per_trace=5, context_of_trace=lambda t: contexts[t.trace_id]
    )

    assert len(rows) == 3 * 5 * VIDEO.n_chunks
    assert rows["session_id"].nunique() == 15
    assert set(rows["policy"]) == set(BEHAVIOUR_POLICIES)
    firsts = rows.groupby("trace_id")["start_index"].first()
    assert (firsts == 1).all()
    assert rows["start_index"].nunique() > 3
    assert (rows["device"] == "web").all() and (rows["throughput_p50_7d"] == 2.0).all()
    one = rows[rows["session_id"] == rows["session_id"].iloc[0]].reset_index(drop=True)
    assert one["chunk_index"].tolist() == list(range(VIDEO.n_chunks))
    np.testing.assert_array_equal(one["prev_throughput_2"][2:], one["throughput_mbps"][:-2])
    np.testing.assert_array_equal(one["prev_download_s_5"][5:], one["download_s"][:-5])
    np.testing.assert_array_equal(one["next_throughput_mbps"][:-1], one["throughput_mbps"][1:])
    assert one["prev_throughput_1"][:1].isna().all() and one["prev_download_s_3"][:3].isna().all()
    assert np.isnan(one["next_throughput_mbps"].iloc[-1])
    # Same seed, same sessions.
    again = simulate_training_sessions(
        traces, seed=2, sessions_per_trace=5, context_of_trace=lambda t: contexts[t.trace_id]
    )
    pd.testing.assert_frame_equal(rows, again)


def test_simulate_training_sessions_rejects_empty_input():
    with pytest.raises(ValueError, match="sessions_per_trace"):
        simulate_training_sessions([constant(1.0)], sessions_per_trace=0)
    with pytest.raises(ValueError, match="0 trace"):
        simulate_training_sessions([])


def test_randomized_traces_span_many_kinds_of_network():
    traces = randomized_traces(30, seed=4)

    assert len(traces) == 30 and len({t.trace_id for t in traces}) == 30
    means = np.array([t.mean_mbps for t in traces])
    assert means.min() < 1.0 and means.max() > 5.0
    spread = np.array([np.std(np.log(t.mbps[1:])) for t in traces])
    assert spread.min() < 0.3 and spread.max() > 0.8
    again = randomized_traces(30, seed=4)
    np.testing.assert_array_equal(traces[7].mbps, again[7].mbps)
