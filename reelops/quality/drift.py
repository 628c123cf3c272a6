"""Drift gate with Evidently: training-feature drift and prediction drift, candidate vs champion.

The champion's training sample is the reference, the candidate's the current data:
a candidate that learned from a world that moved away from the one the serving
model learned from is flagged before it ships. Prediction drift compares both
models' outputs on the same hold-out rows. Each run writes Evidently's HTML report
and its JSON result beside the gate results of the version.

The first model of a kind has no champion to drift from; when its evaluator hands
over hold-out features, its training sample is compared with them instead, reported
and never judged (a hold-out that differs from training is a finding for people, not
a reason to block the first model).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from reelops.quality.checks import Check, fmt, verdict
from reelops.quality.evidence import CANDIDATE, CHAMPION, ReleaseEvidence
from reelops.specs import DriftGate

PREDICTION = "prediction"


def _definition(frame: pd.DataFrame):
    from evidently import DataDefinition

    numerical = [
        c
        for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]
    categorical = [c for c in frame.columns if c not in numerical]
    return DataDefinition(numerical_columns=numerical, categorical_columns=categorical)


def _sample(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    if len(frame) > rows:
        frame = frame.sample(n=rows, random_state=seed)
    return frame.reset_index(drop=True)


def _is_drifted(method: str, score: float, threshold: float) -> bool:
    # Evidently's statistical tests report p-values (drift below the threshold); its
    # distances (Wasserstein, Jensen-Shannon, PSI...) report drift at or above it.
    return score < threshold if "p_value" in method else score >= threshold


def column_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    drift_share: float,
    html: Path | None,
    result: Path | None,
) -> dict[str, Any]:
    """Run Evidently's data drift preset on two frames; save its HTML and JSON (if given).

    Args:
        reference: The reference sample (the champion's side).
        current: The current sample (the candidate's side), same columns.
        drift_share: Share of drifted columns at which Evidently calls the data set drifted.
        html: Where the HTML report goes.
        result: Where the JSON result goes.

    Returns:
        ``{"columns": {name: {"method", "score", "threshold", "drifted"}}, "drifted":
        [names], "share": float}``.
    """
    from evidently import Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = _definition(reference)
    report = Report([DataDriftPreset(drift_share=drift_share)])
    snapshot = report.run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    raw = snapshot.dict()
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        snapshot.save_html(str(html))
    if result is not None:
        result.write_text(json.dumps(raw, indent=1, default=str))
    columns = {}
    for metric in raw["metrics"]:
        config = metric["config"]
        if not config.get("type", "").endswith(":ValueDrift"):
            continue
        score, threshold = float(metric["value"]), float(config["threshold"])
        columns[config["column"]] = {
            "method": config["method"],
            "score": score,
            "threshold": threshold,
            "drifted": _is_drifted(config["method"], score, threshold),
        }
    drifted = sorted(name for name, c in columns.items() if c["drifted"])
    return {"columns": columns, "drifted": drifted, "share": len(drifted) / max(len(columns), 1)}


def _feature_drift(
    reference: pd.DataFrame, current: pd.DataFrame, gate: DriftGate, out_dir: Path, seed: int
) -> tuple[dict[str, Any], dict[str, str]]:
    """Data drift of the shared columns, sampled; ``data_drift.{html,json}`` in ``out_dir``.

    Columns empty on either side (e.g. a 7-day play rate on data with no recent days)
    cannot drift and Evidently refuses them: they are left out and listed in
    ``found["empty"]``.
    """
    reference = _sample(reference, gate.sample_rows, seed)
    current = _sample(current, gate.sample_rows, seed + 1)
    shared = [c for c in reference.columns if c in current.columns]
    empty = [c for c in shared if reference[c].isna().all() or current[c].isna().all()]
    columns = [c for c in shared if c not in empty]
    found = column_drift(
        reference[columns],
        current[columns],
        gate.max_drifted_share,
        out_dir / "data_drift.html",
        out_dir / "data_drift.json",
    )
    found["empty"] = empty
    reports = {
        "data_drift_html": str(out_dir / "data_drift.html"),
        "data_drift_json": str(out_dir / "data_drift.json"),
    }
    return found, reports


def _training_vs_holdout(
    evidence: ReleaseEvidence, gate: DriftGate, out_dir: Path, seed: int
) -> tuple[list[Check], dict[str, str]]:
    """Report-only drift of a first model: its training sample against its hold-out rows."""
    holdout = evidence.holdout_features
    training = evidence.reference_features.get(CANDIDATE)
    if holdout is None or training is None:
        return [], {}
    found, reports = _feature_drift(training, holdout, gate, out_dir, seed)
    detail = (
        f"first model, reported only: {len(found['drifted'])} of {len(found['columns'])} "
        f"features differ between its training sample and its hold-out"
        + (f" ({', '.join(found['drifted'])})" if found["drifted"] else "")
        + (f"; empty columns (not compared): {found['empty']}" if found["empty"] else "")
    )
    check = Check("drift", "feature drift training vs hold-out", "skip", found["share"], "", detail)
    return [check], reports


def drift_gate(
    evidence: ReleaseEvidence, gate: DriftGate, out_dir: Path, seed: int = 0
) -> tuple[list[Check], dict[str, str]]:
    """Judge data drift of the training features and drift of the hold-out predictions.

    Args:
        evidence: Holds ``reference_features`` and ``predictions`` per label.
        gate: Largest allowed share of drifted features; whether prediction drift fails.
        out_dir: The version's report folder; ``data_drift.{html,json}`` and
            ``prediction_drift.{html,json}`` are written there.
        seed: Seed of the row samples given to Evidently.

    Returns:
        The checks, and the report paths by name.
    """
    if not evidence.champion_version or CHAMPION not in evidence.reference_features:
        reason = f"no production {evidence.model} to compare with: nothing can have drifted"
        checks = [
            Check("drift", "feature drift vs champion", "skip", detail=reason),
            Check("drift", "prediction drift vs champion", "skip", detail=reason),
        ]
        first, reports = _training_vs_holdout(evidence, gate, out_dir, seed)
        return checks + first, reports
    checks = []
    candidate = evidence.reference_features[CANDIDATE]
    champion = evidence.reference_features[CHAMPION]
    missing = sorted(set(champion.columns) ^ set(candidate.columns))
    data, reports = _feature_drift(champion, candidate, gate, out_dir, seed)
    scores = ", ".join(
        f"{name} {fmt(data['columns'][name]['score'])} ({data['columns'][name]['method']})"
        for name in data["drifted"]
    )
    detail = (
        f"{len(data['drifted'])} of {len(data['columns'])} features drifted"
        + (f": {scores}" if scores else "")
        + (f"; columns on one side only (not compared): {missing}" if missing else "")
        + (f"; empty columns (not compared): {data['empty']}" if data["empty"] else "")
    )
    checks.append(
        Check(
            "drift",
            "feature drift vs champion",
            verdict(data["share"] <= gate.max_drifted_share),
            value=data["share"],
            limit=f"<= {fmt(gate.max_drifted_share)}",
            detail=detail,
        )
    )
    if CHAMPION not in evidence.predictions:
        checks.append(
            Check(
                "drift",
                "prediction drift vs champion",
                "skip",
                detail="the evaluator returned no champion predictions",
            )
        )
        return checks, reports
    outputs = {
        label: pd.DataFrame({PREDICTION: pd.Series(evidence.predictions[label]).to_numpy()})
        for label in (CANDIDATE, CHAMPION)
    }
    prediction = column_drift(
        _sample(outputs[CHAMPION], gate.sample_rows, seed),
        _sample(outputs[CANDIDATE], gate.sample_rows, seed),
        1.0,
        out_dir / "prediction_drift.html",
        out_dir / "prediction_drift.json",
    )
    reports["prediction_drift_html"] = str(out_dir / "prediction_drift.html")
    reports["prediction_drift_json"] = str(out_dir / "prediction_drift.json")
    found = prediction["columns"][PREDICTION]
    drifted = found["drifted"]
    checks.append(
        Check(
            "drift",
            "prediction drift vs champion",
            ("fail" if drifted else "pass") if gate.prediction_drift else "skip",
            value=found["score"],
            limit=f"{'>=' if 'p_value' in found['method'] else '<'} {fmt(found['threshold'])}",
            detail=f"{found['method']} {fmt(found['score'])} on {len(outputs[CANDIDATE])} "
            f"hold-out rows: {'drifted' if drifted else 'no drift'}"
            + ("" if gate.prediction_drift else " (reported only: prediction_drift is off)"),
        )
    )
    return checks, reports
