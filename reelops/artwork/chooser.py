"""The artwork policy at request time: one member, the titles of one answer, fast.

:class:`~reelops.artwork.policy.ArtworkPolicy` scores a whole log at once through
pandas; a request needs one member and the ten-odd titles of a home row. The chooser
lays out at load time everything that does not depend on the request: per title, its
variants' rows of the design matrix (theme, title genres, evidence); per member, the
profile row. A request stacks them into one small matrix, makes one XGBoost call per
bag (a title never shown is ranked by the member's theme evidence instead, as the
policy ranks it) and applies the exploration rule: the probabilities are those
:meth:`ArtworkPolicy.probabilities` gives the same member, titles and slots (tested),
the variant is drawn from them with the caller's generator, and the probability of the
drawn variant is returned with it: the propensity the next training round re-weights by.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from reelops.artwork.features import EVIDENCE_COLUMNS, GENRE_LIST, genre_matrix
from reelops.artwork.policy import THEME_TIE_BREAK, ArtworkPolicy
from reelops.artwork.saved import load_catalogue, load_policy


@dataclass(frozen=True)
class TitleArtwork:
    """One title's variants laid out for scoring.

    Attributes:
        variant_ids: The variants, in id order.
        rows: ``(variants, columns)`` float32 design rows, zero where the member, the
            member-theme lift and the slot go.
        affinity: ``(variants, genres)``: each variant's theme row of the member-theme
            lift (zeros for a theme without evidence).
        theme_good: Each variant's theme good-play rate (a new title's tie-break).
        new: No variant of the title was ever shown: ranked by theme evidence.
    """

    variant_ids: tuple[str, ...]
    rows: np.ndarray
    affinity: np.ndarray
    theme_good: np.ndarray
    new: bool


@dataclass(frozen=True)
class Choice:
    """The variant served for one title, the probability it was drawn with, and all of them."""

    title_id: str
    variant_id: str
    propensity: float
    probabilities: tuple[float, ...]


class ArtworkChooser:
    """A loaded artwork policy answering one member's titles at a time.

    Args:
        policy: The policy (its reward model's profiles are the members it knows).
        catalogue: Every title's variants (``title_id``, ``variant_id``, ``theme``,
            ``genres``), as saved with the policy.
    """

    def __init__(self, policy: ArtworkPolicy, catalogue: pd.DataFrame):
        model = policy.model
        space = model.space
        self.policy = policy
        self.epsilon = float(policy.exploration.epsilon)
        self.boosters = model.boosters
        columns = space.columns
        self.n_columns = len(columns)
        self.n_profile = len(space.profile_columns)
        self.lift_column = columns.index(EVIDENCE_COLUMNS[-1])
        profiles = model.profiles
        taste_columns = [f"taste_{g}" for g in GENRE_LIST]
        self.members = {key: i for i, key in enumerate(profiles.index)}
        zeros = np.zeros((1, self.n_profile), np.float32)
        self.profile_rows = np.vstack(
            [profiles[list(space.profile_columns)].fillna(0.0).to_numpy(np.float32), zeros]
        )
        self.taste_rows = np.vstack(
            [profiles[taste_columns].fillna(0.0).to_numpy(), np.zeros((1, len(GENRE_LIST)))]
        )
        self.titles = self._lay_out(catalogue, model, columns)

    def _lay_out(self, catalogue: pd.DataFrame, model, columns: list[str]) -> dict:
        ordered = catalogue.sort_values(["title_id", "variant_id"]).reset_index(drop=True)
        ids = ordered["variant_id"].to_numpy(dtype=object)
        themes = ordered["theme"].to_numpy(dtype=object)
        rows = np.zeros((len(ordered), len(columns)), np.float32)
        start = self.n_profile
        themes_hot = themes[:, None] == np.array(model.space.themes, dtype=object)[None, :]
        rows[:, start : start + len(model.space.themes)] = themes_hot
        start += len(model.space.themes)
        rows[:, start : start + len(GENRE_LIST)] = genre_matrix(ordered["genres"])
        start += len(GENRE_LIST)
        rows[:, start : start + 4] = model.evidence.of(ids, themes)
        affinity = model.evidence.affinity.reindex(themes).fillna(0.0).to_numpy()
        good = model.evidence.theme["good_rate"].reindex(themes).fillna(0.0).to_numpy()
        seen = np.isin(ids, model.evidence.variant.index.to_numpy())
        out = {}
        for title, index in ordered.groupby("title_id", sort=False).indices.items():
            out[str(title)] = TitleArtwork(
                tuple(ids[index]), rows[index], affinity[index], good[index], not seen[index].any()
            )
        return out

    @classmethod
    def load(cls, folder: Path) -> ArtworkChooser:
        """The chooser of the policy saved in ``folder`` (:mod:`reelops.artwork.saved`)."""
        return cls(load_policy(folder), load_catalogue(folder))

    def knows(self, title_id: str) -> bool:
        return title_id in self.titles

    def probabilities(
        self, member_key: str, title_ids: list[str], positions: list[int], row_index: int = 0
    ) -> list[np.ndarray | None]:
        """Per title, the exact probability of serving each of its variants (variant id
        order), or None for a title the policy's catalogue lacks.

        Args:
            member_key: The pseudonymous member (one the policy never saw scores as a
                member without views or demographics).
            title_ids: The titles, in the answer's order.
            positions: Each title's position in its row (0 = first).
            row_index: The home row the titles are shown in.
        """
        known = [(i, self.titles[t]) for i, t in enumerate(title_ids) if t in self.titles]
        out: list[np.ndarray | None] = [None] * len(title_ids)
        if not known:
            return out
        member = self.members.get(member_key, len(self.profile_rows) - 1)
        x = np.vstack([art.rows for _, art in known])
        x[:, : self.n_profile] = self.profile_rows[member]
        affinity = np.vstack([art.affinity for _, art in known])
        taste = self.taste_rows[member]
        lift = (taste[None, :] * affinity).sum(axis=1)
        x[:, self.lift_column] = lift
        x[:, -2] = row_index
        x[:, -1] = np.repeat(
            [positions[i] for i, _ in known], [len(a.variant_ids) for _, a in known]
        )
        scores = np.stack([b.inplace_predict(x) for b in self.boosters]).astype(np.float64)
        start = 0
        for i, art in known:
            k = len(art.variant_ids)
            if art.new:  # never shown: every bag ranks by the member's theme evidence
                theme = lift[start : start + k] + THEME_TIE_BREAK * art.theme_good
                scores[:, start : start + k] = theme[None, :]
            best = np.bincount(scores[:, start : start + k].argmax(axis=1), minlength=k)
            greedy = best / len(self.boosters)
            out[i] = (1 - self.epsilon) * greedy + self.epsilon / k
            start += k
        return out

    def choose(
        self,
        member_key: str,
        title_ids: list[str],
        rng: np.random.Generator,
        positions: list[int] | None = None,
        row_index: int = 0,
    ) -> list[Choice | None]:
        """Draw each title's variant from :meth:`probabilities` (None where unknown)."""
        positions = list(range(len(title_ids))) if positions is None else positions
        out: list[Choice | None] = []
        for title, probs in zip(
            title_ids, self.probabilities(member_key, title_ids, positions, row_index), strict=True
        ):
            if probs is None:
                out.append(None)
                continue
            cumulative = np.cumsum(probs)
            pick = min(int((rng.random() * cumulative[-1] >= cumulative).sum()), len(probs) - 1)
            variants = self.titles[title].variant_ids
            out.append(Choice(title, variants[pick], float(probs[pick]), tuple(map(float, probs))))
        return out
