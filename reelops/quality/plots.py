"""Plots of one release evidence, written beside the gate report for people to look at.

Three PNG figures per candidate, all from :class:`ReleaseEvidence` alone:

* ``metric_distribution.png``: the primary metric per unit (member, trace) for every
  label: the candidate, the champion and each baseline (for the bitrate policy these
  are the per-trace QoE distributions);
* ``paired_differences.png``: candidate minus each other label, paired over units,
  with the 95 % paired-bootstrap interval the "beats" rules read;
* ``metric_by_segment.png``: the candidate's metric per segment value with a 95 %
  bootstrap interval over the segment's units (the bias gate's figures).

Matplotlib runs headless (Agg); nothing here draws on screen.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reelops.quality.evidence import CANDIDATE, ReleaseEvidence
from reelops.stats import paired_bootstrap

MAX_SEGMENT_VALUES = 12  # more bars than this are unreadable; the CSV has them all


def pyplot():
    """Matplotlib's pyplot on the headless Agg backend, imported on first use."""
    # Imported on first use: matplotlib costs a second at import, and gates without
    # plots (tests of the checks alone) should not pay it.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _labels(evidence: ReleaseEvidence) -> list[str]:
    present = set(evidence.per_unit["label"].unique())
    order = [CANDIDATE, "champion", *evidence.baselines]
    return [label for label in order if label in present]


def _metric_by_label(evidence: ReleaseEvidence) -> pd.DataFrame:
    """Units x labels of the primary metric, on the units every label was scored on."""
    wide = evidence.per_unit.pivot_table(
        index="unit", columns="label", values=evidence.metric, aggfunc="mean"
    )
    return wide[_labels(evidence)].dropna()


def _bootstrap_mean(values: np.ndarray, n: int = 1000, seed: int = 0) -> tuple[float, float]:
    picks = np.random.default_rng(seed).integers(0, len(values), size=(n, len(values)))
    low, high = np.percentile(values[picks].mean(axis=1), [2.5, 97.5])
    return float(low), float(high)


def metric_distribution(evidence: ReleaseEvidence, path: Path) -> Path:
    """Box plot of the primary metric per unit, one box per label."""
    plt = pyplot()
    wide = _metric_by_label(evidence)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * wide.shape[1] + 2), 4))
    ax.boxplot([wide[c].to_numpy() for c in wide.columns], showmeans=True)
    ax.set_xticks(range(1, wide.shape[1] + 1), list(wide.columns), rotation=20, ha="right")
    ax.set_ylabel(evidence.metric)
    ax.set_title(
        f"{evidence.model}:{evidence.candidate_version}\n{evidence.metric} per unit "
        f"({len(wide)} units; triangle = mean)",
        fontsize=9,
    )
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def paired_differences(evidence: ReleaseEvidence, path: Path, n: int = 2000) -> pd.DataFrame:
    """Forest plot of candidate minus every other label, with 95 % paired-bootstrap CIs.

    Returns:
        One row per compared label: ``label``, ``mean``, ``low``, ``high``, ``units``.
    """
    plt = pyplot()
    wide = _metric_by_label(evidence)
    others = [c for c in wide.columns if c != CANDIDATE]
    rows = []
    for label in others:
        mean, low, high = paired_bootstrap(wide[CANDIDATE], wide[label], n=n)
        rows.append({"label": label, "mean": mean, "low": low, "high": high, "units": len(wide)})
    table = pd.DataFrame(rows, columns=["label", "mean", "low", "high", "units"])
    fig, ax = plt.subplots(figsize=(7, 1.0 + 0.5 * max(len(table), 1)))
    for y, row in enumerate(table.itertuples()):
        wins = row.low > 0 if evidence.higher_is_better else row.high < 0
        ax.errorbar(
            row.mean,
            y,
            xerr=[[row.mean - row.low], [row.high - row.mean]],
            fmt="o",
            color="tab:green" if wins else "tab:gray",
            capsize=4,
        )
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(table)), [f"vs {label}" for label in table["label"]])
    ax.invert_yaxis()
    ax.set_xlabel(f"candidate - other, mean {evidence.metric} (95 % paired bootstrap)")
    ax.set_title("green: interval clear of zero in the candidate's favour")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return table


def metric_by_segment(evidence: ReleaseEvidence, segments: list[str], path: Path) -> Path | None:
    """Bars of the candidate's metric per segment value, with bootstrap 95 % intervals.

    Returns:
        The path, or None when the per-unit frame has none of ``segments``.
    """
    units = evidence.per_unit[evidence.per_unit["label"] == CANDIDATE]
    present = [s for s in segments if s in units.columns and units[s].notna().any()]
    if not present:
        return None
    plt = pyplot()
    fig, axes = plt.subplots(1, len(present), figsize=(4.2 * len(present), 3.8), squeeze=False)
    overall = float(units[evidence.metric].mean())
    for ax, segment in zip(axes[0], present, strict=True):
        groups = units.groupby(units[segment].astype(str))[evidence.metric]
        sizes = groups.size().sort_values(ascending=False).head(MAX_SEGMENT_VALUES)
        values = sorted(sizes.index)
        means, lows, highs = [], [], []
        for value in values:
            scores = groups.get_group(value).to_numpy(dtype=float)
            low, high = _bootstrap_mean(scores)
            means.append(scores.mean())
            lows.append(scores.mean() - low)
            highs.append(high - scores.mean())
        ax.bar(range(len(values)), means, yerr=[lows, highs], capsize=3, color="tab:blue")
        ax.axhline(overall, color="black", lw=0.8, ls="--")
        ax.set_xticks(
            range(len(values)), [f"{v}\n(n={sizes[v]})" for v in values], rotation=30, fontsize=7
        )
        ax.set_title(f"{evidence.metric} by {segment}")
    fig.suptitle(f"{evidence.model}:{evidence.candidate_version} (dashed: all units)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def evidence_plots(evidence: ReleaseEvidence, segments: list[str], out_dir: Path) -> dict[str, str]:
    """Write every plot of ``evidence`` into ``out_dir``; return report name -> path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    reports = {
        "metric_distribution_png": str(
            metric_distribution(evidence, out_dir / "metric_distribution.png")
        )
    }
    if len(_labels(evidence)) > 1:
        table = paired_differences(evidence, out_dir / "paired_differences.png")
        table.to_csv(out_dir / "paired_differences.csv", index=False)
        reports["paired_differences_png"] = str(out_dir / "paired_differences.png")
        reports["paired_differences_csv"] = str(out_dir / "paired_differences.csv")
    if by_segment := metric_by_segment(evidence, segments, out_dir / "metric_by_segment.png"):
        reports["metric_by_segment_png"] = str(by_segment)
    return reports
