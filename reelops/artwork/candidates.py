"""Each impression's candidate artwork: every variant of its title, as fixed-width arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reelops.artwork.features import genre_matrix


@dataclass(frozen=True, eq=False)
class Candidates:
    """Impressions with their title's variants in ``(impressions, width)`` arrays.

    Attributes:
        impressions: The impressions (member_id, title_id, variant_id, row_index,
            position, ...), one per row of the arrays.
        variant_ids: Variant of each column; ``""`` past the title's last variant.
        themes: Theme of each column.
        mask: True where a column is a variant of the title.
        logged: Column of the variant that was shown.
        title_genres: ``(impressions, genres)`` 0/1 of each impression's title.
    """

    impressions: pd.DataFrame
    variant_ids: np.ndarray
    themes: np.ndarray
    mask: np.ndarray
    logged: np.ndarray
    title_genres: np.ndarray

    @property
    def n_variants(self) -> np.ndarray:
        return self.mask.sum(axis=1)

    def uniform(self) -> np.ndarray:
        """The world's logging rule for artwork: uniform over the title's variants."""
        return self.mask / self.n_variants[:, None]

    def logged_prob(self, probs: np.ndarray) -> np.ndarray:
        return probs[np.arange(len(self.logged)), self.logged]


def build_candidates(
    impressions: pd.DataFrame, variants: pd.DataFrame, titles: pd.DataFrame
) -> Candidates:
    """Lay out every variant of each impression's title (variants in ``variant_id`` order).

    Raises:
        ValueError: an impression's title has no variants, or its variant is not one of
            them (naming the impression).
    """
    ordered = variants.sort_values(["title_id", "variant_id"]).reset_index(drop=True)
    per_title = ordered.groupby("title_id", sort=False).size()
    start = pd.Series(np.cumsum(per_title.to_numpy()) - per_title.to_numpy(), per_title.index)
    titles_of = impressions["title_id"]
    first = start.reindex(titles_of.to_numpy()).to_numpy()
    count = per_title.reindex(titles_of.to_numpy()).to_numpy()
    if np.isnan(first).any():
        bad = impressions.iloc[int(np.flatnonzero(np.isnan(first))[0])]
        raise ValueError(
            f"impression {bad.get('impression_id')}: title {bad.title_id} has no variants"
        )
    first, count = first.astype(np.int64), count.astype(np.int64)
    width = int(per_title.max())
    cols = np.arange(width)
    mask = cols[None, :] < count[:, None]
    where = np.where(mask, first[:, None] + cols[None, :], 0)
    ids = np.where(mask, ordered["variant_id"].to_numpy(dtype=object)[where], "")
    themes = np.where(mask, ordered["theme"].to_numpy(dtype=object)[where], "")
    hit = ids == impressions["variant_id"].to_numpy(dtype=object)[:, None]
    if not hit.any(axis=1).all():
        bad = impressions.iloc[int(np.flatnonzero(~hit.any(axis=1))[0])]
        raise ValueError(
            f"impression {bad.get('impression_id')}: variant {bad.variant_id} is not one of "
            f"title {bad.title_id}'s variants"
        )
    genres = titles.set_index("title_id")["genres"].reindex(titles_of.to_numpy())
    return Candidates(
        impressions=impressions.reset_index(drop=True),
        variant_ids=ids,
        themes=themes,
        mask=mask,
        logged=hit.argmax(axis=1),
        title_genres=genre_matrix(genres.reset_index(drop=True)),
    )
