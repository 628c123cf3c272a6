"""The title catalogue: titles, artwork variants and their hidden quality and appeal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from reelops.schema import GENRES
from reelops.world.frames import join_strings, lookup, padded_ids, raw_frame
from reelops.world.sampling import top_k
from reelops.world.text import synopses, title_names

GENRE_LIST: tuple[str, ...] = tuple(g for g in GENRES if g != "unknown")

# Relative frequency of each genre on titles; shapes the catalogue like a real one.
CATALOG_GENRE_SHARE = {
    "Action": 0.15, "Adventure": 0.10, "Animation": 0.06, "Children's": 0.06, "Comedy": 0.25,
    "Crime": 0.10, "Documentary": 0.06, "Drama": 0.30, "Fantasy": 0.05, "Film-Noir": 0.01,
    "Horror": 0.08, "Musical": 0.03, "Mystery": 0.05, "Romance": 0.12, "Sci-Fi": 0.08,
    "Thriller": 0.15, "War": 0.03, "Western": 0.02,
}  # fmt: skip

THEMES: tuple[str, ...] = (
    "action-shot", "romance-couple", "ensemble", "dark-moody", "comedic", "landscape",
    "character-closeup", "family",
)  # fmt: skip

# How well an artwork theme fits a genre (0..1): drives both which themes a title's
# artwork gets and how much a member with that genre taste is drawn to the theme.
THEME_FIT: dict[str, dict[str, float]] = {
    "action-shot": {"Action": 1.0, "Adventure": 0.8, "War": 0.7, "Sci-Fi": 0.6, "Western": 0.6,
                    "Thriller": 0.4, "Fantasy": 0.4, "Crime": 0.3},
    "romance-couple": {"Romance": 1.0, "Drama": 0.5, "Musical": 0.4, "Comedy": 0.3},
    "ensemble": {"Comedy": 0.5, "Musical": 0.5, "Drama": 0.4, "Crime": 0.3, "Adventure": 0.3,
                 "Children's": 0.3, "War": 0.2},
    "dark-moody": {"Horror": 1.0, "Film-Noir": 1.0, "Thriller": 0.8, "Mystery": 0.8,
                   "Crime": 0.7, "Sci-Fi": 0.3, "War": 0.3, "Drama": 0.2},
    "comedic": {"Comedy": 1.0, "Animation": 0.7, "Children's": 0.6, "Musical": 0.4,
                "Romance": 0.2},
    "landscape": {"Documentary": 0.8, "Western": 0.8, "Adventure": 0.6, "Fantasy": 0.4,
                  "War": 0.3, "Drama": 0.2},
    "character-closeup": {"Drama": 0.7, "Documentary": 0.5, "Film-Noir": 0.4, "Thriller": 0.3,
                          "Mystery": 0.3, "Romance": 0.3},
    "family": {"Children's": 1.0, "Animation": 0.9, "Fantasy": 0.5, "Comedy": 0.3,
               "Musical": 0.3},
}  # fmt: skip

MATURITY: tuple[str, ...] = ("G", "PG", "PG-13", "R", "NC-17")
# A title's maturity is driven by its most mature genre (scale of MATURITY's indices).
GENRE_MATURITY = {
    "Children's": 0.0, "Animation": 0.4, "Musical": 1.0, "Documentary": 1.2, "Comedy": 1.6,
    "Romance": 1.6, "Fantasy": 1.6, "Adventure": 1.7, "Western": 2.0, "Sci-Fi": 2.0,
    "Drama": 2.0, "Mystery": 2.1, "Action": 2.3, "Film-Noir": 2.5, "War": 2.7, "Crime": 2.8,
    "Thriller": 2.8, "Horror": 3.2,
}  # fmt: skip
GENRE_RUNTIME_MIN = {
    "Children's": 84, "Animation": 88, "Documentary": 92, "Horror": 95, "Comedy": 98,
    "Film-Noir": 98, "Mystery": 105, "Romance": 105, "Thriller": 106, "Western": 108,
    "Action": 110, "Musical": 110, "Adventure": 112, "Crime": 112, "Sci-Fi": 112,
    "Drama": 115, "Fantasy": 115, "War": 130,
}  # fmt: skip

OLDEST_RELEASE = date(1930, 1, 1)
# Misleading artwork: only a variant whose base appeal (play-logit bonus) is above this can
# be misleading; it draws plays it does not earn, and many of them are abandoned early.
MISLEADING_APPEAL = 0.25


def theme_fit_matrix() -> np.ndarray:
    """THEME_FIT as an array of shape (genres, themes), rows in GENRE_LIST order."""
    fit = np.zeros((len(GENRE_LIST), len(THEMES)))
    for j, theme in enumerate(THEMES):
        for genre, value in THEME_FIT[theme].items():
            fit[GENRE_LIST.index(genre), j] = value
    return fit


@dataclass(frozen=True, eq=False)
class Catalog:
    """Titles and artwork as raw tables plus the arrays behaviour is simulated from.

    Title arrays are indexed by title position, variant arrays by variant position.
    ``release_day`` counts days from the world's start (negative: released before).
    ``variant_appeal[v, g]`` is the play-logit bonus of variant ``v`` for a member
    whose whole taste is genre ``g``; a member's appeal is the taste-weighted sum.
    """

    titles: pd.DataFrame
    artwork_variants: pd.DataFrame
    genres: np.ndarray  # (titles, 3) indices into GENRE_LIST, -1 pads
    n_genres: np.ndarray
    release_day: np.ndarray
    runtime_min: np.ndarray
    quality: np.ndarray
    popularity: np.ndarray  # log scale
    variant_start: np.ndarray
    n_variants: np.ndarray
    variant_theme: np.ndarray
    variant_base_appeal: np.ndarray
    artwork_effect: float
    variant_misleading: np.ndarray  # bool per variant: plays from it are often abandoned

    @property
    def variant_appeal(self) -> np.ndarray:
        fit = theme_fit_matrix()
        return (
            self.variant_base_appeal[:, None] + self.artwork_effect * fit[:, self.variant_theme].T
        )

    def title_quality_truth(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "title_id": self.titles["title_id"],
                "quality": self.quality,
                "popularity": self.popularity,
            }
        )

    def artwork_appeal_truth(self) -> pd.DataFrame:
        """One row per variant and genre: ``appeal`` for a member whose taste is that genre."""
        n_variants, n_genres = len(self.variant_theme), len(GENRE_LIST)
        variants = self.artwork_variants
        return pd.DataFrame(
            {
                "title_id": np.repeat(variants["title_id"].to_numpy(), n_genres),
                "variant_id": np.repeat(variants["variant_id"].to_numpy(), n_genres),
                "theme": np.repeat(variants["theme"].to_numpy(), n_genres),
                "genre": np.tile(np.array(GENRE_LIST, dtype=object), n_variants),
                "appeal": self.variant_appeal.reshape(-1),
            }
        )

    def artwork_misleading_truth(self) -> pd.DataFrame:
        """One row per variant: whether it is misleading (see :data:`MISLEADING_APPEAL`)."""
        variants = self.artwork_variants
        return pd.DataFrame(
            {
                "title_id": variants["title_id"].to_numpy(),
                "variant_id": variants["variant_id"].to_numpy(),
                "theme": variants["theme"].to_numpy(),
                "base_appeal": self.variant_base_appeal,
                "misleading": self.variant_misleading,
            }
        )


def draw_catalog(
    rng: np.random.Generator,
    n_titles: int,
    start: date,
    days: int,
    new_release_share: float,
    artwork_effect: float,
    misleading_share: float = 0.0,
) -> Catalog:
    """Draw the catalogue.

    Args:
        rng: Source of randomness.
        n_titles: Number of titles.
        start: First day of the simulated period.
        days: Length of the simulated period.
        new_release_share: Share of titles released during the period.
        artwork_effect: Play-logit bonus of a perfectly fitting artwork theme.
        misleading_share: Chance that a variant of base appeal above
            :data:`MISLEADING_APPEAL` is misleading.

    Returns:
        The catalogue with its hidden quality, popularity and artwork appeal.
    """
    share = np.array([CATALOG_GENRE_SHARE[g] for g in GENRE_LIST])
    n_genres = rng.choice([1, 2, 3], size=n_titles, p=[0.4, 0.4, 0.2])
    genres = _pad(top_k(rng, np.broadcast_to(np.log(share), (n_titles, len(share))), n_genres), 3)
    quality = rng.normal(0.0, 0.6, n_titles)
    release_day = _release_days(rng, n_titles, start, days, new_release_share)
    release_date = np.datetime64(start, "D") + release_day.astype("timedelta64[D]")
    release_year = release_date.astype("datetime64[Y]").astype(np.int64) + 1970

    valid = genres >= 0
    safe = np.where(valid, genres, 0)
    genre_share = np.where(valid, share[safe], 0.0).sum(axis=1) / n_genres
    # Recent and well-made titles in common genres draw the crowds, plus plenty of luck.
    popularity = (
        0.8 * quality
        + 0.5 * np.log(genre_share / share.mean())
        + 0.8 * np.exp(np.minimum(release_day, 0) / 365.0)
        + rng.normal(0.0, 0.9, n_titles)
    )

    maturity_of = np.array([GENRE_MATURITY[g] for g in GENRE_LIST])
    maturity_score = np.where(valid, maturity_of[safe], -np.inf).max(axis=1)
    maturity_score += rng.normal(0.0, 0.5, n_titles)
    # Nobody rates a children's film above PG, whatever else it is.
    is_childrens = (genres == GENRE_LIST.index("Children's")).any(axis=1)
    maturity_score = np.where(is_childrens, np.minimum(maturity_score, 1.5), maturity_score)
    maturity = np.digitize(maturity_score, [0.7, 1.6, 2.5, 3.6])
    runtime_of = np.array([GENRE_RUNTIME_MIN[g] for g in GENRE_LIST], dtype=np.float64)
    runtime = np.where(valid, runtime_of[safe], 0.0).sum(axis=1) / n_genres
    runtime = np.clip(np.round(runtime + rng.normal(0.0, 12.0, n_titles)), 60, 210).astype(int)

    names = title_names(rng, n_titles)
    primary = [GENRE_LIST[g] for g in genres[:, 0]]
    genre_strings = ["|".join(GENRE_LIST[g] for g in sorted(row[row >= 0])) for row in genres]
    title_ids = padded_ids("t", np.arange(n_titles), 5)
    titles = raw_frame(
        "titles",
        {
            "title_id": title_ids,
            "name": names,
            "genres": genre_strings,
            "release_year": release_year,
            "release_date": release_date,
            "maturity": lookup(maturity, MATURITY),
            "runtime_min": runtime,
            "synopsis": synopses(rng, primary),
        },
    )

    artwork, n_variants, variant_theme = _artwork(rng, genres, title_ids)
    base_appeal = rng.normal(0.0, 0.4, len(variant_theme))
    # Drawn last, so every other property of the catalogue is as without misleading artwork.
    misleading = (base_appeal > MISLEADING_APPEAL) & (
        rng.random(len(base_appeal)) < misleading_share
    )
    return Catalog(
        titles=titles,
        artwork_variants=artwork,
        genres=genres,
        n_genres=n_genres,
        release_day=release_day,
        runtime_min=runtime,
        quality=quality,
        popularity=popularity,
        variant_start=np.cumsum(n_variants) - n_variants,
        n_variants=n_variants,
        variant_theme=variant_theme,
        variant_base_appeal=base_appeal,
        artwork_effect=artwork_effect,
        variant_misleading=misleading,
    )


def _release_days(
    rng: np.random.Generator, n_titles: int, start: date, days: int, new_share: float
) -> np.ndarray:
    """Days from ``start`` to each release: a long back catalogue plus some new releases."""
    release_day = -1 - np.floor(rng.exponential(8 * 365.0, n_titles)).astype(np.int64)
    release_day = np.maximum(release_day, (OLDEST_RELEASE - start).days)
    n_new = int(round(new_share * n_titles))
    new = rng.choice(n_titles, size=n_new, replace=False)
    release_day[new] = rng.integers(0, days, size=n_new)
    return release_day


def _artwork(
    rng: np.random.Generator, genres: np.ndarray, title_ids: pa.Array
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """3-6 artwork variants per title with distinct themes, favouring themes that fit its genres.

    Returns:
        The artwork_variants table, the number of variants per title and each variant's theme.
    """
    n_titles = len(genres)
    fit = theme_fit_matrix()
    # The -1 padding of ``genres`` picks fit's last row; the mask zeroes it.
    theme_weight = 0.25 + np.where((genres >= 0)[:, :, None], fit[genres], 0.0).sum(axis=1)
    n_variants = rng.integers(3, 7, size=n_titles)
    themes = top_k(rng, np.log(theme_weight), n_variants)
    variant_title = np.repeat(np.arange(n_titles), n_variants)
    variant_number = np.arange(len(variant_title)) - np.repeat(
        np.cumsum(n_variants) - n_variants, n_variants
    )
    variant_theme = themes[variant_title, variant_number]
    table = raw_frame(
        "artwork_variants",
        {
            "title_id": lookup(variant_title, title_ids),
            "variant_id": join_strings(
                lookup(variant_title, title_ids), padded_ids("-v", variant_number + 1, 1)
            ),
            "theme": lookup(variant_theme, THEMES),
        },
    )
    return table, n_variants, variant_theme


def _pad(array: np.ndarray, width: int) -> np.ndarray:
    out = np.full((array.shape[0], width), -1, dtype=array.dtype)
    out[:, : array.shape[1]] = array
    return out
