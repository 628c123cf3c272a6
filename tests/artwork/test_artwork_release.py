"""The artwork release evidence on a log built by hand: estimates, pairing, segments, gates."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from reelops.artwork.candidates import build_candidates
from reelops.artwork.holdout import (
    BEST_SINGLE,
    LOGGING,
    UNIFORM,
    EvaluationSettings,
    HoldoutJudge,
    format_figures,
)
from reelops.quality.evidence import ReleaseEvidence
from reelops.quality.off_policy import off_policy_gate
from reelops.specs import OffPolicyGate

MEMBERS, TITLES, SEEN = 400, 40, 10  # each member sees SEEN titles


def _log(seed: int = 0):
    """Two variants per title (themes ``bold``, ``calm``); US members play ``bold`` well,
    JP members ``calm``; the variant shown is uniform (propensity 1/2)."""
    rng = np.random.default_rng(seed)
    titles = pd.DataFrame({"title_id": [f"t{i:02d}" for i in range(TITLES)], "genres": "Drama"})
    variants = pd.DataFrame(
        {
            "title_id": np.repeat(titles["title_id"], 2),
            "variant_id": [f"t{i:02d}-v{k}" for i in range(TITLES) for k in (1, 2)],
            "theme": ["bold", "calm"] * TITLES,
        }
    )
    members = pd.DataFrame(
        {
            "member_id": [f"m{i:03d}" for i in range(MEMBERS)],
            "country": np.where(np.arange(MEMBERS) < 250, "US", "JP"),
            "age_band": rng.choice(["18-24", "25-34"], MEMBERS),
        }
    )
    member = np.repeat(np.arange(MEMBERS), SEEN)
    title = rng.integers(0, TITLES, len(member))
    shown = rng.integers(1, 3, len(member))
    us = members["country"].to_numpy()[member] == "US"
    good = np.where((shown == 1) == us, 0.3, 0.1)  # bold for US, calm for JP
    impressions = pd.DataFrame(
        {
            "member_id": members["member_id"].to_numpy()[member],
            "title_id": titles["title_id"].to_numpy()[title],
            "variant_id": [f"t{t:02d}-v{k}" for t, k in zip(title, shown, strict=True)],
            "row_index": 0,
            "position": 0,
            "n_variants": 2,
            "reward": (rng.random(len(member)) < good).astype(float),
        }
    )
    return impressions, variants, titles, members.set_index("member_id")


def _stub_policy(probs_of, q_of):
    """What the judge asks of a policy: probabilities, a reward model and its evidence."""
    evidence = SimpleNamespace(of=lambda ids, themes: np.column_stack([np.zeros(len(ids))] * 4))
    model = SimpleNamespace(
        predict=q_of, evidence=evidence, new_titles=lambda c: np.zeros(len(c.logged), bool)
    )
    return SimpleNamespace(probabilities=probs_of, model=model)


def _judge(choose_bold_for, gate=None, seed: int = 0):
    """A judge of a candidate that shows ``bold`` (column 0) with 0.95 to the members
    ``choose_bold_for(country)`` says, else ``calm``; the reward model knows the truth."""
    impressions, variants, titles, members = _log(seed)
    cands = build_candidates(impressions, variants, titles)
    country = members["country"].reindex(cands.impressions["member_id"]).to_numpy()
    bold = np.array([choose_bold_for(c) for c in country])

    def probs(c):
        p = np.where(bold, 0.95, 0.05)
        return np.column_stack([p, 1 - p])

    def q(c):
        us = country == "US"
        return np.column_stack([np.where(us, 0.3, 0.1), np.where(us, 0.1, 0.3)])

    return (
        HoldoutJudge(
            cands=cands,
            reward=cands.impressions["reward"].to_numpy(),
            pscore=np.full(len(cands.logged), 0.5),
            profiles=pd.DataFrame(),
            members=members,
            candidate=_stub_policy(probs, q),
            gate=gate or OffPolicyGate(),
            evaluation=EvaluationSettings(bootstrap=200, seed=0),
        ),
        probs(cands),
        q(cands),
    )


def _evidence(judged) -> ReleaseEvidence:
    return ReleaseEvidence(
        model="artwork",
        candidate_version="c1",
        champion_version=None,
        metric="good_play_rate",
        higher_is_better=True,
        baselines=[UNIFORM, BEST_SINGLE, LOGGING],
        overall=judged.overall(),
        per_unit=judged.per_unit,
        reference_features={},
        predictions={},
        off_policy=judged.figures,
    )


def test_every_estimate_is_the_hand_computed_one_with_a_member_bootstrap_interval():
    judge, probs, q = _judge(lambda country: country == "US")
    judged = judge.figures(judge.policies())
    r, logged = judge.reward, judge.cands.logged
    rows = np.arange(len(r))
    w = probs[rows, logged] / 0.5
    by_hand = {
        "ips": np.mean(w * r),
        "snips": np.sum(w * r) / np.sum(w),
        "dr": np.mean((probs * q).sum(axis=1) + w * (r - q[rows, logged])),
        "replay": r[probs.argmax(axis=1) == logged].mean(),
    }
    candidate = judged.figures.estimates["candidate"]
    for name, value in by_hand.items():
        assert candidate[name].value == pytest.approx(value), name
        assert candidate[name].low < value < candidate[name].high
        assert candidate[name].units == MEMBERS
    assert candidate["replay"].rows == np.count_nonzero(probs.argmax(axis=1) == logged)
    for name in ("replay", "ips", "snips", "dr"):  # the logging policy on its own log
        assert judged.figures.estimates[LOGGING][name].value == pytest.approx(r.mean())
    uniform_dr = np.mean(q.mean(axis=1) + (r - q[rows, logged]))
    diff = judged.figures.differences[UNIFORM]
    assert diff.value == pytest.approx(by_hand["dr"] - uniform_dr)
    assert judged.figures.differences[LOGGING].value == pytest.approx(by_hand["dr"] - r.mean())
    overall = judged.overall()
    assert overall.loc["candidate", "good_play_rate"] == pytest.approx(by_hand["dr"])
    # Per member, the value of each label; their impression-weighted mean is the estimate.
    mine = judged.per_unit[judged.per_unit["label"] == "candidate"]
    weighted = (mine["good_play_rate"] * mine["impressions"]).sum() / mine["impressions"].sum()
    assert weighted == pytest.approx(by_hand["dr"])
    assert "candidate - uniform random: dr" in format_figures(judged)


def test_a_policy_better_for_everyone_passes_the_gate():
    judge, _, _ = _judge(lambda country: country == "US")
    checks = {c.name: c for c in off_policy_gate(_evidence(judge.figures(judge.policies())),
                                                 judge.gate)}  # fmt: skip
    assert checks["value vs uniform random"].status == "pass", checks
    assert checks["dr and snips agree on candidate"].status == "pass", checks
    assert checks["no country worse off than logging"].status == "pass", checks
    assert checks["no age_band worse off than logging"].status == "pass", checks


def test_a_policy_better_overall_but_worse_for_one_country_is_refused():
    # Bold for everyone: the 250 US members gain, the 150 JP members lose.
    judge, _, _ = _judge(lambda country: True)
    judged = judge.figures(judge.policies())
    assert judged.figures.differences[UNIFORM].low > 0  # better on the whole log
    jp = judged.figures.segments["country"]["JP"]
    assert jp.high < 0 and jp.units == 150  # each segment on its own impressions
    checks = {c.name: c for c in off_policy_gate(_evidence(judged), judge.gate)}
    assert checks["value vs uniform random"].status == "pass"
    country = checks["no country worse off than logging"]
    assert country.status == "fail" and "JP" in country.detail
