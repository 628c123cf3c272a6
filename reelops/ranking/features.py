"""The ranker's rows: candidates with request-time cross features, graded labels and Feast features.

Training and scoring share these functions. A row is one (member, candidate title,
request time). Cross features come from the member's history before the request time
(through the fitted :class:`~reelops.ranking.candidates.CandidateGenerator`); the
``ranker_v1`` features come from Feast as of the request time: point-in-time joins
offline, the online store when serving.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reelops.features.training import build_training_set
from reelops.ranking.baselines import MostPopular
from reelops.ranking.candidates import SOURCES, CandidateConfig, CandidateGenerator, Candidates
from reelops.ranking.member_time import member_time_columns

REQUEST_TIME = "request_time"
QUERY_ID = "qid"
LABEL = "label"
CROSS_COLUMNS = (
    "x_affinity",
    "x_days_since_release",
    "x_log_popularity",
    "x_source",
    "x_source_score",
    "x_n_sources",
    *(f"x_rank_{s}" for s in SOURCES),
    *(f"x_score_{s}" for s in SOURCES),
    "x_score_knn",
    "x_popular_recent",
    "x_history_titles",
    "x_popular_member_window",
    "x_release_gap",
)
COMPLETED = 0.9  # completion from which a view is graded "completed" (dbt's threshold)


def cross_features(generator: CandidateGenerator, candidates: pd.DataFrame) -> pd.DataFrame:
    """Add the request-time member x title features to candidate rows.

    Columns added: ``x_affinity`` (the member's completion-weighted genre mix over its
    whole history, dotted with the title's genre shares), ``x_days_since_release``
    (at the generator's request time), ``x_log_popularity`` (views in the history),
    ``x_source`` (index of the best source in :data:`SOURCES`), ``x_source_score``,
    ``x_n_sources``, ``x_rank_<source>`` (0 = not proposed) and ``x_score_<source>``
    (every source's score of the title, NaN where it has none), ``x_score_ease`` and
    ``x_score_knn`` (EASE and item k-NN scores of the whole history) and
    ``x_popular_recent`` (the title's views, recent ones weighing more).

    Args:
        generator: Candidate sources fitted on the history before the request time.
        candidates: :meth:`CandidateGenerator.generate` output.

    Returns:
        A copy of ``candidates`` with the cross columns.
    """
    out = candidates.reset_index(drop=True)
    keys, member_pos = np.unique(out["member_key"].to_numpy(dtype=object), return_inverse=True)
    found = Candidates(
        rows=member_pos,
        cols=pd.Index(generator.title_ids).get_indexer(out["title_id"]),
        source=out["source"].cat.codes.to_numpy(dtype=np.int32),
        score=out["source_score"].to_numpy(dtype=np.float64),
        ranks=np.column_stack([out[f"rank_{s}"].to_numpy(dtype=np.int32) for s in SOURCES]),
        source_scores={},
    )
    columns = cross_columns(generator, keys, found)
    cross = pd.DataFrame({name: columns[name] for name in CROSS_COLUMNS}, index=out.index)
    # One concat, not one insert per column (a frame of many members x 300 candidates).
    return pd.concat([out.drop(columns=list(CROSS_COLUMNS), errors="ignore"), cross], axis=1)


def cross_columns(
    generator: CandidateGenerator, keys: np.ndarray, found: Candidates
) -> dict[str, np.ndarray]:
    """The cross features (see :func:`cross_features`) of candidates given as arrays.

    Args:
        generator: Candidate sources fitted on the history before the request time.
        keys: The members, ``found.rows`` indexing them.
        found: The candidates; their ``source_scores`` are reused when they cover
            ``keys`` (serving), else computed a chunk of members at a time.

    Returns:
        :data:`CROSS_COLUMNS` -> one value per candidate.
    """
    member_pos, cols = found.rows, found.cols
    rows = generator.data.rows(keys)
    affinity = np.zeros((len(keys), generator.affinity.shape[1]))
    affinity[rows >= 0] = generator.affinity[rows[rows >= 0]]
    columns = {
        "x_affinity": np.einsum("ij,ij->i", affinity[member_pos], generator.title_genres[cols]),
        "x_days_since_release": generator.release_days[cols],
        "x_log_popularity": generator.log_popularity[cols],
        "x_popular_recent": generator.recent_popularity[cols],
        "x_source": np.asarray(found.source, dtype=np.int32),
        "x_source_score": np.asarray(found.score, dtype=np.float64),
        "x_n_sources": (found.ranks > 0).sum(axis=1).astype(np.int32),
    }
    for i, source in enumerate(SOURCES):
        columns[f"x_rank_{source}"] = found.ranks[:, i].astype(np.int32)
    scored = {f"x_score_{name}": np.full(len(cols), np.nan) for name in (*SOURCES, "knn")}
    chunk = generator.config.chunk_size
    reuse = bool(found.source_scores) and len(keys) <= chunk
    for lo in range(0, len(keys), chunk):
        in_chunk = np.flatnonzero((member_pos >= lo) & (member_pos < lo + chunk))
        members = keys[lo : lo + chunk]
        scores = dict(found.source_scores) if reuse else generator.source_scores(members)
        history = generator.data.history(members)
        # EASE and ALS score every candidate, whichever source proposed it.
        scores.setdefault("ease", generator.ease.score_history(history))
        scores.setdefault("als", generator.als.score(members))
        scores["knn"] = generator.knn.score_history(history)
        at = (member_pos[in_chunk] - lo, cols[in_chunk])
        for name, values in scores.items():
            picked = values[at]
            scored[f"x_score_{name}"][in_chunk] = np.where(np.isfinite(picked), picked, np.nan)
    columns.update(scored)
    columns.update(member_time_columns(generator, rows, member_pos, cols))
    return columns


def fit_generator(
    history: pd.DataFrame,
    titles: pd.DataFrame,
    members: pd.DataFrame | None,
    as_of: pd.Timestamp,
    config: CandidateConfig,
) -> CandidateGenerator:
    """Candidate sources fitted on the history strictly before ``as_of``, with the extra
    scorers the cross features need (recency-weighted popularity, release ages)."""
    history = history[history["ts"] < as_of]
    generator = CandidateGenerator(history, titles, members, as_of=as_of, config=config)
    recent = MostPopular(half_life_days=config.popularity_half_life_days or 7.0)
    generator.recent_popularity = recent.fit_matrix(generator.data, titles).score(["?"])[0]
    release = pd.to_datetime(titles["release_date"], errors="coerce").to_numpy()
    generator.release_days = np.asarray(
        (as_of.to_datetime64() - release) / np.timedelta64(1, "D"), dtype=np.float64
    )
    return generator


def candidate_rows(
    generator: CandidateGenerator,
    member_keys: Sequence[str] | np.ndarray,
    request_times: pd.Series | None = None,
) -> pd.DataFrame:
    """Each member's candidates with cross features and the request time, grouped by member.

    Args:
        generator: The fitted sources.
        member_keys: Members to serve.
        request_times: Per member_key, its own request time (a per-member hold-out's
            cut-offs); default the generator's request time for everyone.
    """
    rows = cross_features(generator, generator.generate(np.asarray(member_keys, dtype=object)))
    if request_times is None:
        rows[REQUEST_TIME] = generator.as_of
    else:
        rows[REQUEST_TIME] = request_times.reindex(rows["member_key"]).to_numpy()
    return rows


def label_windows(
    interactions: pd.DataFrame, cutoff: pd.Timestamp, n_windows: int, label_share: float
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Consecutive label windows covering the last ``label_share`` of views before ``cutoff``.

    Windows hold equal numbers of views (so a bursty history such as MovieLens gets
    sensible windows too); the last one ends at ``cutoff``.

    Raises:
        ValueError: ``n_windows < 1`` or ``label_share`` outside (0, 1).
    """
    if n_windows < 1 or not 0.0 < label_share < 1.0:
        raise ValueError(
            f"need n_windows >= 1 and 0 < label_share < 1, got {n_windows}, {label_share}"
        )
    ts = interactions.loc[interactions["ts"] < cutoff, "ts"].sort_values(ignore_index=True)
    if ts.empty:
        raise ValueError(f"no views before {cutoff} to make label windows from")
    first = int(np.floor(len(ts) * (1.0 - label_share)))
    edges = [
        pd.Timestamp(ts.iloc[min(first + i * (len(ts) - first) // n_windows, len(ts) - 1)])
        for i in range(n_windows)
    ]
    edges.append(pd.Timestamp(cutoff))
    windows = [(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if a < b]
    return list(dict.fromkeys(windows))


def graded_labels(
    interactions: pd.DataFrame, impressions: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """Best label per (member, title) in ``[start, end)``: 2 completed, 1 played, 0 shown only.

    Views grade 1 (played) or 2 (completion >= 0.9); impressions add their own graded
    label, so a title shown and not played gets an explicit 0.
    """
    views = interactions[(interactions["ts"] >= start) & (interactions["ts"] < end)]
    parts = [
        pd.DataFrame(
            {
                "member_key": views["member_key"].to_numpy(),
                "title_id": views["title_id"].to_numpy(),
                LABEL: np.where(views["completion"].to_numpy() >= COMPLETED, 2, 1),
            }
        )
    ]
    if not impressions.empty:
        shown = impressions[(impressions["ts"] >= start) & (impressions["ts"] < end)]
        parts.append(shown[["member_key", "title_id", LABEL]])
    labels = pd.concat(parts, ignore_index=True)
    return labels.groupby(["member_key", "title_id"], as_index=False, sort=False)[LABEL].max()


def labelled_rows(
    generator: CandidateGenerator,
    interactions: pd.DataFrame,
    impressions: pd.DataFrame,
    end: pd.Timestamp,
    negatives_per_positive: int,
    seed: int,
) -> pd.DataFrame:
    """Training rows of one label window starting at the generator's request time.

    Members with a positive (played) title among their candidates make one request
    group each: their positive candidates (graded 1 or 2) and negatives drawn at random
    from their other candidates (label 0, shown-and-skipped ones included), up to
    ``negatives_per_positive`` negatives per positive.

    Returns:
        Candidate rows with cross features, ``request_time`` and ``label``; possibly empty.
    """
    labels = graded_labels(interactions, impressions, generator.as_of, end)
    return sampled_rows(generator, labels, None, negatives_per_positive, seed)


def sampled_rows(
    generator: CandidateGenerator,
    labels: pd.DataFrame,
    request_times: pd.Series | None,
    negatives_per_positive: int,
    seed: int,
) -> pd.DataFrame:
    """Graded candidate rows of the members with a positive label (see :func:`labelled_rows`).

    Args:
        generator: Sources fitted on the history before the labels.
        labels: ``member_key, title_id, label`` (0/1/2).
        request_times: Per member, its request time; None = the generator's.
        negatives_per_positive: Unlabelled candidates kept per positive.
        seed: Sampling seed.
    """
    positive_members = labels.loc[labels[LABEL] > 0, "member_key"].unique()
    rows = candidate_rows(generator, positive_members, request_times)
    rows = rows.merge(labels, on=["member_key", "title_id"], how="left")
    rows[LABEL] = rows[LABEL].fillna(0).astype(np.int8)
    n_pos = rows.groupby("member_key", observed=True)[LABEL].transform(lambda s: int((s > 0).sum()))
    rng = np.random.default_rng(seed)
    # Negatives drawn uniformly: the hold-out asks which unwatched title gets watched,
    # and the logging policy's skipped impressions would skew that towards its choices.
    rows["_order"] = rng.random(len(rows))
    rows = rows[n_pos > 0].sort_values(["member_key", "_order"], kind="stable")
    negative = rows[LABEL] == 0
    neg_rank = negative.groupby(rows["member_key"], observed=True).cumsum()
    budget = n_pos[rows.index] * negatives_per_positive
    keep = ~negative | (neg_rank <= budget)
    return rows[keep].drop(columns="_order").reset_index(drop=True)


def assign_query_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """Sort rows by request (request time, member) and number the requests 0, 1, 2...

    XGBoost's ranking objectives need each query's rows contiguous and the query ids
    non-decreasing; this returns a frame that satisfies both.
    """
    out = frame.sort_values([REQUEST_TIME, "member_key"], kind="stable", ignore_index=True)
    request = out[REQUEST_TIME].astype("int64").astype(str) + "|" + out["member_key"].astype(str)
    changed = np.r_[True, request.to_numpy()[1:] != request.to_numpy()[:-1]]
    out[QUERY_ID] = np.cumsum(changed) - 1
    return out


def add_store_features(
    settings, frame: pd.DataFrame, service: str, source: str | None = None, repo=None
) -> pd.DataFrame:
    """The ``service`` features of every row as of its request time (a Feast point-in-time join)."""
    return build_training_set(
        settings, frame, service, timestamp_column=REQUEST_TIME, source=source, repo=repo
    )


@dataclass(frozen=True)
class FeatureSet:
    """Model input columns: the feature service's, then the cross features."""

    store: tuple[str, ...]
    cross: tuple[str, ...] = CROSS_COLUMNS

    @property
    def columns(self) -> list[str]:
        return [*self.store, *self.cross]

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows of ``frame`` as a float32 matrix in column order (missing values NaN)."""
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise ValueError(f"feature rows lack columns {missing[:5]} ({len(missing)} missing)")
        return frame[self.columns].to_numpy(dtype=np.float32, na_value=np.nan)

    def serving_matrix(
        self,
        candidates: Mapping[str, np.ndarray],
        titles: pd.DataFrame,
        member: dict[str, object],
    ) -> np.ndarray:
        """The matrix of one request from its parts, without building a joined frame.

        Args:
            candidates: One member's candidates' cross features (:func:`cross_columns`,
                or a frame with those columns).
            titles: Per-title online features, aligned with ``candidates``.
            member: The member's online features (one value each, None when missing).
        """
        n = len(titles)
        out = np.empty((n, len(self.columns)), dtype=np.float32)
        for j, name in enumerate(self.columns):
            if name in titles:
                out[:, j] = titles[name].to_numpy(dtype=np.float32, na_value=np.nan)
            elif name in member:
                value = member[name]
                out[:, j] = np.nan if value is None else float(value)
            elif name in candidates:
                out[:, j] = np.asarray(candidates[name], dtype=np.float32)
            else:
                raise ValueError(f"no online value for feature {name!r}")
        return out


def store_columns(frame: pd.DataFrame) -> tuple[str, ...]:
    """The Feast feature columns (``<view>__<feature>``) of a joined frame, in order."""
    return tuple(c for c in frame.columns if "__" in c and not c.startswith("_"))


__all__ = [
    "CROSS_COLUMNS",
    "LABEL",
    "QUERY_ID",
    "REQUEST_TIME",
    "FeatureSet",
    "add_store_features",
    "assign_query_ids",
    "candidate_rows",
    "cross_columns",
    "cross_features",
    "fit_generator",
    "graded_labels",
    "label_windows",
    "labelled_rows",
    "store_columns",
]
