"""The artwork policy: an XGBoost reward model of a good play and an exploration rule.

The reward model scores every variant of a title for a member (features:
:mod:`reelops.artwork.features`). The exploration rule, chosen in ``models/artwork.yaml``,
turns scores into the exact probability of each choice:

* ``epsilon_greedy``: ``1 - epsilon`` on the best-scored variant, ``epsilon`` spread
  uniformly over all of the title's variants;
* ``bootstrap_thompson``: ``bags`` models, each fitted on a bootstrap of the log; a
  choice draws one bag uniformly and takes its best variant, so a variant's
  probability is the share of bags that rank it first, mixed with ``epsilon`` uniform.

Either way ``epsilon > 0`` (the spec refuses 0), so no variant, a never-shown one
included, is ever served with probability zero, and every logged choice can be
re-weighted by later off-policy evaluation.

A title with no logged impression at all (a new title) gives the reward model nothing
of its own to tell its variants apart, and its scores there differ by little more than
noise; its variants are ranked by theme-level evidence instead: the member's
personalised lift of each variant's theme, learned from every other title's
impressions (:meth:`~reelops.artwork.features.Evidence.member_theme`), ties broken by
the theme's good-play rate. The exploration rule then applies as everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reelops.artwork.candidates import Candidates
from reelops.artwork.features import (
    GENRE_LIST,
    Evidence,
    FeatureSpace,
    evidence,
    member_profiles,
)
from reelops.artwork.reward import good_play
from reelops.specs import MODELS_DIR, ModelSpec, SpecError, load_spec


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Exploration(_Strict):
    rule: Literal["epsilon_greedy", "bootstrap_thompson"]
    epsilon: float = Field(gt=0, le=1)
    bags: int = Field(1, ge=1, le=50)


class ArtworkSpec(_Strict):
    """``models/artwork.yaml``: reward, reward model and exploration of the artwork policy."""

    name: str = "artwork"
    description: str = ""
    feature_service: str = "artwork_v1"
    good_play_completion: float = Field(gt=0, le=1)
    params: dict[str, Any]
    num_boost_round: int = Field(gt=0)
    exploration: Exploration
    evidence_folds: int = Field(2, ge=2)
    unseen_share: float = Field(0.25, ge=0, lt=1)
    reference_rows: int = Field(5000, gt=0)  # training design rows kept for drift checks
    seed: int = 0


def _problems(error: ValidationError, prefix: str = "") -> str:
    return "; ".join(
        f"{prefix}{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
        for e in error.errors()
    )


def artwork_spec(spec: ModelSpec) -> ArtworkSpec:
    """The policy's settings in a release spec: its ``params`` and ``training`` section.

    Raises:
        SpecError: naming the spec file and the field (``training.exploration.epsilon``).
    """
    raw = {
        "name": spec.name,
        "description": spec.description,
        "feature_service": spec.feature_service,
        "params": spec.params,
        **spec.training,
    }
    try:
        return ArtworkSpec.model_validate(raw)
    except ValidationError as error:
        raise SpecError(f"{spec.path or spec.name}: {_problems(error, 'training.')}") from error


def load_artwork_spec(path: str | Path | None = None) -> ArtworkSpec:
    """Read ``models/artwork.yaml`` (or ``path``).

    The file is a release spec (:func:`reelops.specs.load_spec`: evaluator, gates, the
    policy's settings under ``training``); a file of the policy's settings alone (the
    fields of :class:`ArtworkSpec` at its top) is read too.

    Raises:
        SpecError: missing, not YAML or invalid, naming the file and the field.
    """
    path = Path(path) if path is not None else MODELS_DIR / "artwork.yaml"
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise SpecError(f"{path}: cannot read the artwork spec ({error})") from error
    if isinstance(raw, dict) and "gates" in raw:
        return artwork_spec(load_spec(path))
    try:
        return ArtworkSpec.model_validate(raw)
    except ValidationError as error:
        raise SpecError(f"{path}: {_problems(error)}") from error


@dataclass(frozen=True)
class TrainingData:
    """Raw frames the policy learns from (the world's or the warehouse's)."""

    impressions: pd.DataFrame
    viewing_events: pd.DataFrame
    titles: pd.DataFrame
    members: pd.DataFrame
    variants: pd.DataFrame


@dataclass(eq=False)
class RewardModel:
    """One or more boosters predicting ``target`` for (member, variant) pairs."""

    boosters: list
    space: FeatureSpace
    profiles: pd.DataFrame
    evidence: Evidence
    target: str

    def predict_bags(self, cands: Candidates) -> np.ndarray:
        """``(bags, impressions, width)`` predicted reward; -inf where no variant is."""
        import xgboost as xgb

        rows, cols = np.nonzero(cands.mask)
        x = _pairs(self.space, cands, rows, cols, self.profiles, self.evidence)
        out = np.full((len(self.boosters), *cands.mask.shape), -np.inf)
        matrix = xgb.DMatrix(x, feature_names=self.space.columns)
        for b, booster in enumerate(self.boosters):
            out[b, rows, cols] = booster.predict(matrix)
        return out

    def predict(self, cands: Candidates) -> np.ndarray:
        """``(impressions, width)`` the bags' mean prediction; 0 where no variant is."""
        bags = self.predict_bags(cands)
        return np.where(cands.mask, np.where(np.isfinite(bags), bags, 0).mean(axis=0), 0.0)

    def new_titles(self, cands: Candidates) -> np.ndarray:
        """Per impression: its title has no variant in the evidence (never shown)."""
        seen = np.isin(cands.variant_ids, self.evidence.variant.index.to_numpy()) & cands.mask
        return ~seen.any(axis=1)

    def theme_scores(self, cands: Candidates) -> np.ndarray:
        """``(impressions, width)`` theme-level evidence of each variant for its member:
        the member's play lift of the variant's theme, plus a tie-break by the theme's
        good-play rate (members without views have no lift); -inf where no variant is."""
        rows, cols = np.nonzero(cands.mask)
        taste = theme_taste(self.profiles, cands.impressions["member_id"].to_numpy()[rows])
        themes = cands.themes[rows, cols]
        out = np.full(cands.mask.shape, -np.inf)
        out[rows, cols] = theme_evidence(self.evidence, taste, themes)
        return out


def theme_taste(profiles: pd.DataFrame, member_ids: np.ndarray) -> np.ndarray:
    """``(rows, genres)`` the members' genre shares (zeros for a member without views)."""
    columns = [f"taste_{g}" for g in GENRE_LIST]
    return profiles.reindex(member_ids)[columns].fillna(0.0).to_numpy()


THEME_TIE_BREAK = 1e-6  # weight of the theme's good-play rate beside the member's lift


def theme_evidence(ev: Evidence, taste: np.ndarray, themes: np.ndarray) -> np.ndarray:
    """A new title's variant score: the member's lift of its theme, ties broken by the
    theme's good-play rate over every title."""
    good = ev.theme["good_rate"].reindex(themes).fillna(0.0).to_numpy()
    return ev.member_theme(taste, themes) + THEME_TIE_BREAK * good


def _pairs(space, cands, rows, cols, profiles, ev, hide=None) -> np.ndarray:
    imp = cands.impressions
    variant_ids = cands.variant_ids[rows, cols]
    if hide is not None:  # as if never shown: the variant's evidence is its theme's
        variant_ids = np.where(hide, "", variant_ids)
    return space.design(
        imp["member_id"].to_numpy()[rows],
        variant_ids,
        cands.themes[rows, cols],
        cands.title_genres[rows],
        imp["row_index"].to_numpy()[rows],
        imp["position"].to_numpy()[rows],
        profiles,
        ev,
    )


def label(impressions: pd.DataFrame, spec: ArtworkSpec) -> pd.DataFrame:
    """The impressions with ``reward`` (a good play) and ``theme`` columns."""
    return impressions.assign(
        reward=good_play(
            impressions["played"], impressions["completion"], spec.good_play_completion
        )
    )


def fit_reward_model(
    data: TrainingData,
    cands: Candidates,
    spec: ArtworkSpec,
    *,
    history_before,
    target: str = "reward",
    bags: int = 1,
) -> RewardModel:
    """Fit the reward model on the logged impressions of ``cands``.

    Args:
        data: The raw frames (views give member taste before ``history_before``).
        cands: The training impressions laid out with their variants.
        spec: The artwork spec (XGBoost parameters, good-play threshold, seed).
        history_before: Member profiles use the views before this time only, so
            no impression's own play leaks into its features.
        target: ``reward`` (a good play) or ``played`` (a click: the naive policy).
        bags: 1 for one model on the whole log; more for bootstrap bags.
    """
    import xgboost as xgb

    log = label(cands.impressions, spec)
    log["theme"] = cands.themes[np.arange(len(log)), cands.logged]
    profiles = member_profiles(data.viewing_events, data.titles, data.members, history_before)
    space = FeatureSpace(
        themes=tuple(sorted(data.variants["theme"].unique())),
        profile_columns=tuple(c for c in profiles.columns if c != "log_views"),
    )
    # Evidence features of training rows come from the other folds (by member), so a row's
    # own outcome never sits in its own features; a share of rows sees its variant as never
    # shown, so the model learns what theme-level evidence says about a new title's artwork.
    rng = np.random.default_rng(spec.seed)
    fold = pd.util.hash_array(log["member_id"].to_numpy(dtype=object)) % spec.evidence_folds
    hide = rng.random(len(log)) < spec.unseen_share
    x = np.empty((len(log), len(space.columns)), dtype=np.float32)
    rows = np.arange(len(log))
    for f in range(spec.evidence_folds):
        inside = fold == f
        ev = evidence(log[~inside], profiles)
        x[inside] = _pairs(
            space, cands, rows[inside], cands.logged[inside], profiles, ev, hide[inside]
        )
    y = log[target].to_numpy(dtype=np.float32)
    boosters = []
    for b in range(bags):
        weight = rng.poisson(1.0, len(y)).astype(np.float32) if bags > 1 else None
        matrix = xgb.DMatrix(x, label=y, weight=weight, feature_names=space.columns)
        params = {**spec.params, "seed": spec.seed + b, "nthread": 1}
        boosters.append(xgb.train(params, matrix, num_boost_round=spec.num_boost_round))
    return RewardModel(boosters, space, profiles, evidence(log, profiles), target)


@dataclass(eq=False)
class ArtworkPolicy:
    """A reward model plus an exploration rule: exact choice probabilities and choices."""

    model: RewardModel
    exploration: Exploration

    def probabilities(self, cands: Candidates) -> np.ndarray:
        """``(impressions, width)``: the exact probability of serving each variant."""
        scores = self.model.predict_bags(cands)
        new = self.model.new_titles(cands)
        if new.any():  # no impression of the title: every bag ranks by theme evidence
            scores[:, new] = self.model.theme_scores(cands)[new]
        width = cands.mask.shape[1]
        # A bag's choice: its best variant (first on ties); a probability per bag share.
        best = np.eye(width)[scores.argmax(axis=2)].mean(axis=0)
        eps = self.exploration.epsilon
        return (1 - eps) * best + eps * cands.uniform()

    def choose(self, cands: Candidates, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Sample a variant column for each impression; returns it and its propensity."""
        return sample(self.probabilities(cands), rng)


def sample(probs: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One column per row drawn from ``probs``; the column and its probability."""
    cumulative = probs.cumsum(axis=1)
    u = rng.random((len(probs), 1)) * cumulative[:, -1:]
    choice = np.minimum((u >= cumulative).sum(axis=1), probs.shape[1] - 1)
    return choice, probs[np.arange(len(probs)), choice]


def train_policy(
    data: TrainingData,
    cands: Candidates,
    spec: ArtworkSpec,
    *,
    history_before,
    target: str = "reward",
) -> ArtworkPolicy:
    """The spec's policy trained on ``cands`` (``target="played"``: the click-optimised one)."""
    bags = spec.exploration.bags if spec.exploration.rule == "bootstrap_thompson" else 1
    model = fit_reward_model(
        data, cands, spec, history_before=history_before, target=target, bags=bags
    )
    return ArtworkPolicy(model, spec.exploration)
