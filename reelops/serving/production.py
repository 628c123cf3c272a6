"""The production version of a model, loaded once and swapped when the registry changes.

A request takes the current :class:`Loaded` at its start and uses it to the end, so a
promotion or rollback while requests are in flight never mixes two versions in one
answer and never fails one: the new version is loaded beside the old, then one
reference is swapped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from reelops.config import Settings
from reelops.registry import ModelVersion, Registry

log = logging.getLogger(__name__)
T = TypeVar("T")
ONLINE_STORE_DOWN = "online_store_unavailable"
DEGRADED = "degraded:"
# After the online store fails, requests skip it for this long and answer the fallback
# at once: each would otherwise pay the store's connect timeout (0.5 s on a host that does
# not answer). One request then tries the store again while the others keep falling back.
STORE_RETRY_S = 1.0


class StoreBreaker:
    """A circuit breaker for the online store, shared by one endpoint's threads.

    Closed (the store answered last time): every request may use the store. Open (it
    failed): none may until ``retry_s`` has passed; then a single request may try it
    (the trial), and its outcome closes the breaker or opens it again.
    """

    def __init__(self, retry_s: float = STORE_RETRY_S, clock: Callable[[], float] = time.monotonic):
        self.retry_s = retry_s
        self.clock = clock
        self._lock = threading.Lock()
        self._open_until: float | None = None  # None: closed
        self._trial = False

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def allow(self) -> bool:
        """Whether this request may use the store (it must then call :meth:`record`)."""
        with self._lock:
            if self._open_until is None:
                return True
            if self._trial or self.clock() < self._open_until:
                return False
            self._trial = True
            return True

    def record(self, ok: bool | None) -> bool:
        """The outcome of a store call (None: it says nothing of the store, as a request
        that does not fit the model); returns whether this failure opened the breaker."""
        with self._lock:
            self._trial = False
            if ok is None:
                return False
            opened = not ok and self._open_until is None
            self._open_until = None if ok else self.clock() + self.retry_s
            return opened


@dataclass(frozen=True)
class Loaded(Generic[T]):
    """One loaded model version and what the model-info endpoint says of it."""

    model: T
    version: ModelVersion

    def info(self) -> dict[str, Any]:
        lineage = self.version.lineage
        return {
            "name": self.version.name,
            "version": self.version.version,
            "stage": self.version.stage,
            "created_at": self.version.created_at,
            "data_interval": lineage.get("data_interval"),
            "feature_service": lineage.get("feature_service"),
            "code_version": lineage.get("code_version"),
        }


class ProductionModel(Generic[T]):
    """Keeps the registry's production version of ``name`` loaded.

    Args:
        settings: Where the registry lives.
        name: Registry name of the model.
        loader: Builds the in-memory model from a version's files folder.
        poll_seconds: How often a background thread asks the registry for changes
            (0 disables the thread; call :meth:`refresh` yourself).
    """

    def __init__(
        self,
        settings: Settings,
        name: str,
        loader: Callable[[Path, ModelVersion], T],
        *,
        poll_seconds: float = 1.0,
    ):
        self.registry = Registry(settings)
        self.name = name
        self.loader = loader
        self._current: Loaded[T] | None = None
        self._stop = threading.Event()
        self.refresh()
        self._thread = None
        if poll_seconds > 0:
            self._thread = threading.Thread(
                target=self._poll, args=(poll_seconds,), name=f"reload-{name}", daemon=True
            )
            self._thread.start()

    def current(self) -> Loaded[T] | None:
        """The loaded production version, or None when there is none yet."""
        return self._current

    def refresh(self) -> bool:
        """Load the production version if it changed; returns whether it switched."""
        production = self.registry.production(self.name)
        current = self._current
        if production is None or (current and current.version.version == production.version):
            return False
        files = self.registry.files(self.name, production.version)
        loaded = Loaded(self.loader(files, production), production)
        self._current = loaded  # one reference swap: requests in flight keep their version
        log.info("serving %s version %s", self.name, production.version)
        return True

    def _poll(self, seconds: float) -> None:
        while not self._stop.wait(seconds):
            try:
                self.refresh()
            except Exception:  # keep serving the loaded version; say why in the log
                log.exception("could not reload %s; still serving the loaded version", self.name)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


@dataclass(frozen=True)
class Answer:
    """An endpoint's answer and what the prediction log keeps of it.

    Attributes:
        response: The response model returned to the caller.
        output: The answer as logged (ids and levels, no raw member id).
        features: Request facts to log besides the ones :meth:`ServedModel._begin` gave.
    """

    response: Any
    output: dict[str, Any]
    features: dict[str, Any] = field(default_factory=dict)


class ServedModel(Generic[T]):
    """The one skeleton both endpoints answer with: time, look up, fall back, respond, log.

    A call takes the production version it will use to its end, asks the subclass for
    the request's log identity (:meth:`_begin`), answers with the online store
    (:meth:`_online`) or, when the store fails, with the documented fallback
    (:meth:`_fallback`, marked ``online_store_unavailable``), and logs the answer.
    A ``ValueError`` is the caller's fault (answered 400) and is never turned into a
    fallback. Subclasses set :attr:`name` and :attr:`route` and implement
    :meth:`_probe` (a cheap call that fails when the online store does).
    """

    name: str
    route: str

    def __init__(
        self,
        settings: Settings,
        loader: Callable[[Path, ModelVersion], T],
        *,
        prediction_log=None,
        poll_seconds: float = 1.0,
    ):
        self.settings = settings
        self.prediction_log = prediction_log
        self.models = ProductionModel(settings, self.name, loader, poll_seconds=poll_seconds)
        self.breaker = StoreBreaker()

    def __call__(self, request):
        """Answer one request with the production model.

        Raises:
            LookupError: No production version yet (the service answers 503).
            ValueError: The request does not fit the model (the service answers 400).
        """
        started = time.perf_counter()
        loaded = self.loaded()  # this request keeps this version to its end
        member_key, features = self._begin(request)
        fallback = answer = None
        if self.breaker.allow():
            try:
                answer = self._online(request, loaded, member_key)
            except ValueError:
                self.breaker.record(None)
                raise
            except Exception as error:  # the documented degradation, never a 5xx
                if self.breaker.record(False):  # once per outage, not once per request
                    log.warning(
                        "%s: online store failed (%s); answering fallbacks, retrying every %.1f s",
                        self.route,
                        type(error).__name__,
                        self.breaker.retry_s,
                    )
            else:
                self.breaker.record(True)
        if answer is None:
            fallback = ONLINE_STORE_DOWN
            answer = self._fallback(request, loaded, member_key)
        if self.prediction_log is not None:
            self.prediction_log.log(
                endpoint=self.route,
                model_name=self.name,
                model_version=loaded.version.version,
                member_key=member_key,
                features={**features, **answer.features},
                output=answer.output,
                latency_ms=(time.perf_counter() - started) * 1e3,
                fallback=fallback is not None,
            )
        return answer.response

    def _begin(self, request) -> tuple[str | None, dict[str, Any]]:
        """The request's pseudonymous member key (or None) and the facts to log."""
        raise NotImplementedError

    def _online(self, request, loaded: Loaded[T], member_key: str | None) -> Answer:
        """The answer with features from the online store (may raise when it fails)."""
        raise NotImplementedError

    def _fallback(self, request, loaded: Loaded[T], member_key: str | None) -> Answer:
        """The documented answer without the online store."""
        raise NotImplementedError

    def loaded(self) -> Loaded[T]:
        """The version this request uses to its end.

        Raises:
            LookupError: No production version yet (the service answers 503).
        """
        loaded = self.models.current()
        if loaded is None:
            raise LookupError(f"no production {self.name} model in the registry yet")
        return loaded

    def _probe(self, loaded: Loaded[T]) -> None:
        raise NotImplementedError

    def readiness(self) -> tuple[bool, str]:
        """Whether the endpoint can answer, and how.

        Ready once a production version is loaded. When the online store does not
        answer, the endpoint is still ready, degraded: it answers the documented
        fallback, and the reason starts with ``degraded:`` so ``reelops serve`` (and
        ``/model-info``) can say so.
        """
        loaded = self.models.current()
        if loaded is None:
            return False, f"no production {self.name} model in the registry"
        try:
            self._probe(loaded)
        except Exception as error:
            self.breaker.record(False)
            return True, (
                f"{DEGRADED} online store unavailable ({type(error).__name__}); "
                f"answering fallbacks with {self.name} {loaded.version.version}"
            )
        self.breaker.record(True)  # the store is back: requests use it at once
        return True, f"{self.name} {loaded.version.version}"

    def info(self) -> dict[str, Any]:
        loaded = self.models.current()
        return loaded.info() if loaded else {"name": self.name, "version": None}

    def close(self) -> None:
        self.models.close()
