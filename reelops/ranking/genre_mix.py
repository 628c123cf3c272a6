"""How well the genre mix of recommendations matches members' true tastes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reelops.ranking.baselines import title_index
from reelops.ranking.candidates import genre_matrix, genre_shares


def genre_mix_correlation(
    recs: pd.DataFrame,
    titles: pd.DataFrame,
    member_tastes: pd.DataFrame,
    centered: bool = True,
    watched: pd.DataFrame | None = None,
) -> float:
    """Mean over members of the correlation between top-k genre mix and true taste.

    A member's genre mix sums, over its recommended titles, each title's genres
    split evenly (1/n each); its taste is its weight per genre. The Pearson
    correlation is taken over the genres of ``member_tastes``, per member, and
    averaged over members where both vectors vary.

    Raw vectors correlate even for recommendations that ignore the member (the
    catalogue's genre make-up happens to match or mismatch the average taste), so by
    default both are centred first: the mix minus the expected mix of as many titles
    drawn uniformly from the catalogue (from the titles the member has not watched
    when ``watched`` is given, as recommendations exclude them), the taste minus the
    mean taste of the members in ``member_tastes``. Then random and most-popular lists
    score about 0 and only personal recommendations score above.

    Args:
        recs: ``member_key, title_id``: each member's recommended titles (e.g. top 10).
        titles: The catalogue with ``genres`` or genre flags.
        member_tastes: ``member_key, genre, weight`` (the world's hidden tastes with
            member_id renamed).
        centered: Centre as above (default); False correlates the raw vectors.
        watched: ``member_key, title_id`` the recommendations excluded (the training
            interactions), for the centring; None when nothing was excluded.

    Returns:
        The mean correlation, in [-1, 1]; NaN when no member qualifies.
    """
    for frame, what, needed in (
        (recs, "recs", ("member_key", "title_id")),
        (member_tastes, "member_tastes", ("member_key", "genre", "weight")),
    ):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise ValueError(f"{what} needs columns {list(needed)}; missing {missing}")
    tastes = member_tastes.pivot_table(
        index="member_key", columns="genre", values="weight", aggfunc="sum", fill_value=0.0
    )
    genres, names = genre_matrix(titles)
    shares = pd.DataFrame(genre_shares(genres), columns=names, index=title_index(titles))
    shares = shares.reindex(columns=tastes.columns, fill_value=0.0)
    picked = recs[recs["member_key"].isin(tastes.index)]
    grouped = (
        shares.reindex(picked["title_id"]).fillna(0.0).groupby(picked["member_key"].to_numpy())
    )
    mix, n_recs = grouped.sum(), grouped.size()
    taste = tastes.reindex(mix.index).to_numpy()
    if centered:
        pool_sum = np.broadcast_to(shares.sum().to_numpy(), mix.shape)
        pool_size = np.full(len(mix), float(len(shares)))
        if watched is not None:
            seen = watched[["member_key", "title_id"]].drop_duplicates()
            seen = seen[seen["member_key"].isin(mix.index)]
            seen_shares = shares.reindex(seen["title_id"]).fillna(0.0)
            by_member = seen_shares.groupby(seen["member_key"].to_numpy())
            pool_sum = pool_sum - by_member.sum().reindex(mix.index, fill_value=0.0).to_numpy()
            pool_size = pool_size - by_member.size().reindex(mix.index, fill_value=0).to_numpy()
        per_title = pool_sum / np.maximum(pool_size, 1.0)[:, None]
        expected = n_recs.reindex(mix.index).to_numpy()[:, None] * per_title
        mix, taste = mix.to_numpy() - expected, taste - tastes.mean().to_numpy()
    else:
        mix = mix.to_numpy()
    mix_c = mix - mix.mean(axis=1, keepdims=True)
    taste_c = taste - taste.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(mix_c, axis=1) * np.linalg.norm(taste_c, axis=1)
    valid = norm > 1e-12
    if not valid.any():
        return float("nan")
    return float(np.mean((mix_c * taste_c).sum(axis=1)[valid] / norm[valid]))


__all__ = ["genre_mix_correlation"]
