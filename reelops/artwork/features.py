"""Features of a (member, artwork variant) pair: member taste x variant theme and evidence.

* member: the genre shares of the member's views before the cut-off (their revealed
  taste), how many views that is, and their demographics;
* variant: its theme, its title's genres, and its *evidence*: the smoothed play and
  good-play rates of its impressions, shrunk towards its theme's rates. A variant never
  shown (a new title's) has exactly its theme's rates: it is chosen by theme-level
  evidence, and a variant whose plays are mostly abandoned shows it in its good-play
  rate however many plays it draws;
* slot: row and position of the impression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reelops.schema import AGE_BANDS, COUNTRIES, GENRES

GENRE_LIST = tuple(g for g in GENRES if g != "unknown")
DEMOGRAPHICS = {"country": COUNTRIES, "age_band": AGE_BANDS}
SHRINK_IMPRESSIONS = 200.0  # pseudo-impressions of the theme's rate in a variant's rate
RIDGE = 50.0  # penalty of the member-theme lift regression (units: impressions of full taste)


def genre_matrix(genres: pd.Series) -> np.ndarray:
    """``(rows, genres)`` 0/1 from ``"|"``-separated genre strings, GENRE_LIST order."""
    split = genres.fillna("").str.split("|")
    return np.array([[g in row for g in GENRE_LIST] for row in split], dtype=np.float32)


def member_profiles(
    viewing_events: pd.DataFrame, titles: pd.DataFrame, members: pd.DataFrame, before
) -> pd.DataFrame:
    """One row per member: genre shares of their views before ``before``, views, demographics."""
    views = viewing_events.loc[viewing_events["ts"] < before, ["member_id", "title_id"]]
    genre_of = pd.DataFrame(
        genre_matrix(titles["genres"]), index=titles["title_id"].to_numpy(), columns=GENRE_LIST
    )
    hits = genre_of.reindex(views["title_id"].to_numpy()).fillna(0.0)
    hits.index = views["member_id"].to_numpy()
    per_member = hits.groupby(level=0).sum()
    shares = per_member.div(per_member.sum(axis=1).clip(lower=1e-9), axis=0)
    shares = shares.reindex(members["member_id"].to_numpy()).fillna(0.0)
    shares.columns = [f"taste_{g}" for g in GENRE_LIST]
    counts = views.groupby("member_id").size().reindex(shares.index).fillna(0)
    shares["log_views"] = np.log1p(counts.to_numpy())
    for column, values in DEMOGRAPHICS.items():
        got = members[column].to_numpy()
        for value in values:
            # XGBoost feature names may not hold "<" (the "<18" age band).
            shares[f"{column}_{value}".replace("<", "under")] = (got == value).astype(np.float32)
    shares.index.name = "member_id"
    return shares.astype(np.float32)


@dataclass(frozen=True)
class Evidence:
    """Smoothed play and good-play rates per variant and per theme, from logged impressions."""

    variant: pd.DataFrame  # index variant_id: impressions, play_rate, good_rate
    theme: pd.DataFrame  # index theme: play_rate, good_rate
    affinity: pd.DataFrame  # index theme, columns taste_<genre>: play lift by taste

    def member_theme(self, taste: np.ndarray, themes: np.ndarray) -> np.ndarray:
        """Play lift of each theme over its title's average, for each pair's member taste."""
        table = self.affinity.reindex(themes).fillna(0.0)
        return (taste * table.to_numpy()).sum(axis=1)

    def of(self, variant_ids: np.ndarray, themes: np.ndarray) -> np.ndarray:
        """``(rows, 4)``: play and good rate (shrunk to the theme), log impressions, theme rate."""
        theme = self.theme.reindex(themes)
        prior_play = theme["play_rate"].fillna(self.theme["play_rate"].mean()).to_numpy()
        prior_good = theme["good_rate"].fillna(self.theme["good_rate"].mean()).to_numpy()
        seen = self.variant.reindex(variant_ids)
        n = seen["impressions"].fillna(0).to_numpy()
        plays = seen["plays"].fillna(0).to_numpy()
        goods = seen["goods"].fillna(0).to_numpy()
        k = SHRINK_IMPRESSIONS
        return np.column_stack(
            [
                (plays + k * prior_play) / (n + k),
                (goods + k * prior_good) / (n + k),
                np.log1p(n),
                prior_good,
            ]
        ).astype(np.float32)


EVIDENCE_COLUMNS = ("variant_play_rate", "variant_good_rate", "variant_log_impressions")
EVIDENCE_COLUMNS += ("theme_good_rate", "member_theme_lift")


def evidence(log: pd.DataFrame, profiles: pd.DataFrame) -> Evidence:
    """Evidence from a log with ``member_id``, ``variant_id``, ``theme``, ``played``, ``reward``.

    The member-theme affinity is theme-level evidence personalised: for each genre, the
    play lift of a theme's impressions over their title's play rate (so only the
    artwork's part, not the title's, counts), regressed (ridge, shrunk to no lift) on the
    member's genre shares.
    """
    grouped = log.groupby("variant_id", observed=True)
    variant = pd.DataFrame(
        {
            "impressions": grouped.size(),
            "plays": grouped["played"].sum(),
            "goods": grouped["reward"].sum(),
        }
    )
    theme = log.groupby("theme", observed=True).agg(
        play_rate=("played", "mean"), good_rate=("reward", "mean")
    )
    taste_cols = [f"taste_{g}" for g in GENRE_LIST]
    taste = profiles.reindex(log["member_id"].to_numpy())[taste_cols].fillna(0.0).to_numpy()
    # Plays, not good plays: a theme's pull acts on plays, which are twice as many (a
    # variant's own abandonment is in its variant evidence, not its theme's).
    played = log["played"].astype(np.float64)
    lift = (played - played.groupby(log["title_id"].to_numpy()).transform("mean")).to_numpy()
    themes = log["theme"].to_numpy()
    # Per theme, a ridge regression of the lift on the member's genre shares.
    rows = {}
    for name in theme.index:
        at = themes == name
        t = taste[at]
        gram = t.T @ t + RIDGE * np.eye(len(taste_cols))
        rows[name] = np.linalg.solve(gram, t.T @ lift[at])
    affinity = pd.DataFrame.from_dict(rows, orient="index", columns=taste_cols)
    return Evidence(variant, theme, affinity)


@dataclass(frozen=True)
class FeatureSpace:
    """The columns of the design matrix: fixed at training, reused at scoring."""

    themes: tuple[str, ...]
    profile_columns: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        return [
            *self.profile_columns,
            *(f"theme_{t}" for t in self.themes),
            *(f"title_{g}" for g in GENRE_LIST),
            *EVIDENCE_COLUMNS,
            "row_index",
            "position",
        ]

    def design(
        self,
        member_ids: np.ndarray,
        variant_ids: np.ndarray,
        themes: np.ndarray,
        title_genres: np.ndarray,
        row: np.ndarray,
        position: np.ndarray,
        profiles: pd.DataFrame,
        evidence: Evidence,
    ) -> np.ndarray:
        """``(pairs, columns)`` float32 design matrix of (member, variant) pairs.

        Args:
            member_ids: Member of each pair.
            variant_ids: Variant of each pair.
            themes: The variant's theme.
            title_genres: ``(pairs, genres)`` 0/1 of the variant's title.
            row: Row of the slot.
            position: Position of the slot.
            profiles: :func:`member_profiles` (a member missing there has zeros).
            evidence: :func:`evidence` of the training log.
        """
        member = profiles.reindex(member_ids)
        taste = member[[f"taste_{g}" for g in GENRE_LIST]].fillna(0.0).to_numpy()
        member = member[list(self.profile_columns)]
        theme_hot = (np.asarray(themes)[:, None] == np.array(self.themes)[None, :]).astype(
            np.float32
        )
        return np.hstack(
            [
                member.fillna(0.0).to_numpy(np.float32),
                theme_hot,
                title_genres.astype(np.float32),
                evidence.of(variant_ids, themes),
                evidence.member_theme(taste, themes)[:, None].astype(np.float32),
                np.column_stack([row, position]).astype(np.float32),
            ]
        )
