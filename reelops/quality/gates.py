"""Run every gate of a spec on one evidence, and report: JSON, a text table, Markdown."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from reelops.quality.bias import bias_gate
from reelops.quality.champion import quality_gate
from reelops.quality.checks import Check, fmt
from reelops.quality.drift import drift_gate
from reelops.quality.evidence import ReleaseEvidence
from reelops.quality.off_policy import off_policy_gate, segment_frame
from reelops.quality.plots import evidence_plots
from reelops.specs import ModelSpec

COLUMNS = ("gate", "check", "status", "value", "limit", "detail")
# Where the Airflow API server serves the reports (the ReelOps plugin mounts
# reelops.reports.app there), so links in gate notes open from the Airflow UI.
REPORTS_URL = "/reelops"


def report_url(model: str, version: str, name: str | None = None) -> str:
    """The reports page of a version, or one of its report files by name."""
    page = f"{REPORTS_URL}/models/{model}/{version}"
    return f"{page}/files/{name}" if name else page


@dataclass
class GateReport:
    """Every check of one candidate, and where its reports are.

    Attributes:
        model: Registry name.
        version: The candidate's version.
        champion_version: The production version it was judged against, if any.
        checks: Every check, in gate order (quality, drift, bias).
        reports: Report name -> path (Evidently HTML/JSON, the gate results).
        overall: The hold-out's overall figures per label, for the summary.
    """

    model: str
    version: str
    champion_version: str | None
    checks: list[Check]
    reports: dict[str, str] = field(default_factory=dict)
    overall: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not any(c.failed for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.failed]

    def failure_summary(self) -> str:
        """One line naming every failed check, for rejection reasons."""
        return "; ".join(f"{c.gate}: {c.name}: {c.detail}" for c in self.failures)

    def table(self) -> str:
        """The gate table as fixed-width text (task logs, ``reelops models show``)."""
        return render_table([c.to_dict() for c in self.checks])

    def markdown(self) -> str:
        """The gate summary people approve on: verdict, table with figures, report links."""
        return render_markdown(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "champion_version": self.champion_version,
            "passed": self.passed,
            "checks": [c.to_dict() for c in self.checks],
            "reports": dict(self.reports),
            "overall": self.overall,
        }

    def write(self, out_dir: Path) -> Path:
        """Write ``gates.json`` and ``gates.md`` into ``out_dir``; return the JSON path."""
        out_dir.mkdir(parents=True, exist_ok=True)
        self.reports["gates_json"] = str(out_dir / "gates.json")
        self.reports["gates_md"] = str(out_dir / "gates.md")
        (out_dir / "gates.json").write_text(json.dumps(self.to_dict(), indent=1, default=float))
        (out_dir / "gates.md").write_text(self.markdown())
        return out_dir / "gates.json"


def _cell(check: dict[str, Any], column: str) -> str:
    if column == "check":
        return check["name"]
    if column == "value":
        return fmt(check["value"])
    return str(check[column]).upper() if column == "status" else str(check[column])


def render_table(checks: list[dict[str, Any]], detail_width: int = 110) -> str:
    """Fixed-width table of checks (dicts as from :meth:`Check.to_dict`)."""
    rows = [[_cell(c, col) for col in COLUMNS] for c in checks]
    for row in rows:
        if len(row[-1]) > detail_width:
            row[-1] = row[-1][: detail_width - 3] + "..."
    widths = [max([len(col)] + [len(r[i]) for r in rows]) for i, col in enumerate(COLUMNS)]
    lines = ["  ".join(col.ljust(w) for col, w in zip(COLUMNS, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def render_markdown(report: dict[str, Any]) -> str:
    """Markdown summary of a gate report dict (:meth:`GateReport.to_dict`)."""
    verdict = "all gates pass" if report["passed"] else "gates FAILED"
    champion = report["champion_version"] or "none (first model)"
    lines = [
        f"### {report['model']}:{report['version']}: {verdict}",
        "",
        f"Champion: `{champion}`.",
        "",
        "| gate | check | status | value | limit | detail |",
        "|---|---|---|---|---|---|",
    ]
    icons = {"pass": "pass", "fail": "**FAIL**", "skip": "skip", "inconclusive": "**INCONCLUSIVE**"}
    for c in report["checks"]:
        detail = str(c["detail"]).replace("|", "\\|")
        lines.append(
            f"| {c['gate']} | {c['name']} | {icons[c['status']]} | {fmt(c['value'])} | "
            f"{c['limit']} | {detail} |"
        )
    if report.get("overall"):
        metrics = sorted({m for row in report["overall"].values() for m in row})[:6]
        lines += ["", "| hold-out | " + " | ".join(metrics) + " |"]
        lines.append("|---|" + "---|" * len(metrics))
        for label, row in report["overall"].items():
            lines.append(f"| {label} | " + " | ".join(fmt(row.get(m)) for m in metrics) + " |")
    if report.get("reports"):
        model, version = report["model"], report["version"]
        lines += ["", f"Reports ([all, with plots]({report_url(model, version)})):", ""]
        lines += [
            f"- [{name}]({report_url(model, version, name)}): `{path}`"
            for name, path in report["reports"].items()
        ]
    return "\n".join(lines) + "\n"


def evaluate_gates(spec: ModelSpec, evidence: ReleaseEvidence, out_dir: Path) -> GateReport:
    """Run the quality (or off-policy), drift and bias gates of ``spec``; write their reports.

    Args:
        spec: The model's spec (thresholds).
        evidence: One hold-out evaluation of candidate, champion and baselines.
        out_dir: The version's report folder (``<reports_dir>/<model>/<version>``).

    Returns:
        The report, already written to ``out_dir`` (``gates.json``, ``gates.md``,
        Evidently's HTML and JSON, ``bias_segments.csv``, the PNG plots of
        :mod:`reelops.quality.plots`).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    gates = spec.gates
    checks = quality_gate(evidence, gates.quality) if gates.quality is not None else []
    if gates.off_policy is not None:
        checks += off_policy_gate(evidence, gates.off_policy)
    drift_checks, reports = drift_gate(evidence, gates.drift, out_dir)
    bias_checks, segments = bias_gate(evidence, gates.bias) if gates.bias else ([], pd.DataFrame())
    if not segments.empty:
        segments.to_csv(out_dir / "bias_segments.csv", index=False)
        reports["bias_segments_csv"] = str(out_dir / "bias_segments.csv")
    if gates.off_policy is not None and not (table := segment_frame(evidence)).empty:
        table.to_csv(out_dir / "off_policy_segments.csv", index=False)
        reports["off_policy_segments_csv"] = str(out_dir / "off_policy_segments.csv")
    reports.update(evidence_plots(evidence, gates.segments, out_dir))
    overall = {
        str(label): {str(k): float(v) for k, v in row.items() if _is_number(v)}
        for label, row in evidence.overall.iterrows()
    }
    report = GateReport(
        model=evidence.model,
        version=evidence.candidate_version,
        champion_version=evidence.champion_version,
        checks=[*checks, *drift_checks, *bias_checks],
        reports=reports,
        overall=overall,
    )
    report.write(out_dir)
    return report


def _is_number(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
