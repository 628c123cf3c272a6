"""Release evidence for a bitrate candidate: candidate, champion and baselines in one run."""

from __future__ import annotations

import pandas as pd

from reelops.abr.evaluation import SUMMARY_COLUMNS
from reelops.abr.video import reference_video
from reelops.bitrate.data import Holdout
from reelops.bitrate.decision import BitrateModel
from reelops.bitrate.features import FEATURE_NAMES, features_from_rows
from reelops.bitrate.holdout_eval import evaluate_holdout
from reelops.bitrate.selection import predictor_policy
from reelops.bitrate.targets import training_set as usable_rows
from reelops.bitrate.train import (
    HOLDOUT_DIR,
    MODEL,
    REFERENCE_FILE,
    holdout_feature_rows,
    settings_of,
)
from reelops.config import Settings
from reelops.quality.evidence import CANDIDATE, ReleaseEvidence, version_folders
from reelops.specs import ModelSpec

PER_UNIT_COLUMNS = ("qoe_lin", "qoe_log", "qoe_hd", "rebuffer_s", "play_s", "bitrate", "switches")


def _planned_mbps(model: BitrateModel, features: pd.DataFrame) -> pd.Series:
    """The throughput each row's MPC would plan with: the chosen quantile (median for scenarios)."""
    quantiles = model.model.predict_quantiles(features)
    levels = model.model.quantiles
    pick = levels.index(0.5) if model.mode == "scenarios" and 0.5 in levels else None
    if pick is None:
        pick = len(levels) // 2 if model.mode == "scenarios" else levels.index(model.mode)
    return pd.Series(quantiles[:, pick], index=features.index, name="predicted_mbps")


def evaluate_release(
    settings: Settings, spec: ModelSpec, candidate_version: str, champion_version: str | None
) -> ReleaseEvidence:
    """Play the candidate, the champion (if any) and the baselines on the candidate's hold-out.

    The hold-out is the one saved with the candidate at training time (test trace files
    it never trained on, or fresh network-model draws on the world); all policies play
    the same sessions (``starts_per_trace`` per trace) in one run.

    Args:
        settings: Platform settings.
        spec: The bitrate spec.
        candidate_version: Registry version of the candidate.
        champion_version: Production version to compare with, or None.

    Returns:
        The evidence. ``per_unit`` has one row per (label, trace file) with the mean
        over its sessions of ``qoe_lin``, ``rebuffer_s``, ``play_s`` (video seconds
        played), ``bitrate`` (Mbit/s) and the segments ``country`` and ``connection``.
    """
    training, evaluation = settings_of(spec)
    files = version_folders(settings, MODEL, candidate_version, champion_version)
    models = {label: BitrateModel.load(folder) for label, folder in files.items()}
    holdout = Holdout.load(files[CANDIDATE] / HOLDOUT_DIR)
    policies = {
        label: predictor_policy(m.model, m.mode, holdout.context_of) for label, m in models.items()
    }
    result = evaluate_holdout(policies, holdout.split("test"), evaluation, judged=CANDIDATE)
    chunk_s = reference_video().chunk_s
    per_trace = result["per_trace"]
    per_unit = pd.DataFrame(
        {
            "label": per_trace["policy"],
            "unit": per_trace["trace_id"],
            "qoe_lin": per_trace["qoe_lin"],
            "qoe_log": per_trace["qoe_log"],
            "qoe_hd": per_trace["qoe_hd"],
            "rebuffer_s": per_trace["rebuffer_s"],
            "play_s": per_trace["chunks"] * chunk_s,
            "bitrate": per_trace["bitrate_mbps"],
            "switches": per_trace["switches"],
        }
    )
    segments = holdout.segments[["trace_id", "country", "connection"]].rename(
        columns={"trace_id": "unit"}
    )
    per_unit = per_unit.merge(segments, on="unit", how="left")
    overall = per_trace.groupby("policy", sort=False)[
        list(SUMMARY_COLUMNS[:1])
        + list(c for c in SUMMARY_COLUMNS if c in per_trace.columns and c != "qoe_lin")
    ].mean()
    overall["bitrate"] = overall["bitrate_mbps"]
    overall["play_s"] = per_trace.groupby("policy", sort=False)["chunks"].mean() * chunk_s
    overall.index.name = "label"

    rows = holdout_feature_rows(holdout, training, sessions_per_trace=2)
    features = features_from_rows(usable_rows(rows, 1)[0]).reset_index(drop=True)
    predictions = {label: _planned_mbps(m, features) for label, m in models.items()}
    reference = {
        label: pd.read_parquet(folder / REFERENCE_FILE)[list(FEATURE_NAMES)]
        for label, folder in files.items()
    }
    baselines = list(evaluation.baselines)
    return ReleaseEvidence(
        model=MODEL,
        candidate_version=candidate_version,
        champion_version=champion_version,
        metric="qoe_lin",
        higher_is_better=True,
        baselines=baselines,
        overall=overall,
        per_unit=per_unit,
        reference_features=reference,
        predictions=predictions,
        protocol={
            **holdout.meta,
            "holdout": holdout.kind,
            "starts_per_trace": evaluation.starts_per_trace,
            "unit": "trace (mean over its sessions)",
            "test_traces": len(holdout.split("test")),
        },
        extra={
            "oracle": evaluation.oracle,
            "versus_reference": result["multi_start"]["versus_reference"],
            "gap_closed_to_oracle": result["multi_start"]["gap_closed_to_oracle"],
            "pensieve_versus_reference": result["pensieve"]["versus_reference"],
        },
        holdout_features=features[list(FEATURE_NAMES)],
    )
