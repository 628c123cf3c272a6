"""The hidden artwork model as probabilities: the truth an artwork policy is judged against.

For a member shown a title with a given artwork variant in a given slot and day, the
world's behaviour model gives the chance of a play and the law of its completion; a
*good play* is a play whose completion reaches a threshold (not abandoned early). The
true value of any artwork policy on a set of impressions is then exact arithmetic on
these probabilities, with no sampling noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy.special import betainc

from reelops.world.behaviour import (
    ABANDON_MAX_SHARE,
    ABANDON_MIN_SHARE,
    ABANDON_PROB,
    COMPLETION_CONCENTRATION,
    completion_mean,
    play_logit,
)
from reelops.world.catalog import Catalog
from reelops.world.members import Members


@dataclass(frozen=True, eq=False)
class ArtworkTruth:
    """Hidden play and completion probabilities of a world's members, titles and variants."""

    members: Members
    catalog: Catalog
    start: date

    def indices(self, impressions: pd.DataFrame) -> dict[str, np.ndarray]:
        """Positions of an impressions frame's members, titles, variants, and its days.

        Raises:
            KeyError: an id is not of this world (naming the first one).
        """
        out = {}
        for key, ids in (
            ("member", self.members.table["member_id"]),
            ("title", self.catalog.titles["title_id"]),
            ("variant", self.catalog.artwork_variants["variant_id"]),
        ):
            index = pd.Index(ids)
            got = index.get_indexer(impressions[f"{key}_id"])
            if (got < 0).any():
                raise KeyError(f"{key}_id {impressions[f'{key}_id'].iloc[np.argmin(got)]!r}")
            out[key] = got
        day = pd.to_datetime(impressions["ts"]).dt.floor("D") - pd.Timestamp(self.start)
        out["day"] = day.dt.days.to_numpy()
        out["row"] = impressions["row_index"].to_numpy()
        out["position"] = impressions["position"].to_numpy()
        return out

    def variants_of(self, title: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First variant position and number of variants of each title position."""
        return self.catalog.variant_start[title], self.catalog.n_variants[title]

    def play_probability(self, ix: dict[str, np.ndarray], variant: np.ndarray) -> np.ndarray:
        """P(play) of each impression context in ``ix`` had ``variant`` been shown."""
        logit = play_logit(
            self.members,
            self.catalog,
            ix["member"],
            ix["title"],
            variant,
            ix["row"],
            ix["position"],
            ix["day"],
        )
        return 1.0 / (1.0 + np.exp(-logit))

    def good_play_probability(
        self, ix: dict[str, np.ndarray], variant: np.ndarray, threshold: float
    ) -> np.ndarray:
        """P(a play whose completion reaches ``threshold``), had ``variant`` been shown.

        Raises:
            ValueError: ``threshold`` is not above the most an abandoned play keeps
                (then an abandoned play could still count, which this does not model).
        """
        if not ABANDON_MAX_SHARE < threshold <= 1:
            raise ValueError(f"threshold must be in ({ABANDON_MAX_SHARE}, 1], got {threshold}")
        mean = completion_mean(self.members, self.catalog, ix["member"], ix["title"])
        a, b = mean * COMPLETION_CONCENTRATION, (1 - mean) * COMPLETION_CONCENTRATION
        reaches = 1.0 - betainc(a, b, threshold)
        kept = 1.0 - ABANDON_PROB * self.catalog.variant_misleading[variant]
        return self.play_probability(ix, variant) * reaches * kept

    def completion_expected(self, ix: dict[str, np.ndarray], variant: np.ndarray) -> np.ndarray:
        """Expected completion of a play, had ``variant`` been shown."""
        mean = completion_mean(self.members, self.catalog, ix["member"], ix["title"])
        abandoned_share = (ABANDON_MIN_SHARE + ABANDON_MAX_SHARE) / 2
        loss = ABANDON_PROB * (1 - abandoned_share) * self.catalog.variant_misleading[variant]
        return mean * (1 - loss)
