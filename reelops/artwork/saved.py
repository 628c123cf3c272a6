"""An artwork policy as files: what the registry keeps and the recommender loads.

A saved version holds ``policy/`` (what serves), ``holdout/`` (what judges it),
``reference_features.parquet`` (drift's reference) and ``evaluation.json``. A policy
folder holds::

    policy.json               exploration rule, reward target, feature space, the spec
    booster_<b>.json          the reward model's XGBoost bags (XGBoost's JSON format)
    evidence_variant.parquet  per variant: impressions, plays, good plays of the log
    evidence_theme.parquet    per theme: play and good-play rates
    evidence_affinity.parquet per theme: play lift by member taste (genre shares)
    profiles.parquet          member taste and demographics the policy scores with
    catalogue.parquet         every title's variants: title_id, variant_id, theme, genres

Everything is plain JSON or parquet (no pickles), so a folder from the registry is read
without running code from it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from reelops.artwork.features import Evidence, FeatureSpace
from reelops.artwork.policy import ArtworkPolicy, ArtworkSpec, Exploration, RewardModel

MODEL = "artwork"  # the registry name
# A saved version's folder: what serves, what judges it, the drift reference, the figures.
POLICY_DIR = "policy"
HOLDOUT_DIR = "holdout"
REFERENCE_FILE = "reference_features.parquet"
EVALUATION_FILE = "evaluation.json"
POLICY_FILE = "policy.json"
CATALOGUE_FILE = "catalogue.parquet"
CATALOGUE_COLUMNS = ["title_id", "variant_id", "theme", "genres"]


def catalogue_frame(variants: pd.DataFrame, titles: pd.DataFrame) -> pd.DataFrame:
    """Every variant with its theme and its title's genres, in title then variant order."""
    genres = titles.set_index("title_id")["genres"]
    out = variants[["title_id", "variant_id", "theme"]].assign(
        genres=genres.reindex(variants["title_id"].to_numpy()).fillna("").to_numpy()
    )
    return out.sort_values(["title_id", "variant_id"]).reset_index(drop=True)


def save_policy(
    policy: ArtworkPolicy, folder: Path, spec: ArtworkSpec, catalogue: pd.DataFrame
) -> Path:
    """Write ``policy`` (with ``catalogue``: :func:`catalogue_frame`) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    model = policy.model
    for b, booster in enumerate(model.boosters):
        booster.save_model(str(folder / f"booster_{b}.json"))
    meta = {
        "exploration": policy.exploration.model_dump(),
        "target": model.target,
        "bags": len(model.boosters),
        "themes": list(model.space.themes),
        "profile_columns": list(model.space.profile_columns),
        "spec": spec.model_dump(),
    }
    (folder / POLICY_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    model.evidence.variant.to_parquet(folder / "evidence_variant.parquet")
    model.evidence.theme.to_parquet(folder / "evidence_theme.parquet")
    model.evidence.affinity.to_parquet(folder / "evidence_affinity.parquet")
    model.profiles.to_parquet(folder / "profiles.parquet")
    catalogue[CATALOGUE_COLUMNS].to_parquet(folder / CATALOGUE_FILE, index=False)
    return folder


def load_policy(folder: Path) -> ArtworkPolicy:
    """The policy saved in ``folder`` by :func:`save_policy`.

    Raises:
        FileNotFoundError: ``folder`` holds no saved policy (naming the file).
    """
    import xgboost as xgb

    folder = Path(folder)
    if not (folder / POLICY_FILE).is_file():
        raise FileNotFoundError(f"{folder / POLICY_FILE}: not a saved artwork policy")
    meta = json.loads((folder / POLICY_FILE).read_text())
    boosters = []
    for b in range(meta["bags"]):
        booster = xgb.Booster()
        booster.load_model(str(folder / f"booster_{b}.json"))
        booster.set_param({"nthread": 1})
        boosters.append(booster)
    evidence = Evidence(
        variant=pd.read_parquet(folder / "evidence_variant.parquet"),
        theme=pd.read_parquet(folder / "evidence_theme.parquet"),
        affinity=pd.read_parquet(folder / "evidence_affinity.parquet"),
    )
    space = FeatureSpace(tuple(meta["themes"]), tuple(meta["profile_columns"]))
    model = RewardModel(
        boosters, space, pd.read_parquet(folder / "profiles.parquet"), evidence, meta["target"]
    )
    return ArtworkPolicy(model, Exploration.model_validate(meta["exploration"]))


def load_catalogue(folder: Path) -> pd.DataFrame:
    """The catalogue saved with a policy (title_id, variant_id, theme, genres)."""
    return pd.read_parquet(Path(folder) / CATALOGUE_FILE)
