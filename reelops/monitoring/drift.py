"""Drift per model, day and segment with Evidently: feature inputs and predictions.

Evidently 0.7's GroupBy does not work, so a segment is a filter: the whole population
first, then each country with at least :data:`MIN_SEGMENT_ROWS` rows on both sides,
each its own Evidently report (HTML and JSON beside the day's summary for the whole
population and for every segment that drifted). Evidently
decides each column's drift with its defaults (a statistical test below 1,000 rows, a
normed Wasserstein distance or Jensen-Shannon distance above); a check fails when a
column drifted in the whole population, or in a segment by a score beyond
:data:`SEGMENT_MARGIN` times Evidently's threshold (small segments are noisy: without
the margin, eight countries times several columns a day raise false alarms).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from reelops.quality.drift import column_drift

ALL = "all"
MIN_SEGMENT_ROWS = 30
SEGMENT_MARGIN = 3.0


@dataclass(frozen=True)
class DriftFinding:
    """Drift of one frame pair, per segment."""

    name: str
    segments: dict[str, dict] = field(default_factory=dict)  # segment -> column_drift result
    reports: dict[str, str] = field(default_factory=dict)  # segment -> HTML path
    skipped: list[str] = field(default_factory=list)

    def drifted(self) -> dict[str, list[str]]:
        """Segment -> the columns judged drifted there (whole population, or beyond the
        margin in a segment)."""
        out = {}
        for segment, found in self.segments.items():
            columns = []
            for column, c in found["columns"].items():
                if segment == ALL:
                    hit = c["drifted"]
                elif "p_value" in c["method"]:
                    hit = c["score"] < c["threshold"] / SEGMENT_MARGIN**4
                else:
                    hit = c["score"] >= c["threshold"] * SEGMENT_MARGIN
                if hit:
                    columns.append(column)
            if columns:
                out[segment] = columns
        return out

    def features(self) -> list[str]:
        return sorted({c for columns in self.drifted().values() for c in columns})


def segment_drift(
    name: str,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: list[str],
    out_dir: Path,
    segment: str | None = "country",
) -> DriftFinding:
    """Evidently's data drift of ``columns`` on the whole frames and per segment."""
    finding = DriftFinding(name)
    if reference.empty or current.empty:
        finding.skipped.append(
            f"{ALL}: no rows (reference {len(reference)}, current {len(current)})"
        )
        return finding
    pairs = [(ALL, reference, current)]
    if segment is not None:
        for value in sorted(set(current[segment]) & set(reference[segment])):
            ref, cur = reference[reference[segment] == value], current[current[segment] == value]
            if min(len(ref), len(cur)) >= MIN_SEGMENT_ROWS:
                pairs.append((str(value), ref, cur))
            else:
                finding.skipped.append(f"{value}: {len(cur)} rows today, {len(ref)} in reference")
    for label, ref, cur in pairs:
        usable = [c for c in columns if ref[c].notna().any() and cur[c].notna().any()]
        frames = (ref[usable].reset_index(drop=True), cur[usable].reset_index(drop=True))
        found = column_drift(*frames, 0.5, None, None)
        finding.segments[label] = found
        if label == ALL or label in finding.drifted():
            html = out_dir / f"{name}_{label}.html"
            column_drift(*frames, 0.5, html, out_dir / f"{name}_{label}.json")
            finding.reports[label] = str(html)
    return finding
