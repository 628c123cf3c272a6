"""Champion/challenger quality gate: the candidate against production and the baselines."""

from __future__ import annotations

import math

import pandas as pd

from reelops.quality.checks import Check, fmt, verdict
from reelops.quality.evidence import CANDIDATE, CHAMPION, ReleaseEvidence
from reelops.specs import QualityGate
from reelops.stats import paired_bootstrap


def paired_difference(
    per_unit: pd.DataFrame, metric: str, label: str, other: str, seed: int = 0
) -> dict[str, float] | None:
    """Paired bootstrap of ``label`` minus ``other`` on the units both were scored on.

    Returns:
        ``{"mean_diff", "ci_low", "ci_high", "units"}``, or None when the two share
        no unit with a finite score.
    """
    scores = {
        name: per_unit.loc[per_unit["label"] == name].groupby("unit")[metric].mean()
        for name in (label, other)
    }
    paired = pd.concat(scores, axis=1, join="inner").dropna()
    if paired.empty:
        return None
    mean_diff, low, high = paired_bootstrap(paired[label], paired[other], seed=seed)
    return {"mean_diff": mean_diff, "ci_low": low, "ci_high": high, "units": len(paired)}


def _ci_text(diff: dict[str, float] | None) -> str:
    if diff is None:
        return "no paired units"
    return (
        f"paired mean diff {fmt(diff['mean_diff'], True)}, 95% CI "
        f"[{fmt(diff['ci_low'], True)}, {fmt(diff['ci_high'], True)}] over {diff['units']} units"
    )


def quality_gate(evidence: ReleaseEvidence, gate: QualityGate) -> list[Check]:
    """Judge the candidate's primary metric against the champion and every baseline.

    The candidate may be worse than the champion by at most ``gate.tolerance`` (in the
    metric's units, on the hold-out's overall figure); with ``must_beat_baselines`` it
    must be strictly better than each baseline. Without a champion (the first model)
    only the baselines judge it. Every comparison also reports a paired bootstrap 95 %
    interval of the per-unit difference, so a reader sees how sure the verdict is.

    Args:
        evidence: One hold-out evaluation of candidate, champion and baselines.
        gate: The spec's thresholds (``gate.metric`` overrides the evidence's metric).

    Returns:
        One check per comparison; a metric missing from the evidence is a failed check.
    """
    metric = gate.metric
    sign = 1.0 if gate.higher_is_better else -1.0
    if metric not in evidence.overall.columns or metric not in evidence.per_unit.columns:
        return [
            Check(
                "quality",
                f"{metric} present",
                "fail",
                detail=f"evidence for {evidence.model} has no {metric!r} column; overall has "
                f"{list(evidence.overall.columns)}, per_unit has {list(evidence.per_unit.columns)}",
            )
        ]
    overall = evidence.overall[metric].astype(float)
    candidate = float(overall.loc[CANDIDATE])
    if not math.isfinite(candidate):
        return [Check("quality", f"{metric} finite", "fail", detail=f"candidate {metric} is NaN")]
    checks = []
    if evidence.champion_version and CHAMPION in overall.index:
        champion = float(overall.loc[CHAMPION])
        margin = sign * (candidate - champion)  # > 0: candidate better
        diff = paired_difference(evidence.per_unit, metric, CANDIDATE, CHAMPION)
        checks.append(
            Check(
                "quality",
                f"{metric} vs champion {evidence.champion_version}",
                verdict(margin >= -gate.tolerance - 1e-12),
                value=candidate - champion,
                limit=f"{'>=' if gate.higher_is_better else '<='} "
                f"{fmt(-sign * gate.tolerance, True)}",
                detail=f"candidate {fmt(candidate)}, champion {fmt(champion)}; {_ci_text(diff)}",
            )
        )
    else:
        checks.append(
            Check(
                "quality",
                f"{metric} vs champion",
                "skip",
                detail=f"no production {evidence.model} yet: the first model must beat the "
                "baselines",
            )
        )
    if gate.must_beat_baselines and not evidence.baselines:
        checks.append(
            Check(
                "quality",
                f"{metric} beats baselines",
                "fail",
                detail=f"the evaluator of {evidence.model} returned no baselines to beat",
            )
        )
    for baseline in evidence.baselines:
        value = float(overall.loc[baseline])
        diff = paired_difference(evidence.per_unit, metric, CANDIDATE, baseline)
        checks.append(
            Check(
                "quality",
                f"{metric} beats {baseline}",
                verdict(sign * (candidate - value) > 0) if gate.must_beat_baselines else "skip",
                value=candidate - value,
                limit=f"{'>' if gate.higher_is_better else '<'} 0",
                detail=f"candidate {fmt(candidate)}, {baseline} {fmt(value)}; {_ci_text(diff)}",
            )
        )
    return checks
