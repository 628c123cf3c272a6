"""Prometheus metrics per endpoint and model version, counted by the guard for every request.

The guard (:mod:`reelops.serving.guard`) is the outermost middleware and records every
answer it lets through or gives itself, so 401s, 403s, 413s, 415s and validation 400s
are counted with the 200s. Labels are the route (unknown paths fold into ``other``), the
model version serving at the time and the status code: never a member id or a key.
The metric objects come from ``bentoml.metrics`` so BentoML's ``/metrics`` exposes
them (across worker processes too; each service has its own multiprocess folder, see
:mod:`reelops.serving.local`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

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


@lru_cache(maxsize=1)
def _log_rows():
    import bentoml

    return bentoml.metrics.Counter(
        name="reelops_prediction_log_rows",
        documentation="Prediction-log rows by outcome: written, spilled (to the local "
        "folder, moved to the lake later) or dropped.",
        labelnames=["outcome"],
    )


@lru_cache(maxsize=1)
def _arms():
    import bentoml

    served = bentoml.metrics.Counter(
        name="reelops_served_requests",
        documentation="Answered requests by endpoint, the model version that answered and "
        "its arm (production or canary): a canary's share at a glance.",
        labelnames=["endpoint", "model_version", "arm"],
    )
    shadow = bentoml.metrics.Counter(
        name="reelops_shadow_calls",
        documentation="Shadow scoring calls by endpoint and outcome: scored, failed or "
        "skipped (the queue was full); none of them changes an answer.",
        labelnames=["endpoint", "outcome"],
    )
    return served, shadow


def count_served(endpoint: str, version: str, arm: str) -> None:
    """Count one answered request by the version and arm (production, canary) that served."""
    _arms()[0].labels(endpoint=endpoint, model_version=version, arm=arm).inc()


def count_shadow(endpoint: str, outcome: str) -> None:
    """Count one shadow call: scored, failed or skipped."""
    _arms()[1].labels(endpoint=endpoint, outcome=outcome).inc()


def count_log_rows(outcome: str, rows: int) -> None:
    """Count prediction-log rows that were written, spilled or dropped."""
    _log_rows().labels(outcome=outcome).inc(rows)


class Metrics:
    """Counts and times requests.

    Args:
        routes: The API routes to label by name (others are ``other``).
        version: Returns the model version serving now.
    """

    def __init__(self, *, routes: frozenset[str], version: Callable[[], str]):
        self.routes = routes
        self.version = version

    def record(self, path: str, status: int, seconds: float, version: str | None = None) -> None:
        """Count one answered request and observe its latency."""
        endpoint = path if path in self.routes else "other"
        version = version if version is not None else self.version()
        requests, latency = _metrics()
        requests.labels(endpoint=endpoint, model_version=version, status=str(status)).inc()
        latency.labels(endpoint=endpoint, model_version=version).observe(seconds)
