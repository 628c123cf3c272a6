"""Model specs: one YAML file per model in ``models/``, validated on load.

A spec holds what a model's training DAG and release gates read: the feature
service, hyperparameters and search grid, the evaluation protocol, the gate
thresholds and the approval policy. The common parts are typed here; each model
validates its own ``training`` and ``evaluation`` sections with its own schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reelops.config import PROJECT_ROOT

MODELS_DIR = PROJECT_ROOT / "models"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QualityGate(_Strict):
    """Champion/challenger: the candidate against production and the baselines.

    Attributes:
        metric: The primary metric (a column of the evaluation), e.g. ``ndcg@10``.
        higher_is_better: Direction of ``metric``.
        tolerance: How much worse than the champion the candidate may be, in the
            metric's units (0 means "not worse"): the paired CI's lower bound of
            candidate minus champion must be above ``-tolerance`` (non-inferiority).
        must_beat_baselines: The candidate must beat every baseline's ``metric``.
        min_units: Paired units (members, traces) a comparison needs for a decision;
            fewer fail the check as undecided.
    """

    metric: str
    higher_is_better: bool = True
    tolerance: float = Field(0.0, ge=0)
    must_beat_baselines: bool = True
    min_units: int = Field(30, ge=1)


class DriftGate(_Strict):
    """Evidently data drift of training features, and prediction drift on the hold-out.

    Attributes:
        max_drifted_share: Largest allowed share of drifted features.
        prediction_drift: Also fail when the predictions on the hold-out drifted.
        sample_rows: Rows of each side given to Evidently (a seeded sample).
    """

    max_drifted_share: float = Field(0.3, ge=0, le=1)
    prediction_drift: bool = True
    sample_rows: int = Field(5000, gt=0)


class BiasCheck(_Strict):
    """One bias check over the per-unit evaluation frame.

    Kinds:
        ``segment_ratio``: worst segment's mean ``metric`` / best segment's >= ``min``.
        ``mean_max``: overall mean ``metric`` <= ``max`` (e.g. genre-calibration KL).
        ``mean_min``: overall mean ``metric`` >= ``min`` (e.g. long-tail share).
        ``rate_multiple``: per segment, sum(``metric``) / sum(``denominator``) <=
            ``max`` times the overall rate (e.g. rebuffer seconds / play seconds).
    """

    kind: Literal["segment_ratio", "mean_max", "mean_min", "rate_multiple"]
    metric: str
    denominator: str | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> BiasCheck:
        bound = {"segment_ratio": "min", "mean_min": "min"}.get(self.kind, "max")
        if getattr(self, bound) is None:
            raise ValueError(f"bias check {self.kind!r} on {self.metric!r} needs {bound!r}")
        if self.kind == "rate_multiple" and not self.denominator:
            raise ValueError(f"bias check rate_multiple on {self.metric!r} needs 'denominator'")
        return self


class BiasGate(_Strict):
    """Per-segment checks, computed by filtering the per-unit frame by segment.

    Attributes:
        segments: Segment columns (those absent from a data set are skipped and
            reported as such, e.g. ``gender`` exists only on MovieLens data).
        min_units: Segments with fewer units are reported but not judged.
        checks: The checks.
    """

    segments: list[str]
    min_units: int = Field(20, gt=0)
    checks: list[BiasCheck]


class ReleasePolicy(_Strict):
    """How a version that passed its gates reaches members when a production one serves.

    Attributes:
        mode: ``promote`` (it replaces production at once), ``canary`` (it serves
            ``canary_share`` of members beside production until the live outcomes decide)
            or ``shadow`` (it is scored and logged for that share, never shown). The first
            version of a model is always promoted: there is nothing to run beside.
        canary_share: Share of members (by a stable hash of the member key) a canary
            serves.
        shadow_share: Share of members a shadow is scored for (each costs a second
            scoring, off the request's path).
        metric: The live outcome compared: ``ndcg@K`` or ``hit_rate@K`` of what was
            served against what the member played next (recommendations), or
            ``qoe_lin`` per chunk of the member's sessions (bitrate).
        margin: Non-inferiority margin in the metric's units: the canary is promoted
            when the CI's lower bound of canary minus production is at least ``-margin``.
            It is rolled back when the upper bound is below zero.
        min_members: Members each arm needs before any decision.
        confidence: Two-sided confidence of the whole test; split evenly over
            ``max_looks`` looks (Bonferroni), so deciding every day does not inflate
            false promotions or rollbacks.
        max_looks: Decisions taken on one canary; the last one rolls it back unless it
            was shown non-inferior (an undecided canary does not stay forever).
        bootstrap: Bootstrap resamples.
        seed: Seed of the resampling.
    """

    mode: Literal["promote", "canary", "shadow"] = "promote"
    canary_share: float = Field(0.1, gt=0, le=0.5)
    shadow_share: float = Field(1.0, gt=0, le=1)
    metric: str = Field("ndcg@10", pattern=r"^((ndcg|hit_rate)@[1-9][0-9]?|qoe_lin)$")
    margin: float = Field(0.0, ge=0)
    min_members: int = Field(50, ge=2)
    confidence: float = Field(0.95, gt=0.5, lt=1)
    max_looks: int = Field(7, ge=1)
    bootstrap: int = Field(2000, ge=100)
    seed: int = 0

    @property
    def look_confidence(self) -> float:
        """The confidence of each look's interval (Bonferroni over ``max_looks``)."""
        return 1 - (1 - self.confidence) / self.max_looks


class OffPolicyGate(_Strict):
    """A bandit policy judged off-policy on logged impressions (the artwork policy).

    The evaluator estimates every policy's value from the log (replay, IPS, SNIPS, DR)
    and the candidate's differences with a bootstrap over members (paired: the same
    resamples for every policy); these checks judge them.

    Attributes:
        metric: Name of the value in the evidence's ``overall`` (reports plot it).
        estimator: The estimator the value comparisons use (``dr`` or ``ips``).
        tolerance: Versus the production policy, the CI's lower bound of candidate
            minus champion must be above ``-tolerance`` (0: above zero, it must be
            better; more turns it into "not worse by more than this").
        must_beat: Labels the candidate must beat with the CI's lower bound above zero
            (``uniform random``).
        agreement: Two estimators of the candidate's value that must agree ...
        agreement_tolerance: ... within this share of the larger one; else the
            evidence is inconclusive (and the release does not go ahead).
        baseline: The label no member segment may be worse off than (``logging``).
        segments: Member columns whose segments are each judged by filtering.
        segment_max_loss: A segment is worse off when its CI's upper bound of candidate
            minus baseline is below zero, or its estimate below ``-segment_max_loss``.
        min_units: Members a comparison needs to decide (fewer fail it as undecided);
            smaller segments are reported, not judged.
    """

    metric: str = "good_play_rate"
    estimator: Literal["dr", "ips"] = "dr"
    tolerance: float = Field(0.0, ge=0)
    must_beat: list[str] = ["uniform random"]
    agreement: tuple[str, str] = ("dr", "snips")
    agreement_tolerance: float = Field(0.05, gt=0, lt=1)
    baseline: str = "logging"
    segments: list[str] = ["country", "age_band"]
    segment_max_loss: float = Field(0.01, ge=0)
    min_units: int = Field(30, ge=1)


class Gates(_Strict):
    """The gates of one model: ``quality`` (or ``off_policy`` for a bandit), drift, bias."""

    quality: QualityGate | None = None
    drift: DriftGate = DriftGate()
    bias: BiasGate | None = None
    off_policy: OffPolicyGate | None = None

    @model_validator(mode="after")
    def _judged(self) -> Gates:
        if self.quality is None and self.off_policy is None:
            raise ValueError("gates need 'quality' (or 'off_policy' for a bandit policy)")
        return self

    @property
    def metric(self) -> str:
        """The primary metric the gates judge (what reports plot over versions)."""
        return self.quality.metric if self.quality is not None else self.off_policy.metric

    @property
    def segments(self) -> list[str]:
        """Member segment columns the gates judge (for the per-segment plot)."""
        if self.bias is not None:
            return list(self.bias.segments)
        return list(self.off_policy.segments) if self.off_policy is not None else []


class ModelSpec(_Strict):
    """One model's spec (``models/<name>.yaml``).

    Attributes:
        name: Registry name of the model.
        description: One line for people.
        feature_service: The Feast feature service the model reads.
        evaluator: ``module:function`` that evaluates a candidate beside the champion
            and baselines and returns :class:`~reelops.quality.evidence.ReleaseEvidence`
            (called as ``evaluator(settings, spec, candidate_version, champion_version)``).
        approval: ``auto`` (all gates pass -> production) or ``human`` (an Airflow
            approval task decides).
        params: Model hyperparameters (the search grid's values override them).
        search: Hyperparameter grid, name -> values; chosen on validation.
        training: Model-specific training settings (validated by the model).
        evaluation: Model-specific evaluation protocol (validated by the model).
        gates: Gate thresholds.
        release: How a version that passed its gates reaches members beside production
            (promote, canary or shadow) and how a canary is judged on live outcomes.
        path: Where the spec was read from.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    description: str = ""
    feature_service: str
    evaluator: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    approval: Literal["auto", "human"] = "auto"
    params: dict[str, Any] = {}
    search: dict[str, list[Any]] = {}
    training: dict[str, Any] = {}
    evaluation: dict[str, Any] = {}
    gates: Gates
    release: ReleasePolicy = ReleasePolicy()
    path: Path | None = None

    def search_grid(self) -> list[dict[str, Any]]:
        """Every combination of the search grid, each merged over ``params``."""
        grid: list[dict[str, Any]] = [dict(self.params)]
        for key, values in self.search.items():
            grid = [{**point, key: value} for point in grid for value in values]
        return grid


class SpecError(ValueError):
    """A model spec is missing or invalid."""


def load_spec(name_or_path: str | Path, *, approval: str | None = None) -> ModelSpec:
    """Read and validate a model spec.

    Args:
        name_or_path: A model name (``ranker`` reads ``models/ranker.yaml``) or a path.
        approval: Override the spec's approval policy (``auto`` or ``human``).

    Raises:
        SpecError: The file is missing, not YAML, or fails validation; the message
            names the file and the field.
    """
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = MODELS_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in MODELS_DIR.glob("*.yaml"))) or "none"
        raise SpecError(f"no model spec at {path} (specs in {MODELS_DIR}: {known})")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise SpecError(f"{path} is not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise SpecError(f"{path} must hold a mapping, not {type(raw).__name__}")
    if approval is not None:
        raw["approval"] = approval
    try:
        return ModelSpec.model_validate({**raw, "path": path})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in error.errors()
        )
        raise SpecError(f"{path}: {problems}") from error


def validate_section(spec: ModelSpec, section: str, schema: type[BaseModel]) -> Any:
    """Validate a model-specific section (``training`` or ``evaluation``) of a spec.

    Raises:
        SpecError: Naming the spec file, the section and the field.
    """
    try:
        return schema.model_validate(getattr(spec, section))
    except ValidationError as error:
        problems = "; ".join(
            f"{section}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise SpecError(f"{spec.path or spec.name}: {problems}") from error
