"""One saved candidate's hold-out, and every artwork policy judged off-policy on it.

The hold-out (the last third of the candidate's log, saved with it) judges the
candidate, the production policy (when there is one), uniform random, the best single
variant per title and the logging policy, each with replay, IPS, SNIPS and DR
(:mod:`reelops.artwork.ope`). The logging propensity of the artwork shown is the
world's logging rule, one over the title's variants as logged (``n_variants``; the
mart's ``propensity`` also holds the title's own chance of a slot). The logging
policy's value is the mean logged reward (every estimator reduces to it on-policy).

Intervals come from one bootstrap over *members* (a member's impressions go together,
so their correlation widens the interval as it should), the same resamples for every
policy and difference (paired). Each estimator's value is a ratio of per-impression
sums; per member the sums are added first, so the bootstrap of the ratio keeps every
impression's weight and the full-sample value is exactly the estimator's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reelops.artwork.candidates import Candidates, build_candidates
from reelops.artwork.evaluation import greedy
from reelops.artwork.features import FeatureSpace
from reelops.artwork.ope import ESTIMATORS, bootstrap_ratios, terms
from reelops.artwork.policy import ArtworkPolicy, _pairs
from reelops.artwork.saved import HOLDOUT_DIR, POLICY_DIR, load_catalogue, load_policy
from reelops.quality.evidence import CANDIDATE, CHAMPION, Interval, OffPolicyFigures
from reelops.specs import ModelSpec, OffPolicyGate, validate_section

UNIFORM = "uniform random"
BEST_SINGLE = "best single variant"
LOGGING = "logging"
BASELINES = [UNIFORM, BEST_SINGLE, LOGGING]
SEGMENT_COLUMNS = ["country", "age_band"]


def drift_columns(space: FeatureSpace) -> list[str]:
    """The design's columns drift is judged on: taste, evidence and slot, not the one-hot
    columns (theme, title genres, demographics) that only restate the catalogue and the
    member base."""
    one_hot = {f"theme_{t}" for t in space.themes}
    skip = ("title_", "country_", "age_band_")
    return [c for c in space.columns if c not in one_hot and not c.startswith(skip)]


def design_sample(policy, cands, rows: int, seed: int) -> pd.DataFrame:
    """Up to ``rows`` logged (member, variant) pairs of ``cands`` as the model sees them
    (the :func:`drift_columns`)."""
    pick = np.sort(np.random.default_rng(seed).permutation(len(cands.logged))[:rows])
    model = policy.model
    x = _pairs(model.space, cands, pick, cands.logged[pick], model.profiles, model.evidence)
    return pd.DataFrame(x, columns=model.space.columns)[drift_columns(model.space)]


class EvaluationSettings(BaseModel):
    """The spec's ``evaluation`` section."""

    model_config = ConfigDict(extra="forbid")

    bootstrap: int = Field(1000, ge=50)
    seed: int = 0


@dataclass(eq=False)
class Judged:
    """Every policy's figures on one hold-out.

    Attributes:
        figures: What the off-policy gate judges.
        per_unit: One row per label and member: the member's value by the gate's
            estimator (``good_play_rate``), ``impressions`` and segments (reports, plots).
        notes: Counts and the protocol, for the report.
    """

    figures: OffPolicyFigures
    per_unit: pd.DataFrame
    notes: dict[str, Any] = field(default_factory=dict)

    def overall(self) -> pd.DataFrame:
        """Index = label; each estimator's value, ``good_play_rate`` (the gate's) and rows."""
        rows = {
            label: {name: e.value for name, e in estimates.items()}
            for label, estimates in self.figures.estimates.items()
        }
        frame = pd.DataFrame.from_dict(rows, orient="index")[list(ESTIMATORS)]
        frame.insert(0, "good_play_rate", frame[self.figures.estimator])
        frame["impressions"] = self.notes["impressions"]
        return frame

    def metrics(self) -> dict[str, float]:
        """The registry's figures of the candidate."""
        candidate = self.figures.estimates[CANDIDATE]
        out = {"good_play_rate": candidate[self.figures.estimator].value}
        out |= {f"{name}_value": e.value for name, e in candidate.items()}
        for label, diff in self.figures.differences.items():
            key = label.replace(" ", "_")
            out |= {f"uplift_vs_{key}": diff.value, f"uplift_vs_{key}_ci_low": diff.low}
        worst = [d.value for values in self.figures.segments.values() for d in values.values()]
        if worst:
            out[f"worst_segment_uplift_vs_{self.figures.segment_baseline}"] = min(worst)
        out["holdout_new_title_impressions"] = float(self.notes["new_title_impressions"])
        out["holdout_impressions"] = float(self.notes["impressions"])
        out["holdout_members"] = float(self.notes["members"])
        return out

    def as_json(self) -> dict[str, Any]:
        def interval(i: Interval) -> dict[str, float]:
            return {"value": i.value, "low": i.low, "high": i.high, "members": i.units}

        f = self.figures
        return {
            "estimator": f.estimator,
            "estimates": {
                label: {name: interval(e) for name, e in est.items()}
                for label, est in f.estimates.items()
            },
            "differences": {label: interval(d) for label, d in f.differences.items()},
            "segments_versus": f.segment_baseline,
            "segments": {
                column: {value: interval(d) for value, d in values.items()}
                for column, values in f.segments.items()
            },
            "notes": self.notes,
        }


def _member_sums(codes: np.ndarray, members: int, series: np.ndarray) -> np.ndarray:
    """``(series, rows)`` -> ``(series, members)``: each member's sum of each series."""
    return np.stack([np.bincount(codes, weights=s, minlength=members) for s in series])


@dataclass(eq=False)
class HoldoutJudge:
    """A saved candidate's hold-out, laid out to judge any artwork policy on.

    Attributes:
        cands: The hold-out impressions with their titles' variants.
        reward: Logged reward (a good play) per impression.
        pscore: Logging propensity of the variant shown.
        profiles: Members' taste as of the hold-out's start.
        members: Member id -> segment columns.
        candidate: The candidate policy, scoring with ``profiles``.
        gate: The spec's off-policy gate (estimator, segments, baseline).
        evaluation: Bootstrap settings.
    """

    cands: Candidates
    reward: np.ndarray
    pscore: np.ndarray
    profiles: pd.DataFrame
    members: pd.DataFrame
    candidate: ArtworkPolicy
    gate: OffPolicyGate
    evaluation: EvaluationSettings

    @classmethod
    def load(cls, files: Path, spec: ModelSpec) -> HoldoutJudge:
        """The hold-out saved in a candidate's ``files`` folder."""
        files = Path(files)
        holdout = files / HOLDOUT_DIR
        impressions = pd.read_parquet(holdout / "impressions.parquet")
        catalogue = load_catalogue(files / POLICY_DIR)
        titles = catalogue.drop_duplicates("title_id")[["title_id", "genres"]]
        cands = build_candidates(impressions, catalogue, titles)
        profiles = pd.read_parquet(holdout / "profiles.parquet")
        judge = cls(
            cands=cands,
            reward=cands.impressions["reward"].to_numpy(dtype=np.float64),
            pscore=1.0 / cands.impressions["n_variants"].to_numpy(dtype=np.float64),
            profiles=profiles,
            members=pd.read_parquet(holdout / "members.parquet").set_index("member_id"),
            candidate=None,  # type: ignore[arg-type]
            gate=spec.gates.off_policy or OffPolicyGate(),
            evaluation=validate_section(spec, "evaluation", EvaluationSettings),
        )
        judge.candidate = judge.policy(files / POLICY_DIR)
        return judge

    def policy(self, folder: Path) -> ArtworkPolicy:
        """A saved policy scoring with the hold-out's taste (its own model and evidence)."""
        policy = load_policy(folder)
        policy.model.profiles = self.profiles
        return policy

    def policies(self, champion: ArtworkPolicy | None = None) -> dict[str, np.ndarray]:
        """Label -> ``(impressions, width)`` probabilities: candidate, champion, baselines
        (the logging policy is judged on-policy, from the logged rewards)."""
        cands = self.cands
        rows, cols = np.nonzero(cands.mask)
        good = np.full(cands.mask.shape, -np.inf)
        good[rows, cols] = self.candidate.model.evidence.of(
            cands.variant_ids[rows, cols], cands.themes[rows, cols]
        )[:, 1]
        out = {CANDIDATE: self.candidate.probabilities(cands)}
        if champion is not None:
            out[CHAMPION] = champion.probabilities(cands)
        out[UNIFORM] = cands.uniform()
        out[BEST_SINGLE] = greedy(good)
        return out

    def _terms(self, probs: np.ndarray | None, q_hat: np.ndarray) -> dict[str, tuple]:
        """Per-impression numerator and denominator of every estimator (logging: None)."""
        n = len(self.reward)
        if probs is None:  # the logging policy on its own log: the logged reward
            return {name: (self.reward, np.ones(n)) for name in ESTIMATORS}
        rows, logged = np.arange(n), self.cands.logged
        target = probs[rows, logged]
        extra = {
            "replay": {"match": probs.argmax(axis=1) == logged},
            "dr": {"q_logged": q_hat[rows, logged], "q_target": (probs * q_hat).sum(axis=1)},
        }
        return {
            name: terms(name, self.reward, self.pscore, target, **extra.get(name, {}))
            for name in ESTIMATORS
        }

    def figures(self, policies: dict[str, np.ndarray]) -> Judged:
        """Every policy's estimates, the candidate's differences and segments, paired."""
        q_hat = self.candidate.model.predict(self.cands)
        parts = {label: self._terms(probs, q_hat) for label, probs in policies.items()}
        parts[LOGGING] = self._terms(None, q_hat)
        ids = self.cands.impressions["member_id"].to_numpy(dtype=object)
        codes, uniques = pd.factorize(ids)
        m = len(uniques)
        boot = {"n_boot": self.evaluation.bootstrap, "seed": self.evaluation.seed}

        keys = [(label, name) for label in parts for name in ESTIMATORS]
        num = _member_sums(codes, m, np.array([parts[k[0]][k[1]][0] for k in keys]))
        den = _member_sums(codes, m, np.array([parts[k[0]][k[1]][1] for k in keys]))
        values, lows, highs = bootstrap_ratios(num, den, **boot)
        counts = {label: int(np.count_nonzero(parts[label]["replay"][1])) for label in parts}
        estimates: dict[str, dict[str, Interval]] = {}
        for i, (label, name) in enumerate(keys):
            rows = counts[label] if name == "replay" else len(self.reward)
            estimates.setdefault(label, {})[name] = Interval(
                float(values[i]), float(lows[i]), float(highs[i]), m, rows
            )

        est = self.gate.estimator
        c_num, c_den = parts[CANDIDATE][est]
        others = [label for label in parts if label != CANDIDATE]
        diff_num = _member_sums(codes, m, np.array([c_num - parts[o][est][0] for o in others]))
        diff_den = _member_sums(codes, m, np.array([c_den] * len(others)))
        values, lows, highs = bootstrap_ratios(diff_num, diff_den, **boot)
        n = len(self.reward)
        differences = {
            o: Interval(float(values[i]), float(lows[i]), float(highs[i]), m, n)
            for i, o in enumerate(others)
        }

        base = others.index(self.gate.baseline) if self.gate.baseline in others else None
        segments: dict[str, dict[str, Interval]] = {}
        member_rows = self.members.reindex(uniques)
        impressions_of = np.bincount(codes, minlength=m)
        for column in self.gate.segments:
            if base is None or column not in member_rows.columns:
                continue
            labels = member_rows[column].fillna("unknown").astype(str).to_numpy()
            for value in sorted(set(labels)):
                at = np.flatnonzero(labels == value)
                v, lo, hi = bootstrap_ratios(diff_num[base, at], diff_den[base, at], **boot)
                segments.setdefault(column, {})[value] = Interval(
                    float(v[0]), float(lo[0]), float(hi[0]), len(at), int(impressions_of[at].sum())
                )

        per_unit = []
        dr_at = {label: keys.index((label, est)) for label in parts}
        for label, i in dr_at.items():
            frame = pd.DataFrame(
                {
                    "label": label,
                    "unit": uniques,
                    "good_play_rate": num[i] / np.maximum(den[i], 1e-12),
                    "impressions": impressions_of,
                }
            )
            for column in SEGMENT_COLUMNS:
                if column in member_rows.columns:
                    frame[column] = member_rows[column].fillna("unknown").to_numpy()
            per_unit.append(frame)
        new = self.candidate.model.new_titles(self.cands)
        notes = {
            "impressions": int(n),
            "members": int(m),
            "titles": int(self.cands.impressions["title_id"].nunique()),
            "new_title_impressions": int(new.sum()),
            "logging_propensity": "1 / n_variants (uniform over the title's variants)",
            "bootstrap": f"{self.evaluation.bootstrap} resamples of members, paired",
            "estimator": est,
        }
        figures = OffPolicyFigures(
            estimator=est,
            estimates=estimates,
            differences=differences,
            segment_baseline=self.gate.baseline,
            segments=segments,
        )
        return Judged(figures, pd.concat(per_unit, ignore_index=True), notes)

    def design(self, policy: ArtworkPolicy, rows: int, seed: int = 0) -> pd.DataFrame:
        """Up to ``rows`` hold-out (member, shown variant) pairs as ``policy`` sees them."""
        return design_sample(policy, self.cands, rows, seed)

    def logged_predictions(self, policy: ArtworkPolicy) -> pd.Series:
        """The policy's reward model at the variant shown, per hold-out impression."""
        q = policy.model.predict(self.cands)
        return pd.Series(q[np.arange(len(q)), self.cands.logged], name="prediction")


def format_figures(judged: Judged) -> str:
    """The hold-out's figures as text: every policy and estimator, the differences, the
    worst segment of each column."""
    f, notes = judged.figures, judged.notes
    lines = [
        f"artwork policies judged on {notes['impressions']:,} impressions of "
        f"{notes['members']:,} members ({notes['new_title_impressions']:,} of titles never "
        f"shown in training); 95 % intervals over members",
        f"  {'policy':<22} " + "  ".join(f"{name:<26}" for name in ESTIMATORS),
    ]
    for label, estimates in f.estimates.items():
        cells = [f"{e.value:.4f} [{e.low:.4f}, {e.high:.4f}]" for e in estimates.values()]
        lines.append(f"  {label:<22} " + "  ".join(f"{c:<26}" for c in cells))
    for label, d in f.differences.items():
        lines.append(
            f"  candidate - {label}: {f.estimator} {d.value:+.4f} [{d.low:+.4f}, {d.high:+.4f}]"
        )
    for column, values in f.segments.items():
        value, d = min(values.items(), key=lambda item: item[1].value)
        lines.append(
            f"  worst {column} vs {f.segment_baseline}: {value} {d.value:+.4f} "
            f"[{d.low:+.4f}, {d.high:+.4f}] ({d.units} members)"
        )
    return "\n".join(lines)
