"""Release evidence for an artwork candidate: every policy judged off-policy on one log.

The candidate's hold-out judges the candidate, the production policy (if any) and the
baselines (:mod:`reelops.artwork.holdout`). The production policy is judged with its
own reward model, evidence and exploration, and with the same members' taste as the
candidate (views before the hold-out), so both face the same impressions with the same
inputs.
"""

from __future__ import annotations

import pandas as pd

from reelops.artwork.holdout import BASELINES, HoldoutJudge
from reelops.artwork.policy import artwork_spec
from reelops.artwork.saved import MODEL, POLICY_DIR, REFERENCE_FILE
from reelops.config import Settings
from reelops.quality.evidence import CANDIDATE, CHAMPION, ReleaseEvidence, version_folders
from reelops.registry import Registry
from reelops.specs import ModelSpec


def evaluate_release(
    settings: Settings, spec: ModelSpec, candidate_version: str, champion_version: str | None
) -> ReleaseEvidence:
    """The candidate, the production policy (if any) and the baselines on the candidate's
    hold-out (see the module doc).

    Returns:
        The evidence: ``overall`` per label with every estimator (``good_play_rate`` is the
        gate's), ``per_unit`` per label and member (the member's value and segments),
        training-design samples and hold-out predictions for drift, and
        ``off_policy`` for the off-policy gate.
    """
    folders = version_folders(settings, MODEL, candidate_version, champion_version)
    judge = HoldoutJudge.load(folders[CANDIDATE], spec)
    champion = judge.policy(folders[CHAMPION] / POLICY_DIR) if champion_version else None
    judged = judge.figures(judge.policies(champion))
    protocol = {**judged.notes, "holdout": "the log's last third, saved with the candidate"}
    reference = {CANDIDATE: pd.read_parquet(folders[CANDIDATE] / REFERENCE_FILE)}
    predictions = {CANDIDATE: judge.logged_predictions(judge.candidate)}
    if champion is not None:
        reference[CHAMPION] = pd.read_parquet(folders[CHAMPION] / REFERENCE_FILE)
        predictions[CHAMPION] = judge.logged_predictions(champion)
        registry = Registry(settings)
        theirs = registry.get(MODEL, champion_version).lineage.get("cuts") or {}
        ours = registry.get(MODEL, candidate_version).lineage.get("cuts") or {}
        if theirs.get("cut") and ours.get("cut") and theirs["cut"] > ours["cut"]:
            protocol["champion_note"] = (
                f"the production policy learned from impressions up to {theirs['cut']}, "
                f"after this hold-out's start {ours['cut']}: its estimate there is optimistic"
            )
    sample = artwork_spec(spec).reference_rows
    return ReleaseEvidence(
        model=MODEL,
        candidate_version=candidate_version,
        champion_version=champion_version,
        metric="good_play_rate",
        higher_is_better=True,
        baselines=list(BASELINES),
        overall=judged.overall(),
        per_unit=judged.per_unit,
        reference_features=reference,
        predictions=predictions,
        protocol=protocol,
        extra={"off_policy": judged.as_json()},
        holdout_features=judge.design(judge.candidate, sample),
        off_policy=judged.figures,
    )
