"""Tests for one request-time decision: the saved model, its quantiles and MPC's level."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from reelops.abr.simulator import PlayerState, simulate_session
from reelops.abr.traces import synthetic_traces
from reelops.bitrate.decision import MODEL_DIR, POLICY_FILE, BitrateModel, DecisionRequest, decide
from reelops.bitrate.features import SessionContext
from reelops.bitrate.selection import predictor_policy
from reelops.bitrate.sessions import simulate_training_sessions
from reelops.bitrate.throughput import ModelParams, ThroughputModel

SMALL = ModelParams(rounds=40, max_depth=3, eta=0.1, min_child_weight=10.0, threads=1)
CONTEXT = SessionContext("tv", 0.8, 2.0, 4.5, "US:cable")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    rng = np.random.default_rng(0)
    traces = synthetic_traces(rng, rng.uniform(0.5, 4.0, 10), duration_s=300.0)
    model = ThroughputModel.fit(simulate_training_sessions(traces, sessions_per_trace=2), SMALL)
    path = tmp_path_factory.mktemp("bitrate")
    model.save(path / MODEL_DIR)
    (path / POLICY_FILE).write_text(json.dumps({"mode": 0.1}))
    return path


def request_of(state: PlayerState, context=CONTEXT) -> DecisionRequest:
    return DecisionRequest(
        state.chunk_index,
        state.buffer_s,
        list(state.levels),
        list(state.throughputs_mbps),
        list(state.download_s),
        context,
    )


def test_decide_chooses_what_the_simulated_player_chose(folder):
    """A request built from a player's state gets the level the same model chose in the session."""
    loaded = BitrateModel.load(folder)
    trace = synthetic_traces(np.random.default_rng(9), [2.0], duration_s=300.0)[0]
    policy = predictor_policy(loaded.model, 0.1, lambda _id: CONTEXT)(trace)
    seen = []

    class Recording:
        def reset(self):
            policy.reset()

        def choose(self, state):
            level = policy.choose(state)
            seen.append((request_of(state), level))
            return level

    simulate_session(trace, loaded.video, Recording())
    assert len(seen) == loaded.video.n_chunks - 1  # the first chunk is fetched at a fixed level
    for request, level in seen:
        decision = loaded.decide(request)
        assert decision.level == level
        assert list(decision.quantiles_mbps) == sorted(decision.quantiles_mbps)
        assert decision.planned_mbps == decision.quantiles_mbps[0]  # mode 0.1, first quantile
        assert decision.bitrate_kbps == loaded.video.bitrates_kbps[level]


def test_decide_answers_bad_requests_with_what_is_wrong(folder):
    loaded = BitrateModel.load(folder)
    with pytest.raises(ValueError, match="equally long"):
        loaded.decide(DecisionRequest(2, 4.0, [1, 1], [2.0], [1.0, 1.0]))
    with pytest.raises(ValueError, match=r"chunk_index must be within 0\.\.47"):
        loaded.decide(DecisionRequest(48, 4.0))
    with pytest.raises(ValueError, match=r"levels must be within 0\.\.5"):
        loaded.decide(DecisionRequest(1, 4.0, [9], [2.0], [1.0]))
    with pytest.raises(ValueError, match="buffer_s"):
        loaded.decide(DecisionRequest(0, -1.0))
    with pytest.raises(FileNotFoundError, match="bitrate.json"):
        decide(folder / MODEL_DIR, DecisionRequest(0, 0.0))
    first = decide(folder, DecisionRequest(0, 0.0))  # nothing measured yet: the fixed first level
    assert first.level == 1 and np.isnan(first.quantiles_mbps).all()


def test_one_decision_takes_well_under_a_millisecond(folder):
    loaded = BitrateModel.load(folder)
    request = DecisionRequest(10, 12.0, [2] * 10, [1.8] * 10, [1.2] * 10, CONTEXT)
    for _ in range(50):
        loaded.decide(request)
    spans = []
    for _ in range(400):
        started = time.perf_counter()
        loaded.decide(request)
        spans.append(time.perf_counter() - started)
    # Typically ~0.2 ms; the bound leaves room for a loaded CI machine.
    assert np.percentile(spans, 50) < 2e-3


def test_decide_gives_the_same_answers_under_8_concurrent_threads(folder):
    """Requests answered by one shared model from a thread pool get their own answers."""
    loaded = BitrateModel.load(folder)
    rng = np.random.default_rng(4)
    requests = []
    for i in range(200):
        n = int(rng.integers(1, 20))
        tputs = list(np.exp(rng.uniform(np.log(0.3), np.log(8.0), n)))
        requests.append(
            DecisionRequest(
                n,
                float(rng.uniform(0.0, 30.0)),
                list(rng.integers(0, 6, n)),
                tputs,
                list(rng.uniform(0.3, 6.0, n)),
                CONTEXT if i % 2 else SessionContext(),
            )
        )
    sequential = [loaded.decide(r) for r in requests]
    assert len({d.level for d in sequential}) > 1  # the requests do differ in their answers
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            assert list(pool.map(loaded.decide, requests)) == sequential
