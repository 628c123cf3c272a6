"""The bitrate training pipeline's steps, as the ``reelops_bitrate`` DAG and the CLI call them.

training_set (delivery mart + Feast, point in time; the source's hold-out) -> train
(grid and MPC mode chosen on validation traces) -> evaluate (every policy on the
test traces in one run) -> save_candidate (registry, with metrics and lineage).
Steps pass small dicts of paths under ``REELOPS_HOME`` and metrics.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from reelops.abr.evaluation import multi_start
from reelops.bitrate.data import Holdout, delivery_rows, source_holdout
from reelops.bitrate.decision import MODEL_DIR, POLICY_FILE, BitrateModel
from reelops.bitrate.features import features_from_rows
from reelops.bitrate.holdout_eval import evaluate_holdout, holdout_json, prediction_error
from reelops.bitrate.protocol import EvaluationSettings, TrainingSettings, protocol
from reelops.bitrate.report import format_report
from reelops.bitrate.selection import (
    POLICY,
    augmentation_rows,
    model_grid,
    predictor_policy,
    select_model,
)
from reelops.bitrate.sessions import simulate_training_sessions
from reelops.bitrate.targets import training_set as usable_rows
from reelops.config import Settings, get_settings
from reelops.features.store import open_store
from reelops.features.versions import feature_service_version
from reelops.registry import Registry, RegistryError, training_lineage
from reelops.sources import active_source
from reelops.specs import ModelSpec, load_spec, validate_section

MODEL = "bitrate"
ROWS_FILE = "training_rows.parquet"
REFERENCE_FILE = "reference_features.parquet"
EVALUATION_FILE = "evaluation.json"
PER_TRACE_FILE = "evaluation_per_trace.parquet"
HOLDOUT_DIR = "holdout"

Log = Callable[[str], None]


SpecLike = ModelSpec | str | Path | None


def resolve_spec(spec: SpecLike) -> ModelSpec:
    """A spec object, a spec file path, or None for ``models/bitrate.yaml``."""
    if isinstance(spec, ModelSpec):
        return spec
    return load_spec(spec or MODEL)


def _spec_ref(spec: SpecLike) -> str | None:
    """What to hand the next step: the spec's file (None for the default)."""
    if isinstance(spec, ModelSpec):
        return str(spec.path) if spec.path else None
    return str(spec) if spec else None


def settings_of(spec: ModelSpec) -> tuple[TrainingSettings, EvaluationSettings]:
    """The spec's training and evaluation sections, validated."""
    return (
        validate_section(spec, "training", TrainingSettings),
        validate_section(spec, "evaluation", EvaluationSettings),
    )


def _run_dir(settings: Settings, run_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)
    return settings.home / "work" / MODEL / safe


def prepare_training_set(
    settings: Settings, run_id: str, spec: SpecLike = None, source: str | None = None
) -> dict[str, Any]:
    """Training rows from the mart and Feast, and the source's hold-out, written under the run.

    Args:
        settings: Platform settings.
        run_id: Names the run's work folder.
        spec: The model spec; ``models/bitrate.yaml`` if None.
        source: The source; the active one if None.

    Returns:
        ``work``, ``source``, ``rows``, ``sessions``, ``data_interval``, ``holdout``.
    """
    spec_ref = _spec_ref(spec)
    spec = resolve_spec(spec)
    training, _ = settings_of(spec)
    source = source or active_source(settings)
    rows = delivery_rows(settings, source, spec.feature_service)
    holdout = source_holdout(
        settings,
        source,
        training.split_seed,
        training.split,
        training.holdout_traces_per_segment,
        training.holdout_segments,
    )
    if holdout.train_trace_ids is not None:
        rows = rows[rows["trace_id"].isin(holdout.train_trace_ids)].reset_index(drop=True)
    work = _run_dir(settings, run_id)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rows.to_parquet(work / ROWS_FILE, index=False)
    holdout.save(work / HOLDOUT_DIR)
    return {
        "spec": spec_ref,
        "work": str(work),
        "source": source,
        "rows": int(len(rows)),
        "sessions": int(rows["session_id"].nunique()),
        "data_interval": [str(rows["ts"].min()), str(rows["ts"].max())],
        "holdout": {
            "kind": holdout.kind,
            **{s: len(holdout.split(s)) for s in ("validation", "test")},
        },
    }


def train_model(
    prepared: Mapping[str, Any], spec: SpecLike = None, log: Log = print
) -> dict[str, Any]:
    """Fit the grid on the training rows (plus randomized sessions), choose on validation.

    Writes the model folder ``files/``: the throughput model, ``bitrate.json`` (the MPC
    mode and the trials), a training-feature sample for drift checks and the hold-out.
    """
    spec = resolve_spec(spec)
    training, evaluation = settings_of(spec)
    work = Path(prepared["work"])
    rows = pd.read_parquet(work / ROWS_FILE)
    extra = augmentation_rows(training)
    train_rows = pd.concat([rows, extra], ignore_index=True) if extra is not None else rows
    holdout = Holdout.load(work / HOLDOUT_DIR)
    validation = multi_start(
        holdout.split("validation"), training.validation_starts, training.seed + 1
    )
    grid = model_grid(spec.params, spec.search, training)
    log(
        f"training on {len(rows):,} mart rows + {len(train_rows) - len(rows):,} randomized; "
        f"{len(grid)} grid points"
    )
    chosen = select_model(
        train_rows, grid, training.modes, validation, holdout.context_of, evaluation.reference, log
    )
    files = work / "files"
    shutil.rmtree(files, ignore_errors=True)
    chosen.model.save(files / MODEL_DIR)
    policy = {"mode": chosen.mode, "trials": chosen.trials, "horizon": chosen.model.params.horizon}
    (files / POLICY_FILE).write_text(json.dumps(policy, indent=2) + "\n")
    features = features_from_rows(usable_rows(rows, 1)[0])
    sample = features.sample(
        min(len(features), training.reference_rows), random_state=training.seed
    )
    sample.reset_index(drop=True).to_parquet(files / REFERENCE_FILE, index=False)
    holdout.save(files / HOLDOUT_DIR)
    return {
        **prepared,
        "files": str(files),
        "mode": chosen.mode,
        "horizon": chosen.model.params.horizon,
    }


def holdout_feature_rows(
    holdout: Holdout, training: TrainingSettings, sessions_per_trace: int
) -> pd.DataFrame:
    """Fixed per-chunk rows of baseline sessions on the test traces (prediction error, drift)."""
    return simulate_training_sessions(
        holdout.split("test"),
        seed=training.seed + 3,
        sessions_per_trace=sessions_per_trace,
        context_of_trace=lambda trace: holdout.context_of(trace.trace_id),
    )


def evaluate_model(trained: Mapping[str, Any], spec: SpecLike = None) -> dict[str, Any]:
    """Every baseline, the model and the oracle on the test traces in one run; the metrics."""
    spec = resolve_spec(spec)
    training, evaluation = settings_of(spec)
    files = Path(trained["files"])
    bitrate = BitrateModel.load(files)
    holdout = Holdout.load(files / HOLDOUT_DIR)
    result = evaluate_holdout(
        {POLICY: predictor_policy(bitrate.model, bitrate.mode, holdout.context_of)},
        holdout.split("test"),
        evaluation,
    )
    error = prediction_error(
        bitrate.model, holdout_feature_rows(holdout, training, evaluation.error_sessions_per_trace)
    )
    figures = {
        "source": trained.get("source"),
        "split": holdout.meta.get("sizes") or trained.get("holdout"),
        "split_seed": training.split_seed,
        "chosen": {"params": {"horizon": bitrate.model.params.horizon}, "mode": bitrate.mode},
        "test": holdout_json(result),
        "prediction_error": error,
        "protocol": protocol(training, evaluation) | {"holdout": holdout.kind},
    }
    (files / EVALUATION_FILE).write_text(json.dumps(figures, indent=2, default=str) + "\n")
    result["per_trace"].to_parquet(files / PER_TRACE_FILE, index=False)
    primary = result["multi_start"]
    versus = primary["versus_reference"]
    metrics = {
        "qoe_lin": primary["summary"][POLICY]["qoe_lin"],
        f"qoe_lin_{evaluation.reference}": primary["summary"][evaluation.reference]["qoe_lin"],
        "qoe_lin_diff": versus["mean_diff"],
        "qoe_lin_diff_ci_low": versus["ci_low"],
        "qoe_lin_diff_ci_high": versus["ci_high"],
        "gap_closed_to_oracle": primary["gap_closed_to_oracle"],
        "pensieve_qoe_lin_diff": result["pensieve"]["versus_reference"]["mean_diff"],
        "mae_log_model": error["next_chunk"]["mae_log_model"],
        "mae_log_harmonic_mean": error["next_chunk"]["mae_log_harmonic_mean"],
        "test_traces": versus["traces"],
    }
    print(format_report(figures))
    return {**trained, "metrics": metrics}


def save_candidate(
    settings: Settings,
    evaluated: Mapping[str, Any],
    spec: SpecLike = None,
    approval: str | None = None,
) -> dict[str, Any]:
    """Save the model folder as a registry candidate with its metrics and lineage.

    Returns:
        ``{"model": "bitrate", "version": ..., "metrics": ..., "approval": ...}``.
    """
    spec = resolve_spec(spec)
    work = Path(evaluated["work"])
    rows = pd.read_parquet(work / ROWS_FILE)
    repo = open_store(settings, evaluated["source"])
    policy = json.loads((Path(evaluated["files"]) / POLICY_FILE).read_text())
    lineage = training_lineage(
        settings,
        source=evaluated["source"],
        feature_service=spec.feature_service,
        feature_service_version=feature_service_version(repo, spec.feature_service),
        training_frame=rows,
        params={"horizon": policy["horizon"], "mode": policy["mode"], **spec.params},
        data_interval=tuple(evaluated["data_interval"]),
        holdout=evaluated.get("holdout"),
        search_trials=policy["trials"],
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
    }


def train_candidate(
    settings: Settings | None = None, run_id: str = "manual", spec: SpecLike = None
) -> dict:
    """All four steps in this process, without Airflow (tests and quick runs)."""
    settings = settings or get_settings()
    prepared = prepare_training_set(settings, run_id, spec)
    return save_candidate(settings, evaluate_model(train_model(prepared, spec), spec), spec)


def demo_summary(settings: Settings, version: str | None = None) -> str:
    """A saved bitrate version's evaluation as text: policies, bootstrap, error, oracle share.

    Args:
        settings: Platform settings.
        version: A registry version of ``bitrate``; the newest if None.

    Raises:
        RegistryError: No such version (or none at all).
    """
    registry = Registry(settings)
    if version is None:
        versions = registry.list(MODEL)
        if not versions:
            raise RegistryError("no bitrate model saved yet: run `reelops bitrate train`")
        version = versions[-1].version
    files = registry.files(MODEL, version)
    path = files / EVALUATION_FILE
    if not path.is_file():
        raise RegistryError(f"{MODEL}:{version} has no {EVALUATION_FILE}; it was not evaluated")
    figures = json.loads(path.read_text())
    return f"bitrate {version} on {figures.get('source')}\n" + format_report(figures)
