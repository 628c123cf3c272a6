"""Policies judged on the world: estimates beside the exact true values from the hidden truth."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from reelops.artwork.evaluation import Truth, dr_difference, evaluate, greedy, simulated_log


def test_true_value_and_completion_are_the_expectations_by_hand():
    truth = Truth(
        good=np.array([[0.2, 0.4], [0.1, 0.0]]),
        play=np.array([[0.5, 0.8], [0.2, 0.1]]),
        completion=np.array([[0.6, 0.3], [0.5, 0.9]]),
    )
    probs = np.array([[0.25, 0.75], [1.0, 0.0]])
    assert truth.value(probs) == (0.25 * 0.2 + 0.75 * 0.4 + 0.1) / 2
    plays = np.array([0.125, 0.6, 0.2])
    assert np.isclose(truth.completion_rate(probs), plays @ [0.6, 0.3, 0.5] / plays.sum())
    np.testing.assert_array_equal(truth.oracle(np.ones((2, 2), bool)), [[0, 1], [1, 0]])


def test_estimates_from_a_log_drawn_from_the_truth_cover_the_true_values(trained):
    cands, mask = trained.test, trained.test.mask
    zeros = np.zeros(mask.shape)
    truth = Truth(good=trained.good, play=zeros + 1, completion=zeros)
    policies = {
        "learned": trained.policy.probabilities(cands),
        "uniform": cands.uniform(),
        "oracle": truth.oracle(mask),
    }
    logged, reward = simulated_log(cands, truth, np.random.default_rng(4))
    sim = replace(cands, logged=logged)
    q_hat = trained.policy.model.predict(cands)
    reports = evaluate(policies, sim, reward, q_hat, truth, n_boot=100)
    assert reports["oracle"].true_value > reports["learned"].true_value
    assert reports["learned"].true_value > reports["uniform"].true_value
    for report in reports.values():
        for name in ("ips", "snips", "dr"):
            assert report.estimates[name].covers(report.true_value), (report.name, name)
    diff, low, high = dr_difference(policies["oracle"], policies["uniform"], sim, reward, q_hat)
    true_diff = reports["oracle"].true_value - reports["uniform"].true_value
    assert low > 0 and low <= true_diff <= high and low <= diff <= high


def test_greedy_puts_all_probability_on_the_best_column():
    got = greedy(np.array([[0.1, 0.5, -np.inf], [0.3, 0.2, 0.1]]))
    np.testing.assert_array_equal(got, [[0, 1, 0], [1, 0, 0]])


def test_segment_differences_split_the_paired_dr_by_segment(trained):
    from reelops.artwork.evaluation import segment_differences

    cands = trained.test
    truth = Truth(good=trained.good, play=trained.good, completion=trained.good)
    logged, reward = simulated_log(cands, truth, np.random.default_rng(5))
    sim = replace(cands, logged=logged)
    q_hat = trained.policy.model.predict(cands)
    oracle, uniform = truth.oracle(cands.mask), cands.uniform()
    half = np.where(np.arange(len(logged)) % 2 == 0, "even", "odd")
    got = segment_differences(oracle, uniform, sim, reward, q_hat, half, n_boot=50)
    assert set(got) == {"even", "odd"}
    for diff, low, high in got.values():
        assert 0 < low < diff < high
    one = segment_differences(oracle, uniform, sim, reward, q_hat, np.full(len(half), "all"))
    assert one["all"] == dr_difference(oracle, uniform, sim, reward, q_hat)
