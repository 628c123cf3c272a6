"""Release evidence as the ranker and bitrate evaluators hand it over, built with known effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reelops.quality.evidence import ReleaseEvidence

COUNTRIES = ("US", "GB", "DE", "BR", "IN")
COUNTRY_P = (0.3, 0.15, 0.15, 0.2, 0.2)
AGE_BANDS = ("18-24", "25-34", "35-49", "50+")


def _overall(per_unit: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    return per_unit.groupby("label")[metrics].mean()


def ranker_evidence(
    *,
    seed: int = 0,
    members: int = 600,
    champion: bool = True,
    candidate_lift: float = 0.02,
    shuffled: bool = False,
    degrade: tuple[str, str, float] | None = None,
    tiny_segment: bool = False,
) -> ReleaseEvidence:
    """Per-member NDCG@10 of candidate, champion and two baselines on one hold-out.

    Args:
        seed: Draws.
        members: Hold-out members.
        champion: Whether a production model exists (then it scores ``base + 0.08``).
        candidate_lift: Candidate's mean NDCG@10 over the champion's.
        shuffled: The candidate learned from shuffled labels: it ranks like a random
            ranker (NDCG@10 near the share of relevant titles).
        degrade: ``(segment column, value, factor)``: the candidate's NDCG@10 in that
            segment is multiplied by ``factor`` (injected bias).
        tiny_segment: Add a country ``NO`` with 5 members.
    """
    rng = np.random.default_rng(seed)
    country = rng.choice(COUNTRIES, members, p=COUNTRY_P)
    if tiny_segment:
        country[:5] = "NO"
    units = pd.DataFrame(
        {
            "unit": [f"m{i:04d}" for i in range(members)],
            "country": country,
            "age_band": rng.choice(AGE_BANDS, members),
        }
    )
    # A member's "ease" (how predictable they are) is shared by all rankers: the pairing
    # the bootstrap exploits.
    ease = rng.beta(4, 8, members)

    def scores(shift: float, noise: float = 0.05) -> np.ndarray:
        return np.clip(ease + shift + rng.normal(0, noise, members), 0, 1)

    labels = {
        "popularity": scores(-0.06),
        "item_knn": scores(-0.03),
        "candidate": rng.beta(1, 30, members) if shuffled else scores(0.08 + candidate_lift),
    }
    if champion:
        labels["champion"] = scores(0.08)
    if degrade:
        column, value, factor = degrade
        mask = (units[column] == value).to_numpy()
        labels["candidate"][mask] *= factor
    frames = []
    for label, ndcg in labels.items():
        frames.append(
            units.assign(
                label=label,
                **{
                    "ndcg@10": ndcg,
                    "genre_kl": rng.gamma(2, 0.1, members),
                    "long_tail_share": rng.beta(2, 8, members),
                },
            )
        )
    per_unit = pd.concat(frames, ignore_index=True)
    metrics = ["ndcg@10", "genre_kl", "long_tail_share"]
    sample = {"x": rng.normal(size=300), "country": rng.choice(COUNTRIES, 300)}
    features = {"candidate": pd.DataFrame(sample)}
    predictions = {"candidate": pd.Series(rng.normal(size=400))}
    if champion:
        features["champion"] = pd.DataFrame(
            {"x": rng.normal(size=300), "country": rng.choice(COUNTRIES, 300)}
        )
        predictions["champion"] = pd.Series(rng.normal(size=400))
    return ReleaseEvidence(
        model="ranker",
        candidate_version="cand1",
        champion_version="champ0" if champion else None,
        metric="ndcg@10",
        higher_is_better=True,
        baselines=["popularity", "item_knn"],
        overall=_overall(per_unit, metrics),
        per_unit=per_unit,
        reference_features=features,
        predictions=predictions,
        protocol={"split": "temporal", "holdout_days": 7},
    )


def bitrate_evidence(
    *, seed: int = 0, sessions: int = 800, rebuffer_boost: tuple[str, str, float] | None = None
) -> ReleaseEvidence:
    """Per-session QoE of the bitrate policy, a champion and the buffer-based baseline.

    Args:
        seed: Draws.
        sessions: Hold-out sessions (the unit).
        rebuffer_boost: ``(segment column, value, factor)``: the candidate's rebuffering
            in that segment is multiplied by ``factor``.
    """
    rng = np.random.default_rng(seed)
    units = pd.DataFrame(
        {
            "unit": [f"s{i:05d}" for i in range(sessions)],
            "country": rng.choice(COUNTRIES, sessions, p=COUNTRY_P),
            "connection": rng.choice(("fiber", "cable", "dsl", "cellular"), sessions),
        }
    )
    play_s = rng.uniform(120, 600, sessions)
    frames = []
    for label, shift in (("candidate", 0.3), ("champion", 0.2), ("bba", 0.0)):
        rebuffer = rng.exponential(2.0, sessions)
        if label == "candidate" and rebuffer_boost:
            column, value, factor = rebuffer_boost
            rebuffer = np.where(units[column] == value, rebuffer * factor, rebuffer)
        qoe = 1.0 + shift + rng.normal(0, 0.2, sessions) - 0.1 * rebuffer
        frames.append(units.assign(label=label, qoe_lin=qoe, rebuffer_s=rebuffer, play_s=play_s))
    per_unit = pd.concat(frames, ignore_index=True)
    return ReleaseEvidence(
        model="bitrate",
        candidate_version="cand1",
        champion_version="champ0",
        metric="qoe_lin",
        higher_is_better=True,
        baselines=["bba"],
        overall=_overall(per_unit, ["qoe_lin", "rebuffer_s", "play_s"]),
        per_unit=per_unit,
        reference_features={},
        predictions={},
    )


@pytest.fixture
def make_ranker_evidence():
    return ranker_evidence


@pytest.fixture
def make_bitrate_evidence():
    return bitrate_evidence
