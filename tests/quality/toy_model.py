"""A toy model kind for release tests: ``y = weight * x``, saved in the registry for real.

Its evaluator speaks the :class:`ReleaseEvidence` contract like the ranker's and the
bitrate model's do, on a fixed hold-out, so the release path (gates, approval,
promotion, rollback) runs end to end without training anything heavy. Importable
as ``toy_model`` (the spec's evaluator is ``toy_model:evaluate``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from reelops.quality.evidence import ReleaseEvidence
from reelops.registry import Registry

COUNTRIES = ("US", "GB", "BR", "IN")

SPEC = """
name: toy
feature_service: toy_v1
evaluator: toy_model:evaluate
approval: {approval}
gates:
  quality: {{metric: score, tolerance: 0.01}}
  drift: {{max_drifted_share: 0.5}}
  bias:
    segments: [country, gender]
    min_units: 20
    checks:
      - {{kind: segment_ratio, metric: score, min: 0.5}}
"""


def write_spec(folder: Path, approval: str = "auto") -> Path:
    path = Path(folder) / "toy.yaml"
    path.write_text(SPEC.format(approval=approval))
    return path


def save(settings, weight: float, *, seed: int = 0, shift: float = 0.0) -> str:
    """Train-free "training": write the model and its training sample, save a candidate."""
    rng = np.random.default_rng(seed)
    folder = settings.home / "toy_build" / f"w{weight}_s{seed}_{shift}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.json").write_text(json.dumps({"weight": weight}))
    train = pd.DataFrame({"x": rng.normal(shift, 1, 500), "country": rng.choice(COUNTRIES, 500)})
    train.to_csv(folder / "train.csv", index=False)
    version = Registry(settings).save(
        "toy", folder, metrics={"weight": weight}, lineage={"seed": seed, "shift": shift}
    )
    return version.version


def predict(files: Path, x: np.ndarray) -> np.ndarray:
    weight = json.loads((Path(files) / "model.json").read_text())["weight"]
    return weight * np.asarray(x, dtype=np.float64)


def holdout() -> pd.DataFrame:
    rng = np.random.default_rng(123)
    x = rng.normal(0, 1, 400)
    return pd.DataFrame(
        {
            "unit": [f"u{i:03d}" for i in range(400)],
            "x": x,
            "y": 2.0 * x + rng.normal(0, 0.3, 400),
            "country": rng.choice(COUNTRIES, 400),
        }
    )


def evaluate(settings, spec, candidate_version, champion_version) -> ReleaseEvidence:
    """Candidate, champion and a predict-zero baseline on the fixed hold-out."""
    registry = Registry(settings)
    data = holdout()
    versions = {"candidate": candidate_version, "champion": champion_version}
    outputs = {
        label: predict(registry.files("toy", v), data["x"]) for label, v in versions.items() if v
    }
    outputs["zero"] = np.zeros(len(data))
    frames = [
        data[["unit", "country"]].assign(label=label, score=1 / (1 + np.abs(out - data["y"])))
        for label, out in outputs.items()
    ]
    per_unit = pd.concat(frames, ignore_index=True)
    return ReleaseEvidence(
        model="toy",
        candidate_version=candidate_version,
        champion_version=champion_version,
        metric="score",
        higher_is_better=True,
        baselines=["zero"],
        overall=per_unit.groupby("label")[["score"]].mean(),
        per_unit=per_unit,
        reference_features={
            label: pd.read_csv(registry.files("toy", v) / "train.csv")
            for label, v in versions.items()
            if v
        },
        predictions={label: pd.Series(out) for label, out in outputs.items() if label in versions},
        protocol={"holdout": "fixed, 400 rows"},
        holdout_features=data[["x", "country"]],
    )
