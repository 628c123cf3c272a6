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
import time
from dataclasses import dataclass

from reelops.config import Settings
from reelops.privacy import load_key, pseudonym
from reelops.ranking.candidate_index import ALL_COUNTRIES
from reelops.ranking.recommend import RankerRuntime
from reelops.registry import ModelVersion
from reelops.serving.prediction_log import PredictionLog
from reelops.serving.production import ServedModel
from reelops.serving.schemas import RecommendedTitle, RecommendRequest, RecommendResponse

log = logging.getLogger(__name__)
MODEL = "ranker"


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

    def _lookup(self, loaded) -> object:
        version = loaded.version.version
        if version not in self._lookups:
            self._lookups = {version: loaded.model.recommender.online_lookup()}
        return self._lookups[version]

    def _probe(self, loaded) -> None:
        request_time = loaded.model.recommender.request_time
        self._lookup(loaded).lookup("readiness-probe", [], None, request_time)

    def __call__(self, request: RecommendRequest) -> RecommendResponse:
        """Rank titles for one member.

        Raises:
            LookupError: No production ranker yet (the service answers 503).
        """
        started = time.perf_counter()
        loaded = self.loaded()  # this request keeps this version to its end
        model = loaded.model
        member_key = pseudonym(request.member_id, self._key)
        country = request.context.country
        known = model.recommender.knows(member_key)
        fallback, features = None, {"k": request.k, "country": country}
        if not known:
            titles = self._popular(model, country, request.k, "cold_start")
        else:
            try:
                top, timings = model.recommender.rank_online(
                    member_key, self._lookup(loaded), request.k
                )
                titles = [
                    RecommendedTitle(
                        title_id=str(r.title_id),
                        rank=int(r.rank),
                        score=float(r.score),
                        source=str(r.source),
                    )
                    for r in top.itertuples()
                ]
                features.update(timings)
            except Exception as error:  # the documented degradation, never a 5xx
                log.warning("online features failed (%s); answering popular", type(error).__name__)
                fallback = "online_store_unavailable"
                titles = self._popular(model, country, request.k, "popular_fallback")
        response = RecommendResponse(
            model_version=loaded.version.version,
            cold_start=not known,
            fallback=fallback,
            titles=titles,
        )
        if self.prediction_log is not None:
            self.prediction_log.log(
                endpoint="/recommend",
                model_name=MODEL,
                model_version=response.model_version,
                member_key=member_key,
                features=features,
                output={"titles": [t.title_id for t in titles], "cold_start": not known},
                latency_ms=(time.perf_counter() - started) * 1e3,
                fallback=fallback is not None,
            )
        return response

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
    from reelops.privacy import MemberKeyVault
    from reelops.sources import active_source
    from reelops.warehouse import read_mart

    source = active_source(settings)
    daily = read_mart(settings, source, "fct_member_daily")
    key = daily.sort_values(["views_7d", "member_key"], ascending=False)["member_key"].iloc[0]
    with MemberKeyVault(settings) as vault:
        return vault.raw_ids(source, [key])[key]
