"""`GET /artwork/{title_id}/{variant_id}.png`: a variant's rendered image, from an LRU cache.

The catalogue (dim_artwork_variants) is read once and again only when the mart changes;
rendered images are kept for the ``artwork_cache_size`` most recently asked variants.
An id that is not a plain id is a 400, an unknown title or variant a 404, a warehouse not
built yet a 503; each message names the field and never echoes the value.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reelops.artwork.catalogue import ArtworkCatalogue, ArtworkNotFound
from reelops.artwork.render import ArtworkSpec, render_png
from reelops.config import Settings
from reelops.serving.schemas import RequestError
from reelops.sources import active_source

log = logging.getLogger(__name__)
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
NOT_BUILT = (
    "the artwork catalogue is not built yet: run the daily pipeline (`reelops pipeline run`)"
)


def check_id(field: str, value: str) -> str:
    """The id unchanged, or RequestError(400) naming the field (not the value)."""
    if not ID_PATTERN.fullmatch(value):
        raise RequestError(
            400,
            f"{field}: must be 1 to 64 characters of A-Z a-z 0-9 _ . : - (letter or digit first)",
        )
    return value


class ArtworkImages:
    """Rendered variants of the active source's catalogue, least recently used dropped first.

    Args:
        settings: Platform settings (``artwork_cache_size`` bounds the cache).
        source: The source whose catalogue is served; the active source when None.
        load: Reads the catalogue (tests pass their own).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        source: str | None = None,
        load: Callable[[], ArtworkCatalogue] | None = None,
    ):
        self.settings = settings
        self.source = source or active_source(settings)
        self._load = load or (lambda: ArtworkCatalogue.load(settings, self.source))
        self._catalogue: ArtworkCatalogue | None = None
        self._stamp: object = None
        self._images: OrderedDict[ArtworkSpec, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def _mart_stamp(self) -> object:
        path = self.settings.marts_dir(self.source) / "dim_artwork_variants.parquet"
        return path.stat().st_mtime_ns if path.exists() else None

    def catalogue(self) -> ArtworkCatalogue:
        """The catalogue, re-read when the local mart file has changed since the last read."""
        stamp = self._mart_stamp() if self.settings.dbt_target == "duckdb" else "postgres"
        with self._lock:
            if self._catalogue is None or stamp != self._stamp:
                self._catalogue, self._stamp = self._load(), stamp
            return self._catalogue

    @property
    def cached(self) -> int:
        return len(self._images)

    def png(self, title_id: str, variant_id: str) -> bytes:
        """The variant's PNG.

        Raises:
            RequestError: an id is malformed (400).
            ArtworkNotFound: no such title or variant.
            FileNotFoundError: the warehouse has no catalogue yet.
        """
        spec = self.catalogue().spec(
            check_id("title_id", title_id), check_id("variant_id", variant_id)
        )
        with self._lock:
            if spec in self._images:
                self._images.move_to_end(spec)
                return self._images[spec]
        image = render_png(spec)
        with self._lock:
            self._images[spec] = image
            while len(self._images) > self.settings.artwork_cache_size:
                self._images.popitem(last=False)
        return image


def artwork_app(images: Callable[[], ArtworkImages]) -> Starlette:
    """The ASGI app to mount at ``/artwork``; ``images`` is called on the first request."""
    holder: list[ArtworkImages] = []

    async def variant_png(request: Request) -> Response:
        if not holder:
            holder.append(images())
        params = request.path_params
        try:
            body = await asyncio.to_thread(holder[0].png, params["title_id"], params["variant_id"])
        except RequestError as error:
            return JSONResponse({"error": error.message}, status_code=error.status)
        except ArtworkNotFound as error:
            return JSONResponse({"error": f"{error.field}: {error}"}, status_code=404)
        except FileNotFoundError:
            log.warning("/artwork: 503 %s", NOT_BUILT)
            return JSONResponse({"error": NOT_BUILT}, status_code=503)
        return Response(body, media_type="image/png", headers={"Cache-Control": "max-age=3600"})

    return Starlette(routes=[Route("/{title_id}/{variant_id}.png", variant_png, methods=["GET"])])
