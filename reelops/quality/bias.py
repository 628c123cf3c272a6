"""Bias gate: the candidate's per-unit metrics, segment by segment, filtered per group.

Each segment's figure is computed by filtering the per-unit frame to that segment's
units (Evidently 0.7's GroupBy returned the overall value for every group, so it is
not used for judging). Segments smaller than ``min_units`` are reported, not judged;
segment columns absent from the data (``gender`` exists only on MovieLens), or
holding only ``unknown`` (MovieLens' CSV layout has no demographics), are skipped and
say so.
"""

from __future__ import annotations

import math

import pandas as pd

from reelops.quality.checks import Check, fmt, verdict
from reelops.quality.evidence import CANDIDATE, ReleaseEvidence
from reelops.specs import BiasCheck, BiasGate


def segment_table(
    units: pd.DataFrame, segment: str, metric: str, denominator: str | None = None
) -> pd.DataFrame:
    """Per value of ``segment``: units, mean ``metric`` and (with a denominator) the rate.

    Args:
        units: One row per unit (the candidate's rows of the per-unit frame).
        segment: The segment column.
        metric: The metric column.
        denominator: For rates, ``sum(metric) / sum(denominator)`` per segment.
    """
    rows = []
    for value in sorted(units[segment].dropna().unique(), key=str):
        part = units[units[segment] == value]
        row = {"segment": segment, "value": str(value), "units": int(part["unit"].nunique())}
        row["mean"] = float(part[metric].mean())
        if denominator:
            total = float(part[denominator].sum())
            row["rate"] = float(part[metric].sum()) / total if total > 0 else math.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["segment", "value", "units", "mean", "rate"])


def _not_judged(table: pd.DataFrame, min_units: int) -> str:
    small = table[table["units"] < min_units]
    if small.empty:
        return ""
    listed = ", ".join(f"{v} ({n})" for v, n in zip(small["value"], small["units"], strict=True))
    return f"; not judged (< {min_units} units): {listed}"


def _segment_check(
    check: BiasCheck, units: pd.DataFrame, segment: str, min_units: int
) -> tuple[Check, pd.DataFrame]:
    table = segment_table(units, segment, check.metric, check.denominator)
    judged = table[table["units"] >= min_units]
    column = "rate" if check.kind == "rate_multiple" else "mean"
    judged = judged[judged[column].notna()]
    name = f"{check.metric} {check.kind} by {segment}"
    if len(judged) < (2 if check.kind == "segment_ratio" else 1):
        needed = "two segments" if check.kind == "segment_ratio" else "one segment"
        return Check(
            "bias",
            name,
            "skip",
            detail=f"fewer than {needed} with >= {min_units} units" + _not_judged(table, min_units),
        ), table
    if check.kind == "segment_ratio":
        worst = judged.loc[judged["mean"].idxmin()]
        best = judged.loc[judged["mean"].idxmax()]
        if best["mean"] == worst["mean"]:
            ratio = 1.0
        elif best["mean"] > 0 and worst["mean"] >= 0:
            ratio = worst["mean"] / best["mean"]
        else:
            ratio = math.nan  # a ratio of signed figures means nothing: fail and say so
        passed = ratio >= check.min
        detail = (
            f"worst {segment}={worst['value']} {fmt(worst['mean'])} ({worst['units']} units), "
            f"best {segment}={best['value']} {fmt(best['mean'])} ({best['units']} units)"
        )
        if math.isnan(ratio):
            detail += f"; {check.metric} must be non-negative for a segment ratio"
        if not passed:
            detail = f"{segment}={worst['value']} is served worse: " + detail
        return Check(
            "bias",
            name,
            verdict(passed),
            value=ratio,
            limit=f">= {fmt(check.min)}",
            detail=detail + _not_judged(table, min_units),
        ), table
    # rate_multiple: no segment's rate above max x the overall rate.
    total = float(units[check.denominator].sum())
    overall = float(units[check.metric].sum()) / total if total > 0 else math.nan
    multiples = judged["rate"] / overall if overall > 0 else judged["rate"] * 0 + 1.0
    judged = judged.assign(multiple=multiples.fillna(1.0))
    worst = judged.loc[judged["multiple"].idxmax()]
    over = judged[judged["multiple"] > check.max]
    passed = over.empty
    detail = (
        f"overall {check.metric}/{check.denominator} {fmt(overall)}; highest {segment}="
        f"{worst['value']} {fmt(worst['rate'])} (x{fmt(worst['multiple'])}, {worst['units']} units)"
    )
    if not passed:
        named = ", ".join(
            f"{segment}={v} x{fmt(m)}" for v, m in zip(over["value"], over["multiple"], strict=True)
        )
        detail = f"above x{fmt(check.max)} the overall rate: {named}; " + detail
    return Check(
        "bias",
        name,
        verdict(passed),
        value=float(worst["multiple"]),
        limit=f"<= {fmt(check.max)}",
        detail=detail + _not_judged(table, min_units),
    ), table


def _known(column: pd.Series) -> bool:
    # Sources without demographics (MovieLens' CSV layout) fill them with "unknown":
    # a single segment nothing can be compared with, reported like an absent column.
    return bool((column.dropna().astype(str) != "unknown").any())


def bias_gate(evidence: ReleaseEvidence, gate: BiasGate) -> tuple[list[Check], pd.DataFrame]:
    """Run the spec's bias checks on the candidate's per-unit rows.

    Args:
        evidence: Its ``per_unit`` holds one row per label and unit with the metrics
            and the unit's segment columns.
        gate: Segments, the smallest judged segment, and the checks.

    Returns:
        The checks, and every segment's figures (one row per check, segment and value)
        for the report.
    """
    units = evidence.per_unit[evidence.per_unit["label"] == CANDIDATE]
    checks: list[Check] = []
    tables = []
    present = [s for s in gate.segments if s in units.columns and _known(units[s])]
    for segment in gate.segments:
        if segment not in present:
            why = (
                f"every unit's {segment!r} is unknown (the source has no such data)"
                if segment in units.columns
                else f"the data has no {segment!r} column"
            )
            checks.append(
                Check(
                    "bias",
                    f"segment {segment}",
                    "skip",
                    detail=f"{why}; segment columns present: {present or 'none'}",
                )
            )
    for check in gate.checks:
        needed = [check.metric] + ([check.denominator] if check.denominator else [])
        if absent := [c for c in needed if c not in units.columns]:
            checks.append(
                Check(
                    "bias",
                    f"{check.metric} {check.kind}",
                    "fail",
                    detail=f"per-unit evidence of {evidence.model} lacks {absent}; it has "
                    f"{list(units.columns)}",
                )
            )
            continue
        if check.kind in ("mean_max", "mean_min"):
            mean = float(units[check.metric].mean())
            bound = check.max if check.kind == "mean_max" else check.min
            passed = mean <= bound if check.kind == "mean_max" else mean >= bound
            checks.append(
                Check(
                    "bias",
                    f"{check.metric} {'<=' if check.kind == 'mean_max' else '>='} limit",
                    verdict(passed and math.isfinite(mean)),
                    value=mean,
                    limit=f"{'<=' if check.kind == 'mean_max' else '>='} {fmt(bound)}",
                    detail=f"mean over {units['unit'].nunique()} units",
                )
            )
            continue
        for segment in present:
            result, table = _segment_check(check, units, segment, gate.min_units)
            checks.append(result)
            tables.append(table.assign(check=result.name))
    segments = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    return checks, segments
