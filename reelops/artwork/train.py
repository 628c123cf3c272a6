"""The artwork policy's training steps, as the ``reelops_artwork`` DAG calls them.

training_set (the warehouse's marts) -> train (the reward model on the log's middle
third) -> evaluate (every policy off-policy on the last third) -> save_candidate
(registry, with metrics and lineage). Steps hand each other small dicts of paths
under ``REELOPS_HOME/work/artwork/<run>`` and figures.

The log's days are cut in three, as in :mod:`reelops.artwork.experiment`: views before
the first cut give members' taste when the model learns; the middle third's
impressions are what it learns from; the last third's impressions judge it (taste
then from every view before the second cut). Members are keyed by the warehouse's
pseudonymous ``member_key`` throughout (the policy's ``member_id`` column holds it),
the key ``/recommend`` looks members up by.

The saved version holds what serves (``policy/``: the reward model, its evidence from
the training log, taste from every view of the log) and what judges it (``holdout/``:
the last third's impressions, taste as of the second cut, members' segments), so the
release gates can evaluate it and the production policy on the same impressions.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from reelops.artwork.candidates import build_candidates
from reelops.artwork.features import member_profiles
from reelops.artwork.holdout import SEGMENT_COLUMNS, HoldoutJudge, design_sample, format_figures
from reelops.artwork.policy import ArtworkSpec, TrainingData, artwork_spec, label, train_policy
from reelops.artwork.saved import (
    EVALUATION_FILE,
    HOLDOUT_DIR,
    MODEL,
    POLICY_DIR,
    REFERENCE_FILE,
    catalogue_frame,
    save_policy,
)
from reelops.config import Settings
from reelops.registry import Registry, training_lineage
from reelops.sources import active_source
from reelops.specs import ModelSpec, load_spec
from reelops.warehouse import read_mart

FRAMES = ("impressions", "viewing_events", "titles", "members", "variants")
IMPRESSION_COLUMNS = ["impression_id", "member_id", "title_id", "variant_id", "ts"]
IMPRESSION_COLUMNS += ["row_index", "position", "n_variants", "played", "completion"]

Log = Callable[[str], None]
SpecLike = ModelSpec | str | Path | None


def resolve_spec(spec: SpecLike) -> ModelSpec:
    """A spec object, a spec file path, or None for ``models/artwork.yaml``."""
    return spec if isinstance(spec, ModelSpec) else load_spec(spec or MODEL)


def _spec_ref(spec: SpecLike) -> str | None:
    if isinstance(spec, ModelSpec):
        return str(spec.path) if spec.path else None
    return str(spec) if spec else None


def run_dir(settings: Settings, run_id: str) -> Path:
    return settings.home / "work" / MODEL / re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)


def log_frames(settings: Settings, source: str) -> dict[str, pd.DataFrame]:
    """The artwork log and what the policy's features read, from the source's marts.

    Raises:
        FileNotFoundError: the warehouse is not built for ``source``.
        ValueError: the source logs no impressions with artwork.
    """
    impressions = read_mart(settings, source, "fct_artwork_impressions")
    if impressions.empty:
        raise ValueError(f"source {source!r} logs no impressions with artwork: nothing to learn")
    members = read_mart(settings, source, "dim_members")
    views = read_mart(settings, source, "fct_viewing_events")
    key = {"member_key": "member_id"}
    return {
        "impressions": impressions.rename(columns=key)[IMPRESSION_COLUMNS],
        "viewing_events": views.rename(columns=key)[["member_id", "title_id", "ts"]],
        "titles": read_mart(settings, source, "dim_titles")[["title_id", "genres"]],
        "members": members.rename(columns=key)[["member_id", *SEGMENT_COLUMNS]],
        "variants": read_mart(settings, source, "dim_artwork_variants")[
            ["title_id", "variant_id", "theme"]
        ],
    }


def cuts(impressions: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    """The log's first day, and its two cuts (whole days) into thirds.

    Raises:
        ValueError: the impressions span fewer than 3 days.
    """
    first = impressions["ts"].min().floor("D")
    days = (impressions["ts"].max().floor("D") - first).days + 1
    if days < 3:
        raise ValueError(f"the impressions span {days} day(s); training needs at least 3")
    return first, first + pd.Timedelta(days=days // 3), first + pd.Timedelta(days=2 * days // 3)


def _read(work: Path) -> TrainingData:
    frames = {name: pd.read_parquet(work / f"{name}.parquet") for name in FRAMES}
    return TrainingData(**frames)


def prepare_training_set(
    settings: Settings, run_id: str, spec: SpecLike = None, source: str | None = None
) -> dict[str, Any]:
    """The marts' log written under the run's folder, with its cuts.

    Returns:
        ``spec``, ``work``, ``source``, ``impressions``, ``members``, ``data_interval``,
        ``history`` and ``cut`` (the two cuts), ``end`` (after the log's last day).
    """
    spec_ref = _spec_ref(spec)
    source = source or active_source(settings)
    frames = log_frames(settings, source)
    imp = frames["impressions"]
    _, history, cut = cuts(imp)
    work = run_dir(settings, run_id)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name, frame in frames.items():
        frame.to_parquet(work / f"{name}.parquet", index=False)
    return {
        "spec": spec_ref,
        "work": str(work),
        "source": source,
        "impressions": int(len(imp)),
        "members": int(imp["member_id"].nunique()),
        "data_interval": [str(imp["ts"].min()), str(imp["ts"].max())],
        "history": str(history),
        "cut": str(cut),
        "end": str(imp["ts"].max().floor("D") + pd.Timedelta(days=1)),
    }


def train_model(
    prepared: Mapping[str, Any], spec: SpecLike = None, log: Log = print
) -> dict[str, Any]:
    """Fit the policy on the middle third; write ``files/`` (policy, hold-out, reference)."""
    aspec = artwork_spec(resolve_spec(spec))
    work = Path(prepared["work"])
    data = _read(work)
    history, cut, end = (pd.Timestamp(prepared[k]) for k in ("history", "cut", "end"))
    imp = data.impressions
    train = build_candidates(imp[(imp.ts >= history) & (imp.ts < cut)], data.variants, data.titles)
    holdout = imp[imp.ts >= cut]
    log(
        f"artwork policy ({aspec.exploration.rule}, epsilon {aspec.exploration.epsilon}): "
        f"learning from {len(train.impressions):,} impressions of {history:%Y-%m-%d}.."
        f"{cut:%Y-%m-%d}; {len(holdout):,} later impressions judge it"
    )
    policy = train_policy(data, train, aspec, history_before=history)
    files = work / "files"
    shutil.rmtree(files, ignore_errors=True)
    (files / HOLDOUT_DIR).mkdir(parents=True)
    reference = design_sample(policy, train, aspec.reference_rows, aspec.seed)
    reference.to_parquet(files / REFERENCE_FILE, index=False)
    # Scoring time: taste from every view the log holds (serving), or before the cut (judging).
    judged = member_profiles(data.viewing_events, data.titles, data.members, cut)
    policy.model.profiles = member_profiles(data.viewing_events, data.titles, data.members, end)
    save_policy(policy, files / POLICY_DIR, aspec, catalogue_frame(data.variants, data.titles))
    label(holdout, aspec).to_parquet(files / HOLDOUT_DIR / "impressions.parquet", index=False)
    judged.to_parquet(files / HOLDOUT_DIR / "profiles.parquet")
    data.members.to_parquet(files / HOLDOUT_DIR / "members.parquet", index=False)
    return {**prepared, "files": str(files), "trained_on": int(len(train.impressions))}


def evaluate_model(
    trained: Mapping[str, Any], spec: SpecLike = None, log: Log = print
) -> dict[str, Any]:
    """Every policy off-policy on the hold-out (the candidate alone: no champion yet)."""
    spec = resolve_spec(spec)
    files = Path(trained["files"])
    judge = HoldoutJudge.load(files, spec)
    judged = judge.figures(judge.policies())
    (files / EVALUATION_FILE).write_text(json.dumps(judged.as_json(), indent=2) + "\n")
    log(format_figures(judged))
    return {**trained, "metrics": judged.metrics()}


def save_candidate(
    settings: Settings,
    evaluated: Mapping[str, Any],
    spec: SpecLike = None,
    approval: str | None = None,
) -> dict[str, Any]:
    """Save ``files/`` as a registry candidate with its metrics and lineage.

    Returns:
        ``{"model": "artwork", "version", "stage", "metrics", "approval", "spec"}``.
    """
    from reelops.features.store import open_store
    from reelops.features.versions import feature_service_version

    spec_ = resolve_spec(spec)
    aspec: ArtworkSpec = artwork_spec(spec_)
    work = Path(evaluated["work"])
    impressions = pd.read_parquet(work / "impressions.parquet")
    repo = open_store(settings, evaluated["source"])
    lineage = training_lineage(
        settings,
        source=evaluated["source"],
        feature_service=spec_.feature_service,
        feature_service_version=feature_service_version(repo, spec_.feature_service),
        training_frame=impressions,
        params={**aspec.params, "num_boost_round": aspec.num_boost_round},
        data_interval=tuple(evaluated["data_interval"]),
        exploration=aspec.exploration.model_dump(),
        cuts={"history": evaluated["history"], "cut": evaluated["cut"]},
        trained_on_impressions=evaluated["trained_on"],
    )
    version = Registry(settings).save(
        MODEL, Path(evaluated["files"]), metrics=evaluated["metrics"], lineage=lineage
    )
    shutil.rmtree(work, ignore_errors=True)
    return {
        "model": MODEL,
        "version": version.version,
        "stage": version.stage,
        "metrics": evaluated["metrics"],
        "approval": approval,
        "spec": evaluated.get("spec"),
    }


def train_candidate(
    settings: Settings, run_id: str = "manual", spec: SpecLike = None, source: str | None = None
) -> dict[str, Any]:
    """All four steps in this process, without Airflow (tests and quick runs)."""
    prepared = prepare_training_set(settings, run_id, spec, source)
    trained = train_model(prepared, spec)
    return save_candidate(settings, evaluate_model(trained, spec), spec)
