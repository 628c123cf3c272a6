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


def ci_rule(
    diff: dict[str, float] | None, sign: float, margin: float, min_units: int
) -> tuple[bool, str]:
    """Whether a paired comparison clears ``margin`` with its whole 95 % interval.

    ``sign`` is +1 when higher is better: the interval of ``sign * (candidate - other)``
    must lie above ``margin`` (0 for "beats", ``-tolerance`` for "not worse"). Fewer than
    ``min_units`` paired units cannot decide and do not pass.

    Returns:
        (passed, why) with ``why`` naming an undecided comparison, else empty.
    """
    if diff is None or diff["units"] < min_units:
        units = 0 if diff is None else diff["units"]
        return False, f"too few paired units for a decision ({units} < {min_units}); "
    low = diff["ci_low"] if sign > 0 else -diff["ci_high"]
    return low > margin, ""


def quality_gate(evidence: ReleaseEvidence, gate: QualityGate) -> list[Check]:
    """Judge the candidate's primary metric against the champion and every baseline.

    Every comparison is a paired bootstrap over the hold-out's units, judged by its 95 %
    interval, not by the means: "beats baseline X" needs the interval of candidate
    minus X entirely above zero; "not worse than the champion" needs it above
    ``-gate.tolerance`` (non-inferiority). A comparison with fewer than
    ``gate.min_units`` paired units fails as undecided. Without a champion (the first
    model) only the baselines judge it.

    Args:
        evidence: One hold-out evaluation of candidate, champion and baselines.
        gate: The spec's thresholds (``gate.metric`` overrides the evidence's metric).

    Returns:
        One check per comparison; a metric missing from the evidence is a failed check.
    """
    metric = gate.metric
    sign = 1.0 if gate.higher_is_better else -1.0
    direction = "higher" if gate.higher_is_better else "lower"
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
        diff = paired_difference(evidence.per_unit, metric, CANDIDATE, CHAMPION)
        passed, why = ci_rule(diff, sign, -gate.tolerance - 1e-12, gate.min_units)
        checks.append(
            Check(
                "quality",
                f"{metric} vs champion {evidence.champion_version}",
                verdict(passed),
                value=candidate - champion,
                limit=f"CI low of candidate - champion ({direction} is better) > "
                f"{fmt(-gate.tolerance, True)}",
                detail=f"{why}candidate {fmt(candidate)}, champion {fmt(champion)}; "
                f"{_ci_text(diff)}",
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
        passed, why = ci_rule(diff, sign, 0.0, gate.min_units)
        checks.append(
            Check(
                "quality",
                f"{metric} beats {baseline}",
                verdict(passed) if gate.must_beat_baselines else "skip",
                value=candidate - value,
                limit=f"CI low of candidate - {baseline} ({direction} is better) > 0",
                detail=f"{why}candidate {fmt(candidate)}, {baseline} {fmt(value)}; "
                f"{_ci_text(diff)}",
            )
        )
    return checks
