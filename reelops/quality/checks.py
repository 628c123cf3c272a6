"""One gate check's outcome: the unit every gate returns and every report prints."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["pass", "fail", "skip", "inconclusive"]


@dataclass(frozen=True)
class Check:
    """One judged (or deliberately not judged) statement about a candidate.

    Attributes:
        gate: ``quality``, ``drift`` or ``bias``.
        name: What was checked, e.g. ``ndcg@10 vs champion``.
        status: ``pass``, ``fail``, ``skip`` (reported, not judged: no champion,
            a segment column absent from the data, too few units...), or
            ``inconclusive`` (the evidence cannot decide, e.g. two estimators of one
            value disagree: it blocks a release as a failure does).
        value: The figure judged (None when there is none).
        limit: The bound it was held to, as people read it (``>= 0.8``).
        detail: The figures behind the verdict; for failures, what failed and where.
    """

    gate: str
    name: str
    status: Status
    value: float | None = None
    limit: str = ""
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status in ("fail", "inconclusive")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if self.value is not None and not math.isfinite(self.value):
            out["value"] = None
        return out


def verdict(passed: bool) -> Status:
    return "pass" if passed else "fail"


def fmt(value: float | None, signed: bool = False) -> str:
    """A figure for tables: four significant digits, a sign when asked."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:+.4g}" if signed else f"{value:.4g}"
