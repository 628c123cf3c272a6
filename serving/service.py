"""BentoML services: `/recommend` (with `/artwork`) and `/bitrate`, thin over `reelops.serving`.

Start both with `make serve`; one alone with
`bentoml serve serving.service:Recommender --port 3000`.

The APIs are ``async def`` and hand the endpoint call to a worker thread: the call
does blocking I/O (the online store; up to its 0.5 s timeout when Redis is down), which
must never stall the event loop that health checks, metrics and other requests share.
More throughput comes from more worker processes (``REELOPS_SERVING_WORKERS``,
``reelops serve --workers N``) or replicas, not threads.
"""

from __future__ import annotations

from reelops.config import apply_bentoml_environ, get_settings

settings = get_settings()
apply_bentoml_environ(settings)  # before bentoml is imported: it creates its home then

import asyncio  # noqa: E402
import logging  # noqa: E402

import bentoml  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402

from reelops.serving.artwork import ArtworkImages, artwork_app  # noqa: E402
from reelops.serving.guard import Guard  # noqa: E402
from reelops.serving.keys import KeyRing, configured_keys  # noqa: E402
from reelops.serving.metrics import Metrics  # noqa: E402
from reelops.serving.prediction_log import PredictionLog  # noqa: E402
from reelops.serving.schemas import (  # noqa: E402
    EXAMPLE_BITRATE,
    EXAMPLE_RECOMMEND,
    BitrateRequest,
    BitrateResponse,
    RecommendRequest,
    RecommendResponse,
    RequestError,
)

log = logging.getLogger(__name__)

_serving: dict[str, object] = {}  # route -> endpoint, for the metrics' version label


def _version(route: str):
    return lambda: (
        (_serving[route].info().get("version") or "none") if route in _serving else "none"
    )


def _guard(service, route: str, request_model) -> None:
    # The one middleware of ours, outermost: it counts every answer, its own 401, 403,
    # 413, 415 and 400 included.
    service.add_asgi_middleware(
        Guard,
        keys=lambda: KeyRing(configured_keys(get_settings())),
        max_body_bytes=settings.max_body_bytes,
        bodies={route: request_model},
        metrics=Metrics(routes=frozenset({route, "/model-info"}), version=_version(route)),
    )


def _answer(route: str, endpoint, request):
    """The endpoint's answer, or the refusal as JSON: a caller's error is logged at INFO
    without a traceback, and no message from model code (which may hold values) is echoed.
    """
    try:
        return endpoint(request)
    except LookupError as error:
        log.warning("%s: 503 %s", route, error)
        return JSONResponse({"error": str(error)}, status_code=503)
    except RequestError as error:
        log.info("%s: %d %s", route, error.status, error.message)
        return JSONResponse({"error": error.message}, status_code=error.status)
    except ValueError as error:
        log.info("%s: 400 %s", route, type(error).__name__)
        return JSONResponse({"error": "the request does not fit the model"}, status_code=400)


def _lake():
    from reelops.sources import active_source

    return settings.lake_dir(active_source(settings))


class _Served:
    """What both services share: readiness, model info and a graceful shutdown."""

    endpoint: object
    log: PredictionLog

    def __is_ready__(self) -> bool:
        return self.endpoint.readiness()[0]

    @bentoml.api(route="/model-info")
    def model_info(self) -> dict:
        ready, why = self.endpoint.readiness()
        return {**self.endpoint.info(), "ready": ready, "readiness": why}

    @bentoml.on_shutdown
    def shutdown(self) -> None:
        self.endpoint.close()
        self.log.close()  # every queued prediction-log row reaches the lake


@bentoml.service(
    name="reelops_recommender", workers=settings.serving_workers, traffic={"timeout": 10}
)
class Recommender(_Served):
    """Ranked titles for a member, from the production ranker and online features."""

    def __init__(self) -> None:
        from reelops.serving.recommend import RecommendEndpoint

        self.log = PredictionLog(_lake(), spill_dir=settings.home / "spill" / "serving_logs")
        self.endpoint = _serving["/recommend"] = RecommendEndpoint(
            settings, prediction_log=self.log
        )

    @bentoml.api(route="/recommend", input_spec=RecommendRequest)
    async def recommend(self, **body) -> RecommendResponse:
        request = RecommendRequest.model_construct(**body)
        return await asyncio.to_thread(_answer, "/recommend", self.endpoint, request)


@bentoml.service(name="reelops_bitrate", workers=settings.serving_workers, traffic={"timeout": 10})
class Bitrate(_Served):
    """Throughput quantiles and the next chunk's level, from the production bitrate model."""

    def __init__(self) -> None:
        from reelops.serving.bitrate import BitrateEndpoint

        self.log = PredictionLog(_lake(), spill_dir=settings.home / "spill" / "serving_logs")
        self.endpoint = _serving["/bitrate"] = BitrateEndpoint(settings, prediction_log=self.log)

    @bentoml.api(route="/bitrate", input_spec=BitrateRequest)
    async def bitrate(self, **body) -> BitrateResponse:
        request = BitrateRequest.model_construct(**body)
        return await asyncio.to_thread(_answer, "/bitrate", self.endpoint, request)


_guard(Recommender, "/recommend", RecommendRequest)
# GET /artwork/{title_id}/{variant_id}.png: each variant as an image, behind the same keys.
Recommender.mount_asgi_app(artwork_app(lambda: ArtworkImages(get_settings())), path="/artwork")
_guard(Bitrate, "/bitrate", BitrateRequest)

__all__ = ["EXAMPLE_BITRATE", "EXAMPLE_RECOMMEND", "Bitrate", "Recommender"]
