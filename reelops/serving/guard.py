"""ASGI middleware in front of every endpoint: API keys, body limit, strict JSON, metrics.

Health, readiness and metrics paths stay open (probes and Prometheus carry no key);
every other request needs a configured key in the ``X-API-Key`` header: 401 without
one, 403 with an unknown one. A body above the limit gets 413 before the service
parses it. A POST to a route with a request model must be ``application/json`` (else
415) holding one JSON object with no duplicate keys that the model accepts in strict
mode (else 400 naming the fields, never their values). Every answer, the guard's own
included, is counted in the metrics. Refusals are logged at INFO, with no traceback,
and neither the key nor the body ever reaches a log line from here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from pydantic import BaseModel

from reelops.serving.keys import HEADER, KeyRing
from reelops.serving.metrics import Metrics
from reelops.serving.schemas import RequestError, check_media_type, parse_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger(__name__)
OPEN_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/metrics"})
MESSAGES = {
    401: "missing API key: send it in the X-API-Key header",
    403: "unknown API key",
}


async def answer_error(send: Send, status: int, message: str) -> None:
    """Send ``{"error": message}`` with ``status``."""
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Guard:
    """Checks the key, the body size and (per route) the body, counts, then hands on.

    Args:
        app: The wrapped ASGI app.
        keys: Builds the :class:`KeyRing` (called once, on the first request, so the
            service process reads its own settings).
        max_body_bytes: Largest accepted request body.
        bodies: Route -> the request model its POST body must satisfy.
        metrics: Where every answered request is counted (None: not counted).
    """

    def __init__(
        self,
        app,
        *,
        keys: Callable[[], KeyRing],
        max_body_bytes: int,
        bodies: Mapping[str, type[BaseModel]] | None = None,
        metrics: Metrics | None = None,
    ):
        self.app = app
        self._keys_factory = keys
        self._keys: KeyRing | None = None
        self.max_body_bytes = max_body_bytes
        self.bodies = dict(bodies or {})
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        if self.metrics is None:
            await self._checked(scope, receive, send)
            return
        started, status = time.perf_counter(), 500
        version = self.metrics.version()  # the version serving when the request arrived

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._checked(scope, receive, send_status)
        finally:
            self.metrics.record(scope["path"], status, time.perf_counter() - started, version)

    async def _refuse(self, scope: Scope, send: Send, status: int, message: str) -> None:
        log.info("%s %s: %d %s", scope.get("method"), scope["path"], status, message)
        await answer_error(send, status, message)

    async def _checked(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._keys is None:
            self._keys = self._keys_factory()
        headers = dict(scope.get("headers") or [])
        presented = headers.get(HEADER.encode())
        status = self._keys.check(presented.decode("latin-1") if presented else None)
        if status != 200:
            await self._refuse(scope, send, status, MESSAGES[status])
            return
        too_big = f"request body above {self.max_body_bytes} bytes"
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._refuse(scope, send, 413, too_big)
            return
        model = self.bodies.get(scope["path"]) if scope.get("method") == "POST" else None
        if model is not None:
            try:
                check_media_type(headers.get(b"content-type", b"").decode("latin-1"))
            except RequestError as error:
                await self._refuse(scope, send, error.status, error.message)
                return
        # A chunked body has no length up front: read it (up to the limit) and replay it.
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)
                return
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                await self._refuse(scope, send, 413, too_big)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body, replayed = b"".join(chunks), False
        if model is not None:
            try:
                parse_body(model, body)
            except RequestError as error:
                await self._refuse(scope, send, error.status, error.message)
                return

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
