"""`/recommend` in-process: member id in, ranked titles out, from the production ranker.

The member id is pseudonymized with the platform's key at once (the raw id goes no
further); candidates come from the candidate index saved with the ranker in the
registry (the service reads neither the lake nor the warehouse), features from Feast's
online store. A member with no history gets the documented cold-start answer, the
titles most watched in their country over the last 28 days, marked ``cold_start``;
if the online store fails, every member gets that answer, marked ``fallback``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from reelops.config import Settings
from reelops.privacy import MemberKeyVault, load_key, pseudonym
from reelops.ranking.candidate_index import ALL_COUNTRIES
from reelops.ranking.recommend import RankerRuntime
from reelops.registry import ModelVersion
from reelops.serving.artwork_policy import RecommendArtwork
from reelops.serving.prediction_log import PredictionLog
from reelops.serving.production import ONLINE_STORE_DOWN, Answer, ServedModel
from reelops.serving.schemas import RecommendedTitle, RecommendRequest, RecommendResponse
from reelops.sources import active_source
from reelops.warehouse import read_mart

log = logging.getLogger(__name__)
MODEL = "ranker"
KEPT_LOOKUPS = 3  # production, a challenger, and the one just replaced


@dataclass(eq=False)
class ServingRanker:
    """A loaded ranker and its cold-start lists, read once per model version.

    Both come from the registry folder: the candidate index and the popular lists were
    saved with the model, so loading reads neither the lake nor the warehouse.
    """

    recommender: RankerRuntime
    popular: dict[str, list[str]]  # country (or "*") -> title ids, most watched first

    @classmethod
    def load(cls, settings: Settings, version: ModelVersion) -> ServingRanker:
        recommender = RankerRuntime.load(settings, version.version)
        return cls(recommender, recommender.index.popular)


class RecommendEndpoint(ServedModel[ServingRanker]):
    """Answers recommendation requests with the registry's production ranker.

    Args:
        settings: Platform settings.
        prediction_log: Where every answered request is logged (None: not logged).
        poll_seconds: How often to look for a new production version.
    """

    name = MODEL
    route = "/recommend"

    def __init__(
        self,
        settings: Settings,
        *,
        prediction_log: PredictionLog | None = None,
        poll_seconds: float = 1.0,
    ):
        super().__init__(
            settings,
            lambda _files, v: ServingRanker.load(settings, v),
            prediction_log=prediction_log,
            poll_seconds=poll_seconds,
        )
        self._key = load_key(settings)
        self._lookups: dict[str, object] = {}
        self._lookups_lock = threading.Lock()
        # Each title's artwork from the production artwork policy (none without one).
        self.artwork = RecommendArtwork(settings, poll_seconds=poll_seconds)

    def _lookup(self, loaded) -> object:
        """The version's online lookup, opened once; production and a canary or shadow
        each keep theirs while both serve (the newest few versions are kept)."""
        version = loaded.version.version
        lookup = self._lookups.get(version)
        if lookup is None:
            opened = loaded.model.recommender.online_lookup()
            with self._lookups_lock:
                lookup = self._lookups.setdefault(version, opened)
                while len(self._lookups) > KEPT_LOOKUPS:
                    self._lookups.pop(next(iter(self._lookups)))
        return lookup

    def _probe(self, loaded) -> None:
        request_time = loaded.model.recommender.request_time
        self._lookup(loaded).lookup("readiness-probe", [], None, request_time)

    def _begin(self, request: RecommendRequest) -> tuple[str, dict]:
        # The raw id goes no further than this line.
        member_key = pseudonym(request.member_id, self._key)
        return member_key, {"k": request.k, "country": request.context.country}

    def _online(self, request: RecommendRequest, loaded, member_key: str) -> Answer:
        model = loaded.model
        if not model.recommender.knows(member_key):
            titles = self._popular(model, request.context.country, request.k, "cold_start")
            return self._answer(loaded, titles, member_key, cold_start=True, fallback=None)
        top, timings = model.recommender.rank_online(member_key, self._lookup(loaded), request.k)
        titles = [
            RecommendedTitle(
                title_id=str(r.title_id),
                rank=int(r.rank),
                score=float(r.score),
                source=str(r.source),
            )
            for r in top.itertuples()
        ]
        return self._answer(
            loaded, titles, member_key, cold_start=False, fallback=None, timings=timings
        )

    def _fallback(self, request: RecommendRequest, loaded, member_key: str) -> Answer:
        model = loaded.model
        titles = self._popular(model, request.context.country, request.k, "popular_fallback")
        cold_start = not model.recommender.knows(member_key)
        return self._answer(
            loaded, titles, member_key, cold_start=cold_start, fallback=ONLINE_STORE_DOWN
        )

    def _answer(
        self, loaded, titles, member_key, *, cold_start: bool, fallback, timings=None
    ) -> Answer:
        ids = [t.title_id for t in titles]
        artwork = self.artwork.choose(member_key, ids)
        response = RecommendResponse(
            model_version=loaded.version.version,
            arm=loaded.arm,
            cold_start=cold_start,
            fallback=fallback,
            titles=artwork.apply(titles),
            artwork_version=artwork.version,
            artwork_note=artwork.note,
        )
        output = {"titles": ids, "cold_start": cold_start, "artwork": artwork.logged(ids)}
        return Answer(response, output, timings or {})

    def info(self) -> dict:
        return {**super().info(), **self.artwork.info()}

    def close(self) -> None:
        self.artwork.close()
        super().close()

    @staticmethod
    def _popular(model: ServingRanker, country, k: int, source: str) -> list[RecommendedTitle]:
        ranked = model.popular.get(country or ALL_COUNTRIES) or model.popular[ALL_COUNTRIES]
        n = len(ranked)
        return [
            RecommendedTitle(title_id=str(t), rank=i + 1, score=float(n - i) / n, source=source)
            for i, t in enumerate(ranked[:k])
        ]


def example_member(settings: Settings) -> str:
    """A raw member id with history, for docs and the demo (from the vault)."""

    source = active_source(settings)
    daily = read_mart(settings, source, "fct_member_daily")
    key = daily.sort_values(["views_7d", "member_key"], ascending=False)["member_key"].iloc[0]
    with MemberKeyVault(settings) as vault:
        return vault.raw_ids(source, [key])[key]
