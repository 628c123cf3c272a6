"""The candidate index saved with a ranker: all a service needs to answer, as plain files.

At save time the candidate sources are fitted on the whole history (as of the end of
its last day), and written beside the model with the cold-start lists, so a service
loads them from the registry folder and never reads the lake or the warehouse.

Files in ``<model folder>/candidate_index/``:

* ``index.json``: source, request time, candidate settings, genre names, the popularity
  groups and the cold-start lists (most watched titles per country over the last 28 days);
* ``arrays.npz``: per-member watched history (row, column, last view, best completion),
  genre affinities, recent and finished titles, co-watch neighbours, EASE weights,
  ALS factors, popularity overall and per group, title genre shares, release ages, fresh titles;
* ``titles.parquet``: ``title_id`` (the column order) and ``genres``;
* ``members.parquet``: ``member_key``, ``row`` (in the history, -1 without one),
  ``n_views`` and ``listed`` (in ``dim_members``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from reelops.ranking.als import ALS
from reelops.ranking.baselines import EASE, InteractionMatrix, ItemKNN, MostPopular
from reelops.ranking.candidates import CandidateConfig, CandidateGenerator
from reelops.ranking.data import RankingData
from reelops.ranking.features import fit_generator

INDEX_DIR = "candidate_index"
POPULAR_DAYS = 28
POPULAR_SIZE = 100
ALL_COUNTRIES = "*"


def popular_by_country(data: RankingData) -> dict[str, list[str]]:
    """Titles most watched in each country (and overall, ``"*"``) over the last 28 days."""
    views = data.interactions
    recent = views[views["ts"] > views["ts"].max() - pd.Timedelta(days=POPULAR_DAYS)]
    out = {ALL_COUNTRIES: recent["title_id"].value_counts().index[:POPULAR_SIZE].tolist()}
    if "country" in data.members.columns:
        joined = recent.merge(data.members[["member_key", "country"]], on="member_key")
        for country, group in joined.groupby("country"):
            out[str(country)] = group["title_id"].value_counts().index[:POPULAR_SIZE].tolist()
    return out


@dataclass(eq=False)
class CandidateIndex:
    """Candidate sources fitted on the whole history, and what serving shows beside them.

    Attributes:
        source: The data source the history came from.
        generator: The fitted candidate sources (request time :attr:`as_of`).
        titles: ``title_id, genres`` of the catalogue, in score column order.
        members: ``member_key, n_views, listed``: every member with a view or in
            ``dim_members`` (``listed``).
        popular: Country (or ``"*"``) -> title ids, most watched first: the cold-start
            answer.
    """

    source: str
    generator: CandidateGenerator
    titles: pd.DataFrame
    members: pd.DataFrame
    popular: dict[str, list[str]]

    @property
    def as_of(self) -> pd.Timestamp:
        """The request time the sources are fitted for."""
        return self.generator.as_of

    def knows(self, member_key: str) -> bool:
        """Whether the member has a watched history (else it gets the cold-start answer)."""
        return bool(self.generator.data.rows([member_key])[0] >= 0)

    @classmethod
    def build(cls, data: RankingData, config: CandidateConfig) -> CandidateIndex:
        """Fit the sources on all of ``data``'s history, as of the end of its last day.

        Every view counts, and the daily feature rows of that day (stamped at its end)
        are as of the request.
        """
        as_of = pd.Timestamp(data.interactions["ts"].max()).ceil("D")
        generator = fit_generator(data.interactions, data.titles, data.members, as_of, config)
        views = data.interactions["member_key"].value_counts()
        listed = pd.Index(data.members["member_key"].drop_duplicates())
        keys = listed.append(views.index.difference(listed))
        members = pd.DataFrame(
            {
                "member_key": keys.to_numpy(dtype=object),
                "n_views": views.reindex(keys, fill_value=0).to_numpy(dtype=np.int64),
                "listed": keys.isin(listed),
            }
        )
        titles = data.titles[["title_id", "genres"]].reset_index(drop=True)
        return cls(data.source, generator, titles, members, popular_by_country(data))

    def save(self, model_folder: Path) -> Path:
        """Write the index to ``model_folder/candidate_index`` (replacing an old one)."""
        folder = Path(model_folder) / INDEX_DIR
        folder.mkdir(parents=True, exist_ok=True)
        g = self.generator
        cells = g.data.cells
        arrays = {
            "cells_row": cells["row"].to_numpy(dtype=np.int64),
            "cells_col": cells["col"].to_numpy(dtype=np.int64),
            "cells_ts": cells["ts"].to_numpy(dtype="datetime64[ns]"),
            "cells_completion": cells["completion"].to_numpy(dtype=np.float64),
            "affinity": g.affinity,
            "title_genres": g.title_genres,
            "log_popularity": g.log_popularity,
            "recent_popularity": g.recent_popularity,
            "release_days": g.release_days,
            "unreleased": g.unreleased,
            "fresh": g.fresh,
            "popular_overall": g.popular.overall,
            "popular_by_group": g.popular.by_group,
            "popular_group_of_row": g.popular.group_of_row,
            "ease_weights": np.asarray(g.ease.weights),
            "als_member_factors": g.als.member_factors,
            "als_title_factors": g.als.title_factors,
        }
        for name, matrix in (
            ("recent", g.recent),
            ("finished", g.finished),
            ("knn_weights", g.knn.weights),
        ):
            csr = sp.csr_matrix(matrix)
            arrays.update(
                {
                    f"{name}_data": csr.data,
                    f"{name}_indices": csr.indices,
                    f"{name}_indptr": csr.indptr,
                    f"{name}_shape": np.asarray(csr.shape),
                }
            )
        np.savez(folder / "arrays.npz", **arrays)
        config = asdict(g.config)
        config["quotas"] = dict(config["quotas"])
        meta = {
            "source": self.source,
            "as_of": g.as_of.isoformat(),
            "history_end": g.data.end.isoformat(),
            "config": config,
            "genre_names": list(g.genre_names),
            "popular_groups": [str(v) for v in getattr(g.popular, "groups", [])],
            "popular_by": g.popular.by,
            "popular_half_life_days": g.popular.half_life_days,
            "popular_shrinkage": g.popular.shrinkage,
            "neighbours": g.knn.neighbours,
            "ease_l2": g.ease.l2,
            "cold_start": self.popular,
        }
        (folder / "index.json").write_text(json.dumps(meta, indent=2))
        self.titles.to_parquet(folder / "titles.parquet", index=False)
        rows = g.data.rows(self.members["member_key"].to_numpy(dtype=object))
        self.members.assign(row=rows).to_parquet(folder / "members.parquet", index=False)
        return folder

    @classmethod
    def load(cls, model_folder: Path) -> CandidateIndex:
        """Read an index written by :meth:`save`.

        Raises:
            FileNotFoundError: the folder has no index (a model saved before indexes
                were; retrain it).
        """
        folder = Path(model_folder) / INDEX_DIR
        if not (folder / "index.json").is_file():
            raise FileNotFoundError(
                f"{folder} is missing: this ranker was saved without its candidate index; "
                "retrain it (`reelops ranker train`) to serve it"
            )
        meta = json.loads((folder / "index.json").read_text())
        titles = pd.read_parquet(folder / "titles.parquet")
        members = pd.read_parquet(folder / "members.parquet")
        with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        generator = _restore_generator(meta, arrays, titles, members)
        members = members.drop(columns="row")
        return cls(meta["source"], generator, titles, members, meta["cold_start"])


def _restore_generator(
    meta: dict, arrays: dict[str, np.ndarray], titles: pd.DataFrame, members: pd.DataFrame
) -> CandidateGenerator:
    """The fitted generator from its saved parts, without refitting.

    Sets exactly the attributes that ``CandidateGenerator.__init__`` and
    :func:`~reelops.ranking.features.fit_generator` set and that candidate selection
    and the cross features read (the k-NN's dense similarity is not kept).
    """
    title_ids = pd.Index(titles["title_id"])
    in_history = members[members["row"] >= 0].sort_values("row")
    cells = pd.DataFrame(
        {
            "row": arrays["cells_row"],
            "col": arrays["cells_col"],
            "ts": arrays["cells_ts"],
            "completion": arrays["cells_completion"],
        }
    )
    shape = (len(in_history), len(title_ids))
    matrix = sp.csr_matrix(
        (np.ones(len(cells), dtype=np.float64), (cells["row"], cells["col"])), shape=shape
    )
    data = InteractionMatrix(
        pd.Index(in_history["member_key"].to_numpy(dtype=object)),
        title_ids,
        matrix,
        cells,
        pd.Timestamp(meta["history_end"]),
    )

    def sparse(name: str) -> sp.csr_matrix:
        parts = (arrays[f"{name}_data"], arrays[f"{name}_indices"], arrays[f"{name}_indptr"])
        return sp.csr_matrix(parts, shape=tuple(arrays[f"{name}_shape"]))

    popular = MostPopular(
        meta["popular_by"], meta["popular_half_life_days"], meta["popular_shrinkage"]
    )
    popular.data = data
    popular.overall = arrays["popular_overall"]
    popular.by_group = arrays["popular_by_group"]
    popular.group_of_row = arrays["popular_group_of_row"]
    popular.groups = pd.Index(meta["popular_groups"], dtype=object)
    knn = ItemKNN(meta["neighbours"])
    knn.data, knn.weights = data, sparse("knn_weights")
    ease = EASE(meta["ease_l2"])
    ease.data, ease.weights = data, arrays["ease_weights"]
    als = ALS(**dict(meta["config"].get("als", {})))
    als.data = data
    als.member_factors = arrays["als_member_factors"]
    als.title_factors = arrays["als_title_factors"]

    generator = CandidateGenerator.__new__(CandidateGenerator)
    generator.config = CandidateConfig(**meta["config"])
    generator.data = data
    generator.as_of = pd.Timestamp(meta["as_of"])
    generator.title_ids = title_ids.to_numpy()
    generator.unreleased = arrays["unreleased"]
    generator.fresh = arrays["fresh"]
    generator.popular = popular
    generator.knn = knn
    generator.finished = sparse("finished")
    generator.recent = sparse("recent")
    generator.genre_names = list(meta["genre_names"])
    generator.title_genres = arrays["title_genres"]
    generator.affinity = arrays["affinity"]
    generator.log_popularity = arrays["log_popularity"]
    generator.ease = ease
    generator.als = als
    generator.recent_popularity = arrays["recent_popularity"]
    generator.release_days = arrays["release_days"]
    return generator


__all__ = [
    "ALL_COUNTRIES",
    "INDEX_DIR",
    "POPULAR_DAYS",
    "POPULAR_SIZE",
    "CandidateIndex",
    "popular_by_country",
]
