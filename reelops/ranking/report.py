"""The evaluation report: metrics per ranker and segment, paired comparisons, a readable table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from reelops.stats import paired_bootstrap


def metric_names(k: int) -> dict[str, str]:
    """Report name of each per-member metric of :func:`ranking_metrics` at cut-off k."""
    return {
        "ndcg": f"ndcg@{k}",
        "hit": f"hr@{k}",
        "recall": f"recall@{k}",
        "rr": "mrr",
        "long_tail": f"long_tail@{k}",
    }


@dataclass(eq=False)
class EvaluationReport:
    """What :func:`~reelops.ranking.full_ranking.evaluate_rankers` found.

    Attributes:
        k: Cut-off of the top-k metrics.
        protocol: The split protocol (``SplitProtocol.to_dict()``), if given.
        n_members: Members evaluated (those with a held-out title).
        n_titles: Catalogue size.
        overall: One row per ranker (index): ``n_members``, ``ndcg@k``, ``hr@k`` (share
            of members with a held-out title in their top k), ``recall@k`` (hits /
            ``min(k, held-out titles)``), ``mrr`` (over the full ranking),
            ``long_tail@k`` (share of recommended titles in the long tail),
            ``coverage@k`` (share of the catalogue recommended to anyone) and, when
            true tastes were given, ``genre_mix@k``.
        segments: The same per ranker, segment column and value.
        comparisons: Paired bootstraps over members of ``ndcg@k`` differences.
        per_member: ``ranker, member_key`` and each per-member metric.
        recommendations: Per ranker, the top k: ``member_key, title_id, rank``.
        seconds: Per ranker, wall time spent scoring and ranking.
    """

    k: int
    protocol: dict[str, Any] | None
    n_members: int
    n_titles: int
    overall: pd.DataFrame
    segments: pd.DataFrame
    comparisons: list[dict[str, Any]]
    per_member: pd.DataFrame
    recommendations: dict[str, pd.DataFrame] = field(repr=False)
    seconds: dict[str, float]

    def compare(self, a: str, b: str, n: int = 2000, seed: int = 0) -> dict[str, Any]:
        """Paired bootstrap over members of ``ndcg@k`` of ranker ``a`` minus ranker ``b``.

        Returns:
            ``a, b, metric, n_members, mean_difference, ci_low, ci_high`` (95 %
            percentile interval) and ``a_better`` (the interval is above zero).
        """
        metric = f"ndcg@{self.k}"
        table = self.per_member.pivot(index="member_key", columns="ranker", values=metric)
        for name in (a, b):
            if name not in table.columns:
                raise ValueError(f"no ranker {name!r} in this report; it has {list(table.columns)}")
        mean, low, high = paired_bootstrap(table[a].to_numpy(), table[b].to_numpy(), n, seed)
        return {
            "a": a,
            "b": b,
            "metric": metric,
            "n_members": len(table),
            "mean_difference": mean,
            "ci_low": low,
            "ci_high": high,
            "a_better": bool(low > 0),
        }

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-able values (no per-member rows or recommendations)."""
        overall = self.overall.reset_index().rename(columns={"index": "ranker"})
        return _plain(
            {
                "k": self.k,
                "protocol": self.protocol,
                "n_members": self.n_members,
                "n_titles": self.n_titles,
                "metrics": overall.to_dict(orient="records"),
                "segments": self.segments.to_dict(orient="records"),
                "comparisons": self.comparisons,
                "seconds": self.seconds,
            }
        )

    def table(self) -> str:
        """A readable summary: protocol, metrics per ranker, NDCG per segment, comparisons."""
        lines = []
        if self.protocol and self.protocol.get("kind") == "per-member hold-out":
            p = self.protocol
            lines.append(
                f"Per-member hold-out of each member's last {p['n_views']} new titles: "
                f"{p['n_train']} training interactions, {p['n_test']} held-out titles of "
                f"{p['n_test_members']} members ({p['n_train_only_members']} with too little "
                "history kept in training only)."
            )
        elif self.protocol:
            p = self.protocol
            lines.append(
                f"Temporal hold-out at {p['cutoff']}: {p['n_train']} training interactions, "
                f"{p['n_test']} held-out titles of {p['n_test_members']} members."
            )
        lines.append(
            f"Full ranking over every unwatched title ({self.n_titles} in the catalogue), "
            f"{self.n_members} members, k = {self.k}."
        )
        overall = self.overall.drop(columns="n_members").copy()
        overall.insert(len(overall.columns), "seconds", pd.Series(self.seconds))
        lines += ["", overall.to_string(float_format=lambda v: f"{v:.4f}")]
        metric = f"ndcg@{self.k}"
        if not self.segments.empty:
            keyed = self.segments.set_index(["segment", "value"])
            by_segment = keyed.pivot(columns="ranker", values=metric)
            by_segment = by_segment.reindex(index=keyed.index.unique())[list(self.overall.index)]
            by_segment.insert(0, "n_members", keyed.groupby(level=[0, 1])["n_members"].first())
            lines += [
                "",
                f"{metric} per segment",
                by_segment.to_string(float_format="{:.4f}".format),
            ]
        if self.comparisons:
            lines.append("")
        for c in self.comparisons:
            lines.append(
                f"{c['metric']} {c['a']} - {c['b']}: {c['mean_difference']:+.4f} "
                f"(95% CI {c['ci_low']:+.4f} .. {c['ci_high']:+.4f}, "
                f"paired bootstrap over {c['n_members']} members)"
            )
        return "\n".join(lines)


def _plain(value: Any) -> Any:
    """Numpy and pandas scalars to Python ones, NaN to None, recursively."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


__all__ = ["EvaluationReport", "metric_names"]
