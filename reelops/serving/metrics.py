"""Prometheus metrics per endpoint and model version, counted for every request.

The middleware sits outside the key check, so 401s, 413s and validation 400s are
counted too. Labels are the route (unknown paths fold into ``other``), the model
version serving at the time and the status code: never a member id or a key.
The metric objects come from ``bentoml.metrics`` so BentoML's ``/metrics`` exposes
them (across worker processes too).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache

from reelops.serving.guard import OPEN_PATHS, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@lru_cache(maxsize=1)
def _metrics():
    import bentoml

    requests = bentoml.metrics.Counter(
        name="reelops_requests",
        documentation="Requests by endpoint, model version and HTTP status.",
        labelnames=["endpoint", "model_version", "status"],
    )
    latency = bentoml.metrics.Histogram(
        name="reelops_request_seconds",
        documentation="Request latency by endpoint and model version.",
        labelnames=["endpoint", "model_version"],
        buckets=LATENCY_BUCKETS,
    )
    return requests, latency


class Metrics:
    """Counts and times each request.

    Args:
        app: The wrapped ASGI app.
        routes: The API routes to label by name (others are ``other``).
        version: Returns the model version serving now.
    """

    def __init__(self, app, *, routes: frozenset[str], version: Callable[[], str]):
        self.app = app
        self.routes = routes
        self.version = version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        endpoint = scope["path"] if scope["path"] in self.routes else "other"
        version = self.version()
        started, status = time.perf_counter(), 500

        async def send_status(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            requests, latency = _metrics()
            requests.labels(endpoint=endpoint, model_version=version, status=str(status)).inc()
            latency.labels(endpoint=endpoint, model_version=version).observe(
                time.perf_counter() - started
            )
