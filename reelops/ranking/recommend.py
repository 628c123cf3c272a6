"""Recommendations from a saved ranker: batch top-k for many members, online for one."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from reelops.config import Settings
from reelops.features.online import OnlineLookup
from reelops.features.store import open_store
from reelops.privacy import MemberKeyVault
from reelops.ranking.candidate_index import CandidateIndex
from reelops.ranking.candidates import SOURCES, CandidateGenerator
from reelops.ranking.data import member_tastes
from reelops.ranking.features import REQUEST_TIME, add_store_features, candidate_rows, cross_columns
from reelops.ranking.protocol import MODEL_NAME
from reelops.ranking.ranker import RankerError, RankerModel
from reelops.ranking.scoring import top_k_rows
from reelops.registry import Registry, RegistryError


class RecommendError(ValueError):
    """A recommendation request that cannot be served; the message says why."""


def resolve_version(settings: Settings, version: str | None = None) -> tuple[str, str]:
    """The ranker version to use and its stage: as given, else production, else newest.

    Raises:
        RecommendError: no ranker was trained yet, or ``version`` is unknown.
    """
    registry = Registry(settings)
    if version:
        try:
            return version, registry.get(MODEL_NAME, version).stage
        except RegistryError as error:
            raise RecommendError(str(error)) from error
    production = registry.production(MODEL_NAME)
    if production is not None:
        return production.version, "production"
    candidates = [v for v in registry.list(MODEL_NAME) if v.stage == "candidate"]
    if not candidates:
        raise RecommendError("no trained ranker in the registry: run `reelops ranker train` first")
    return candidates[-1].version, "newest candidate"


def check_k(k: int) -> int:
    """``k`` as an int, or a :class:`RecommendError` naming the allowed range."""
    if not isinstance(k, int | np.integer) or k < 1 or k > 1000:
        raise RecommendError(f"k must be a whole number from 1 to 1000, got {k!r}")
    return int(k)


@dataclass(eq=False)
class RankerRuntime:
    """A loaded ranker with the candidate index saved beside it (fitted on the whole history).

    Load once per process (:meth:`load`, which reads the registry folder only), then
    call :meth:`rank_online` for one member from the online store, or :meth:`recommend`
    for batches with features from the offline store.

    Attributes:
        settings: Platform settings.
        version: Registry version.
        folder: The model's files.
        model: The XGBoost ranker.
        index: Candidate sources as of :attr:`request_time`, titles, members and the
            cold-start lists.
    """

    settings: Settings
    version: str
    folder: Path
    model: RankerModel
    index: CandidateIndex

    @classmethod
    def load(cls, settings: Settings, version: str | None = None) -> RankerRuntime:
        """Load a registry version (default: production, else the newest candidate).

        Raises:
            RecommendError: no such version, or its files cannot be served.
        """
        version, _ = resolve_version(settings, version)
        folder = Registry(settings).files(MODEL_NAME, version)
        try:
            model = RankerModel.load(folder)
            index = CandidateIndex.load(folder)
        except (RankerError, FileNotFoundError) as error:
            raise RecommendError(str(error)) from error
        return cls(settings, version, folder, model, index)

    @property
    def source(self) -> str:
        """The data source the model was trained on."""
        return self.index.source

    @property
    def generator(self) -> CandidateGenerator:
        """The candidate sources fitted on the whole history."""
        return self.index.generator

    @property
    def request_time(self) -> pd.Timestamp:
        """The time the candidate sources and online features are as of."""
        return self.index.as_of

    def knows(self, member_key: str) -> bool:
        """Whether the member has a history (else serving gives the cold-start answer)."""
        return self.index.knows(member_key)

    def member_keys(self, member_ids: Sequence[str] | None) -> dict[str, str]:
        """Raw member id -> member_key; every member with a view when ``member_ids`` is None.

        Raises:
            RecommendError: a member id was never ingested for this source.
        """
        with MemberKeyVault(self.settings) as vault:
            if member_ids is None:
                members = self.index.members
                keys = members.loc[members["listed"], "member_key"].tolist()
                return {raw: key for key, raw in vault.raw_ids(self.source, keys).items()}
            out = {}
            for member_id in member_ids:
                key = vault.key_of(self.source, str(member_id))
                if key is None:
                    raise RecommendError(
                        f"unknown member {member_id!r}: never ingested for source "
                        f"{self.source!r} (give member ids as in the source data)"
                    )
                out[str(member_id)] = key
            return out

    def raw_id(self, member_key: str) -> str:
        """The raw member id of a member_key (for showing to operators only)."""
        with MemberKeyVault(self.settings) as vault:
            return vault.raw_ids(self.source, [member_key]).get(member_key, member_key)

    def recommend(self, member_keys: Sequence[str], k: int = 10) -> pd.DataFrame:
        """Top k of each member among unwatched candidates, features from the offline store.

        Returns:
            ``member_key, title_id, rank, score, source``.
        """
        k = check_k(k)
        rows = candidate_rows(self.generator, np.asarray(member_keys, dtype=object))
        if rows.empty:
            return pd.DataFrame(columns=["member_key", "title_id", "rank", "score", "source"])
        rows = add_store_features(
            self.settings, rows, self.model.meta["feature_service"], source=self.source
        )
        rows["score"] = self.model.score(rows)
        top = top_k_rows(rows[["member_key", "title_id", "source", "score"]], k)
        return top[["member_key", "title_id", "rank", "score", "source"]]

    def online_lookup(self):
        """An online feature lookup for this source (build once, reuse per request)."""
        return OnlineLookup(open_store(self.settings, self.source, apply=False))

    def rank_online(
        self, member_key: str, lookup, k: int = 10, request_time: datetime | None = None
    ) -> tuple[pd.DataFrame, dict[str, float]]:
        """Rank one member's candidates with features from the online store.

        Args:
            member_key: The member's pseudonymous key.
            lookup: :meth:`online_lookup`'s result.
            k: How many titles to return.
            request_time: When the request is served; default :attr:`request_time`.

        Returns:
            The top k (``title_id, rank, score, source``) and the milliseconds spent on
            candidates, features and scoring.
        """
        k = check_k(k)
        at = request_time or self.request_time.to_pydatetime()
        t0 = time.perf_counter()
        # Arrays, not frames: the same candidates and cross features as the batch path.
        keys = np.asarray([member_key], dtype=object)
        found = self.generator.select(keys)
        cross = cross_columns(self.generator, keys, found)
        title_ids = self.generator.title_ids[found.cols]
        t1 = time.perf_counter()
        online = lookup.lookup(member_key, title_ids.tolist(), None, at)
        matrix = self.model.features.serving_matrix(cross, online.titles, online.member.values)
        t2 = time.perf_counter()
        scores = self.model.score_matrix(matrix)
        best = np.argsort(-scores, kind="stable")[:k]
        top = pd.DataFrame(
            {
                "title_id": title_ids[best],
                "rank": np.arange(1, len(best) + 1),
                "score": scores[best],
                "source": np.asarray(SOURCES, dtype=object)[found.source[best]],
            }
        )
        t3 = time.perf_counter()
        timings = {
            "candidates_ms": (t1 - t0) * 1e3,
            "features_ms": (t2 - t1) * 1e3,
            "score_ms": (t3 - t2) * 1e3,
        }
        return top[["title_id", "rank", "score", "source"]], timings

    def report_text(self) -> str:
        """The evaluation report saved with the model (empty when none was)."""
        path = self.folder / "report.txt"
        return path.read_text() if path.is_file() else ""

    def sample_members(self, n: int = 2, seed: int = 0) -> list[str]:
        """``n`` members with at least 10 views, drawn with a seed."""
        members = self.index.members
        eligible = np.sort(members.loc[members["n_views"] >= 10, "member_key"].to_numpy())
        rng = np.random.default_rng(seed)
        return rng.choice(eligible, size=min(n, len(eligible)), replace=False).tolist()

    def favourite_genres(self, member_key: str, n: int = 3) -> str:
        """True favourite genres on the synthetic world, else the watched-genre mix's top."""
        tastes = member_tastes(self.settings, self.source)
        if tastes is not None:
            mine = tastes[tastes["member_key"] == member_key].nlargest(n, "weight")
            return ", ".join(
                f"{g} {w:.2f}" for g, w in zip(mine["genre"], mine["weight"], strict=True)
            )
        row = self.generator.data.rows([member_key])[0]
        if row < 0:
            return "(no history)"
        shares = self.generator.affinity[row]
        best = np.argsort(-shares)[:n]
        names = self.generator.genre_names
        return ", ".join(f"{names[i]} {shares[i]:.2f} watched" for i in best if shares[i] > 0)

    def explain(self, member_keys: Sequence[str], k: int = 10):
        """Per member: (member_key, favourite genres, top k with genres and source)."""
        recs = self.recommend(member_keys, k)
        genres = self.index.titles.set_index("title_id")["genres"]
        recs = recs.assign(genres=genres.reindex(recs["title_id"]).fillna("").to_numpy())
        for key in member_keys:
            yield key, self.favourite_genres(key), recs[recs["member_key"] == key]


def write_recommendations(frame: pd.DataFrame, out: Path) -> Path:
    """Write recommendations as CSV or parquet, chosen by the file's suffix.

    Raises:
        RecommendError: a suffix other than .csv or .parquet.
    """
    out = Path(out)
    if out.suffix not in (".csv", ".parquet"):
        raise RecommendError(f"--out must end in .csv or .parquet, got {out.name!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        frame.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)
    return out


def batch_recommendations(
    settings: Settings,
    members: str,
    k: int = 10,
    version: str | None = None,
    chunk: int = 2000,
) -> tuple[pd.DataFrame, str, str]:
    """``reelops ranker recommend``: top k per member by raw member id.

    Args:
        settings: Platform settings.
        members: ``all`` or comma-separated raw member ids (as in the source data).
        k: Titles per member, 1..1000.
        version: Registry version; default production, else the newest candidate.
        chunk: Members scored per batch.

    Returns:
        ``member_id, title_id, rank, score, source`` (watched titles excluded), the
        version used and its stage.

    Raises:
        RecommendError: bad ``k``, no model, or an unknown member.
    """
    check_k(k)
    ids = None if members.strip().lower() == "all" else [m.strip() for m in members.split(",")]
    if ids is not None and not all(ids):
        raise RecommendError(f"--members must be 'all' or comma-separated ids, got {members!r}")
    version, stage = resolve_version(settings, version)
    recommender = RankerRuntime.load(settings, version)
    raw_of = {key: raw for raw, key in recommender.member_keys(ids).items()}
    keys = list(raw_of)
    parts = [recommender.recommend(keys[i : i + chunk], k) for i in range(0, len(keys), chunk)]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    frame.insert(0, "member_id", frame.pop("member_key").map(raw_of))
    return frame.sort_values(["member_id", "rank"], ignore_index=True), version, stage


__all__ = [
    "REQUEST_TIME",
    "RecommendError",
    "RankerRuntime",
    "batch_recommendations",
    "check_k",
    "resolve_version",
    "write_recommendations",
]
