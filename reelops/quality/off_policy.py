"""Off-policy gate: a bandit policy judged on logged impressions, not on a replayed hold-out.

The evaluator (for the artwork policy, :func:`reelops.artwork.release.evaluate_release`)
estimates every policy's value from the log with bootstrap intervals over members, and
hands them over as :class:`~reelops.quality.evidence.OffPolicyFigures`. The checks here
judge those figures against the spec's :class:`~reelops.specs.OffPolicyGate`:

* value vs the production policy (when there is one): the interval's lower bound of
  candidate minus champion above ``-tolerance`` (0: above zero);
* value vs each ``must_beat`` label (uniform random): lower bound above zero;
* estimator agreement: the two ``agreement`` estimators of the candidate's (and the
  champion's) value within ``agreement_tolerance`` of each other, else the check is
  ``inconclusive`` (the estimates cannot be trusted to decide, so nothing is released);
* no member segment worse off than ``baseline`` (the logging policy): per value of each
  segment column, estimated on that segment's impressions alone (filtered), the upper
  bound of candidate minus baseline not below zero and the estimate not below
  ``-segment_max_loss``. Segments with fewer than ``min_units`` members are reported,
  not judged; a column every member has ``unknown`` is skipped and says so.
"""

from __future__ import annotations

import math

import pandas as pd

from reelops.quality.checks import Check, fmt, verdict
from reelops.quality.evidence import CANDIDATE, CHAMPION, Interval, ReleaseEvidence
from reelops.specs import OffPolicyGate

GATE = "off_policy"


def _ci(diff: Interval) -> str:
    return (
        f"{fmt(diff.value, True)}, 95% CI [{fmt(diff.low, True)}, {fmt(diff.high, True)}] "
        f"over {diff.units} members ({diff.rows} impressions)"
    )


def _beats(name: str, diff: Interval | None, margin: float, gate: OffPolicyGate) -> Check:
    """The interval's lower bound of ``diff`` above ``margin``, with enough members."""
    limit = f"CI low of candidate - {name} > {fmt(margin, True)}"
    if diff is None:
        return Check(GATE, f"value vs {name}", "fail", limit=limit, detail="no estimate")
    if diff.units < gate.min_units:
        detail = f"too few members for a decision ({diff.units} < {gate.min_units}); {_ci(diff)}"
        return Check(GATE, f"value vs {name}", "fail", diff.value, limit, detail)
    passed = math.isfinite(diff.low) and diff.low > margin
    return Check(GATE, f"value vs {name}", verdict(passed), diff.value, limit, _ci(diff))


def _agreement(label: str, estimates: dict[str, Interval], gate: OffPolicyGate) -> Check:
    a, b = gate.agreement
    name = f"{a} and {b} agree on {label}"
    limit = f"|{a} - {b}| <= {fmt(gate.agreement_tolerance)} x the larger"
    if a not in estimates or b not in estimates:
        return Check(
            GATE, name, "fail", limit=limit, detail=f"estimates given: {sorted(estimates)}"
        )
    x, y = estimates[a].value, estimates[b].value
    scale = max(abs(x), abs(y))
    gap = abs(x - y) / scale if scale > 0 else 0.0
    detail = f"{a} {fmt(x)}, {b} {fmt(y)}: {gap:.1%} apart"
    if math.isfinite(gap) and gap <= gate.agreement_tolerance:
        return Check(GATE, name, "pass", gap, limit, detail)
    detail += " - the evidence is inconclusive: the estimators disagree"
    return Check(GATE, name, "inconclusive", gap, limit, detail)


def segment_frame(evidence: ReleaseEvidence) -> pd.DataFrame:
    """Every segment's difference with the baseline, one row each (the report's CSV)."""
    figures = evidence.off_policy
    rows = [
        {
            "segment": column,
            "value": value,
            "versus": figures.segment_baseline,
            "estimate": diff.value,
            "ci_low": diff.low,
            "ci_high": diff.high,
            "members": diff.units,
            "impressions": diff.rows,
        }
        for column, values in (figures.segments if figures else {}).items()
        for value, diff in values.items()
    ]
    columns = ["segment", "value", "versus", "estimate", "ci_low", "ci_high", "members"]
    return pd.DataFrame(rows, columns=[*columns, "impressions"])


def _segments(column: str, values: dict[str, Interval] | None, baseline: str, gate) -> Check:
    name = f"no {column} worse off than {baseline}"
    limit = f"CI high >= 0 and estimate >= {fmt(-gate.segment_max_loss, True)} per segment"
    known = {v: d for v, d in (values or {}).items() if v != "unknown"}
    if not known:
        why = "every member's" if values else "no member has a"
        return Check(GATE, name, "skip", detail=f"{why} {column!r} is unknown")
    judged = {v: d for v, d in known.items() if d.units >= gate.min_units}
    small = sorted(set(known) - set(judged))
    not_judged = f"; not judged (< {gate.min_units} members): {small}" if small else ""
    if not judged:
        return Check(GATE, name, "skip", detail=f"no segment large enough{not_judged}")
    worse = {v: d for v, d in judged.items() if d.high < 0 or d.value < -gate.segment_max_loss}
    worst_value, worst = min(judged.items(), key=lambda item: item[1].value)
    detail = f"worst {column}={worst_value}: {_ci(worst)}"
    if worse:
        named = ", ".join(f"{v} {fmt(d.value, True)}" for v, d in sorted(worse.items()))
        detail = f"worse off than {baseline}: {named}; " + detail
    return Check(GATE, name, verdict(not worse), worst.value, limit, detail + not_judged)


def off_policy_gate(evidence: ReleaseEvidence, gate: OffPolicyGate) -> list[Check]:
    """Judge a bandit candidate's off-policy figures (see the module doc).

    Returns:
        One check per comparison: champion (or a skip without one), each ``must_beat``
        label, estimator agreement on the candidate (and champion), one per segment column.
    """
    figures = evidence.off_policy
    if figures is None:
        return [
            Check(
                GATE,
                "off-policy figures",
                "fail",
                detail=f"the evaluator of {evidence.model} returned no off-policy figures",
            )
        ]
    if figures.estimator != gate.estimator:
        return [
            Check(
                GATE,
                f"{gate.estimator} estimates",
                "fail",
                detail=f"the evidence compares with {figures.estimator}, "
                f"the spec asks {gate.estimator}",
            )
        ]
    checks = []
    if evidence.champion_version:
        check = _beats(
            f"champion {evidence.champion_version}",
            figures.differences.get(CHAMPION),
            -gate.tolerance if gate.tolerance else 0.0,
            gate,
        )
        checks.append(check)
    else:
        checks.append(
            Check(
                GATE,
                "value vs champion",
                "skip",
                detail=f"no production {evidence.model} yet: the first must beat "
                f"{', '.join(gate.must_beat) or 'nothing'}",
            )
        )
    checks += [_beats(name, figures.differences.get(name), 0.0, gate) for name in gate.must_beat]
    labels = [CANDIDATE] + ([CHAMPION] if evidence.champion_version else [])
    checks += [_agreement(label, figures.estimates.get(label, {}), gate) for label in labels]
    if figures.segment_baseline != gate.baseline:
        detail = f"segments compare with {figures.segment_baseline}, the spec asks {gate.baseline}"
        return [*checks, Check(GATE, f"segments vs {gate.baseline}", "fail", detail=detail)]
    checks += [
        _segments(column, figures.segments.get(column), gate.baseline, gate)
        for column in gate.segments
    ]
    return checks
