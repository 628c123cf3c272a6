"""ASGI middleware in front of every endpoint: API keys and the body-size limit.

Health, readiness and metrics paths stay open (probes and Prometheus carry no key);
every other request needs a configured key in the ``X-API-Key`` header: 401 without
one, 403 with an unknown one. A body above the limit gets 413 before the service
parses it. Neither the key nor the body ever reaches a log line from here.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from reelops.serving.keys import HEADER, KeyRing

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

OPEN_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/metrics"})
MESSAGES = {
    401: "missing API key: send it in the X-API-Key header",
    403: "unknown API key",
}


async def _answer(send: Send, status: int, message: str) -> None:
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
    """Checks the key and the body size, then hands the request on.

    Args:
        app: The wrapped ASGI app.
        keys: Builds the :class:`KeyRing` (called once, on the first request, so the
            service process reads its own settings).
        max_body_bytes: Largest accepted request body.
    """

    def __init__(self, app, *, keys: Callable[[], KeyRing], max_body_bytes: int):
        self.app = app
        self._keys_factory = keys
        self._keys: KeyRing | None = None
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        if self._keys is None:
            self._keys = self._keys_factory()
        headers = dict(scope.get("headers") or [])
        presented = headers.get(HEADER.encode())
        status = self._keys.check(presented.decode("latin-1") if presented else None)
        if status != 200:
            await _answer(send, status, MESSAGES[status])
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _answer(send, 413, f"request body above {self.max_body_bytes} bytes")
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
                await _answer(send, 413, f"request body above {self.max_body_bytes} bytes")
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
