"""The production artwork policy beside `/recommend`: each answered title's artwork.

The registry's production ``artwork`` version is loaded once (and again when it
changes, as the endpoints' models are) into an :class:`~reelops.artwork.chooser.
ArtworkChooser`; a request draws one variant per title from the policy's exact
probabilities and returns it with that probability (its propensity) and the policy's
version. The artwork is an addition: with no artwork policy in production, or one that
cannot be loaded or fails, titles carry no artwork and the answer says why
(``artwork_note``); the titles themselves never change and a request never fails for it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from reelops.artwork.chooser import ArtworkChooser
from reelops.artwork.saved import MODEL, POLICY_DIR
from reelops.config import Settings
from reelops.serving.production import ProductionModel

log = logging.getLogger(__name__)
NO_POLICY = "no_artwork_policy"  # no production artwork policy: titles carry no artwork
UNAVAILABLE = "artwork_unavailable"  # the policy failed on this request


class _Tolerant(ProductionModel):
    """A production model whose load failures are logged (once per kind), never raised:
    the recommender starts, and keeps serving titles, whatever the policy's files hold."""

    _last_error: str | None = None

    def refresh(self) -> bool:
        try:
            switched = super().refresh()
        except Exception as error:
            if repr(error) != self._last_error:
                log.exception("could not load the production %s policy; serving without it", MODEL)
            self._last_error = repr(error)
            return False
        self._last_error = None
        return switched


@dataclass(frozen=True)
class ServedArtwork:
    """What the artwork policy added to one answer.

    Attributes:
        choices: Per title of the answer (same order), ``(variant_id, propensity)`` or None.
        version: The artwork policy's version, or None.
        note: Why there is no artwork (``no_artwork_policy``, ``artwork_unavailable``).
    """

    choices: list[tuple[str, float] | None]
    version: str | None
    note: str | None = None

    def apply(self, titles: list) -> list:
        """The titles (:class:`~reelops.serving.schemas.RecommendedTitle`) with their
        artwork variant and propensity set (unchanged where there is none)."""
        return [
            t if c is None else t.model_copy(update={"artwork_variant": c[0],
                                                      "artwork_propensity": c[1]})
            for t, c in zip(titles, self.choices, strict=True)
        ]  # fmt: skip

    def logged(self, title_ids: list[str]) -> dict[str, Any]:
        """What the prediction log keeps: the policy's version, and per served title its
        position, variant and propensity (or the note saying why there is none)."""
        served = [
            {"title_id": t, "position": i, "variant_id": c[0], "propensity": c[1]}
            for i, (t, c) in enumerate(zip(title_ids, self.choices, strict=True))
            if c is not None
        ]
        return {"version": self.version, "served": served, "note": self.note}


class RecommendArtwork:
    """Chooses the artwork of `/recommend`'s titles with the production artwork policy.

    Args:
        settings: Where the registry lives.
        poll_seconds: How often to look for a new production version (0: never).
        seed: Seed of the draws (None: fresh entropy; tests fix it).
    """

    def __init__(self, settings: Settings, *, poll_seconds: float = 1.0, seed: int | None = None):
        self.models = _Tolerant(
            settings,
            MODEL,
            lambda files, _version: ArtworkChooser.load(files / POLICY_DIR),
            poll_seconds=poll_seconds,
        )
        # A Generator is not thread-safe: each serving thread draws from its own, spawned
        # from one seed sequence (so a seeded chooser is reproducible in one thread).
        self._seeds = np.random.SeedSequence(seed)
        self._spawn = threading.Lock()
        self._local = threading.local()

    def _rng(self) -> np.random.Generator:
        rng = getattr(self._local, "rng", None)
        if rng is None:
            with self._spawn:
                rng = self._local.rng = np.random.default_rng(self._seeds.spawn(1)[0])
        return rng

    def choose(self, member_key: str | None, title_ids: list[str]) -> ServedArtwork:
        """Each title's variant and propensity for ``member_key`` (titles in rank order)."""
        loaded = self.models.current()
        if loaded is None:
            return ServedArtwork([None] * len(title_ids), None, NO_POLICY)
        version = loaded.version.version
        try:
            chosen = loaded.model.choose(member_key or "", title_ids, self._rng())
        except Exception:
            log.exception("artwork policy %s failed; answering without artwork", version)
            return ServedArtwork([None] * len(title_ids), version, UNAVAILABLE)
        choices = [None if c is None else (c.variant_id, c.propensity) for c in chosen]
        return ServedArtwork(choices, version)

    def info(self) -> dict[str, Any]:
        loaded = self.models.current()
        return {"artwork_version": loaded.version.version if loaded else None}

    def close(self) -> None:
        self.models.close()
