"""What one evaluation run hands the release gates, whatever the model.

The ranker and the bitrate policy each evaluate the candidate, the current
production model (the champion, if any) and the baselines on one hold-out in one
run, and return a :class:`ReleaseEvidence`. The gates read only this, so they
know nothing of rankers or players.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from reelops.registry import Registry

CANDIDATE = "candidate"
CHAMPION = "champion"


@dataclass(frozen=True)
class Interval:
    """An estimate with its 95 % bootstrap interval and what it rests on.

    Attributes:
        value: The estimate.
        low: Lower bound of the interval.
        high: Upper bound.
        units: The units resampled (members).
        rows: The logged rows behind it (impressions).
    """

    value: float
    low: float
    high: float
    units: int
    rows: int = 0


@dataclass(frozen=True)
class OffPolicyFigures:
    """A bandit policy's candidate, champion and baselines estimated from one log.

    Attributes:
        estimator: The estimator of ``differences`` and ``segments`` (``dr``, ``ips``).
        estimates: Label -> estimator (``replay``, ``ips``, ``snips``, ``dr``) -> the
            label's value.
        differences: Label -> the candidate's value minus that label's, paired.
        segment_baseline: The label ``segments`` compare the candidate with.
        segments: Member column (``country``) -> segment value -> the candidate minus
            ``segment_baseline`` on that segment's impressions alone.
    """

    estimator: str
    estimates: dict[str, dict[str, Interval]]
    differences: dict[str, Interval]
    segment_baseline: str
    segments: dict[str, dict[str, Interval]] = field(default_factory=dict)


@dataclass(eq=False)
class ReleaseEvidence:
    """One hold-out evaluation of candidate, champion and baselines.

    Attributes:
        model: Registry name (``ranker``, ``bitrate``).
        candidate_version: The candidate's registry version.
        champion_version: The production version evaluated beside it, or None.
        metric: The primary metric (a column of ``per_unit``/``overall``).
        higher_is_better: Direction of ``metric``.
        baselines: Labels of the baseline rows in ``overall``/``per_unit``.
        overall: Index = label (``candidate``, ``champion``, baseline names); one
            column per metric, including ``metric``.
        per_unit: One row per label and evaluation unit (a member, a trace or a
            session): columns ``label``, ``unit``, each per-unit metric, and the
            segment columns of the unit (``country``, ``age_band``, ``connection``...).
            Paired bootstraps join on ``unit``; bias checks filter on segments.
        reference_features: Training-feature sample per label (``candidate``, and
            ``champion`` when there is one), the same columns: drift's input.
        predictions: Per label (``candidate``, ``champion``), the model's raw
            outputs on the hold-out, one value per row, same rows for both.
        protocol: How the hold-out was made, for the report.
        extra: Anything else worth reporting (e.g. prediction error).
        holdout_features: The candidate's features on hold-out rows (same columns as
            its reference sample), when the evaluator has them: the first model of a
            kind is drift-reported training vs hold-out, so its report is never empty.
        off_policy: A bandit policy's off-policy estimates (the ``off_policy`` gate's
            input), when the model is one.
    """

    model: str
    candidate_version: str
    champion_version: str | None
    metric: str
    higher_is_better: bool
    baselines: list[str]
    overall: pd.DataFrame
    per_unit: pd.DataFrame
    reference_features: dict[str, pd.DataFrame]
    predictions: dict[str, pd.Series]
    protocol: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    holdout_features: pd.DataFrame | None = None
    off_policy: OffPolicyFigures | None = None

    def __post_init__(self) -> None:
        labels = set(self.overall.index)
        expected = {CANDIDATE, *self.baselines} | ({CHAMPION} if self.champion_version else set())
        if missing := expected - labels:
            raise ValueError(f"evidence for {self.model}: overall lacks rows {sorted(missing)}")
        if self.metric not in self.overall.columns:
            raise ValueError(f"evidence for {self.model}: overall lacks metric {self.metric!r}")
        for column in ("label", "unit", self.metric):
            if column not in self.per_unit.columns:
                raise ValueError(f"evidence for {self.model}: per_unit lacks column {column!r}")


def version_folders(
    settings, model: str, candidate_version: str, champion_version: str | None
) -> dict[str, Path]:
    """The files folder of the candidate (and the champion, if any), by evidence label."""

    registry = Registry(settings)
    folders = {CANDIDATE: registry.files(model, candidate_version)}
    if champion_version:
        folders[CHAMPION] = registry.files(model, champion_version)
    return folders
