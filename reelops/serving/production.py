"""The versions that serve a model, loaded once and swapped when the registry changes.

What serves is a :class:`Deployment`: the production version and, while a release is
live, its challenger (a canary that answers its share of members, or a shadow scored
for its share and never shown). A request takes the current deployment at its start and
uses it to the end, so a canary start, promotion or rollback while requests are in
flight never mixes two versions in one answer and never fails one: new versions are
loaded beside the old (a promoted canary is not loaded again), then one reference is
swapped. A member's arm is a stable hash of the member key and the release's salt
(:meth:`reelops.registry.Release.arm`), so the same member gets the same arm.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from reelops.config import Settings
from reelops.registry import ModelVersion, Registry, Release
from reelops.serving.metrics import count_served, count_shadow

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
    """One loaded model version, the arm it serves on, and what model-info says of it.

    ``arm`` is ``production``, ``canary`` or ``shadow``; responses and prediction-log rows
    carry it.
    """

    model: T
    version: ModelVersion
    arm: str = "production"

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


@dataclass(frozen=True)
class Deployment(Generic[T]):
    """What serves one model now: production, and the live release's challenger if any.

    Attributes:
        production: The production version (arm ``production``).
        challenger: The release's version (arm ``canary`` or ``shadow``), or None.
        release: The live release the challenger belongs to, or None.
        key: What the registry said when this was built (production version, release id).
    """

    production: Loaded[T]
    challenger: Loaded[T] | None = None
    release: Release | None = None
    key: tuple[str, int | None] = ("", None)

    def serving(self, member_key: str | None) -> Loaded[T]:
        """The version that answers this member: the canary for its share, else production."""
        if (
            self.challenger is not None
            and self.release is not None
            and self.release.arm(member_key) == "canary"
        ):
            return self.challenger
        return self.production

    def shadow(self, member_key: str | None) -> Loaded[T] | None:
        """The shadow version to score this member's request with too, if any."""
        if (
            self.challenger is not None
            and self.release is not None
            and self.release.mode == "shadow"
            and self.release.includes(member_key)
        ):
            return self.challenger
        return None

    def versions(self) -> dict[str, T]:
        """Loaded models by version (reused when the next deployment keeps a version)."""
        out = {self.production.version.version: self.production.model}
        if self.challenger is not None:
            out[self.challenger.version.version] = self.challenger.model
        return out


class ProductionModel(Generic[T]):
    """Keeps the registry's production version of ``name`` loaded, with its live release.

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
        self._deployment: Deployment[T] | None = None
        self._failed_release: int | None = None
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
        deployment = self._deployment
        return deployment.production if deployment else None

    def deployment(self) -> Deployment[T] | None:
        """Production and the live release's challenger, or None before any production."""
        return self._deployment

    def refresh(self) -> bool:
        """Follow the registry (production and the live release); returns whether it switched.

        Versions already loaded are reused (a promoted canary becomes production without a
        reload); new ones are loaded before the one reference swap. A challenger that fails
        to load is logged and left out, production keeps serving everyone, and it is not
        tried again until the registry's release changes.
        """
        state = self.registry.serving_state(self.name)
        if state.production is None:
            return False
        release_id = state.release.id if state.release else None
        key = (state.production.version, release_id)
        current = self._deployment
        if current is not None and current.key == key:
            return False
        models = current.versions() if current else {}

        def load(version: ModelVersion, arm: str) -> Loaded[T]:
            model = models.get(version.version)
            if model is None:
                model = self.loader(self.registry.files(self.name, version.version), version)
            return Loaded(model, version, arm)

        production = load(state.production, "production")
        challenger = None
        if state.release is not None and release_id != self._failed_release:
            try:
                challenger = load(state.challenger, state.release.mode)
            except Exception:
                self._failed_release = release_id
                log.exception(
                    "could not load %s %s %s: production %s serves every member",
                    state.release.mode,
                    self.name,
                    state.release.version,
                    state.production.version,
                )
        self._deployment = Deployment(  # one reference swap: requests in flight keep theirs
            production, challenger, state.release if challenger else None, key
        )
        if challenger is not None:
            log.info(
                "serving %s version %s, %s %s for %.0f %% of members",
                self.name,
                production.version.version,
                challenger.arm,
                challenger.version.version,
                state.release.share * 100,
            )
        else:
            log.info("serving %s version %s", self.name, production.version.version)
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


class ShadowScorer:
    """Scores shadow requests on one background thread, so they never slow or fail one.

    At most ``max_pending`` calls wait; more are skipped, and failures are caught: both
    counted (``reelops_shadow_calls_total``), failures logged once per kind of error.

    Args:
        route: The endpoint, for the counters and the log.
        max_pending: Shadow calls queued at most.
    """

    def __init__(self, route: str, max_pending: int = 64):
        self.route = route
        self.max_pending = max_pending
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shadow")
        self._idle = threading.Condition()
        self._pending = 0
        self._warned: set[str] = set()
        self.scored = self.failed = self.skipped = 0

    def submit(self, work: Callable[[], None]) -> bool:
        """Queue one shadow call; returns False (and counts it) when the queue is full."""
        with self._idle:
            if self._pending >= self.max_pending:
                self.skipped += 1
                count_shadow(self.route, "skipped")
                return False
            self._pending += 1
        self._executor.submit(self._call, work)
        return True

    def _call(self, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception as error:
            self.failed += 1
            count_shadow(self.route, "failed")
            kind = type(error).__name__
            if kind not in self._warned:  # once per kind: a broken shadow floods no log
                self._warned.add(kind)
                log.warning(
                    "%s: a shadow call failed (%s); no answer was affected", self.route, kind
                )
        else:
            self.scored += 1
            count_shadow(self.route, "scored")
        finally:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every queued shadow call is done; returns whether they all were."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)


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

    A call takes the deployment it will use to its end, asks the subclass for the
    request's log identity (:meth:`_begin`), picks the member's arm (the canary for its
    share, else production), answers with the online store (:meth:`_online`) or, when
    the store fails, with the documented fallback (:meth:`_fallback`, marked
    ``online_store_unavailable``), and logs the answer with its version and arm. A live
    shadow is then scored for its share on a background thread (:class:`ShadowScorer`)
    and logged with arm ``shadow`` and the same ``request_id``; its answer is never
    returned.
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
        self.shadow = ShadowScorer(self.route)

    def __call__(self, request):
        """Answer one request with the member's arm: the canary for its share, else production.

        Raises:
            LookupError: No production version yet (the service answers 503).
            ValueError: The request does not fit the model (the service answers 400).
        """
        started = time.perf_counter()
        deployment = self.deployment()  # this request keeps these versions to its end
        member_key, features = self._begin(request)
        loaded = deployment.serving(member_key)
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
        request_id = uuid.uuid4().hex
        count_served(self.route, loaded.version.version, loaded.arm)
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
                arm=loaded.arm,
                request_id=request_id,
            )
        shadow = deployment.shadow(member_key)
        if shadow is not None and fallback is None:  # a down store is not hammered twice
            self.shadow.submit(
                lambda: self._score_shadow(request, shadow, member_key, features, request_id)
            )
        return answer.response

    def _score_shadow(
        self, request, shadow: Loaded[T], member_key, features: dict, request_id: str
    ) -> None:
        """Score a request with the shadow version and log it (arm ``shadow``), nothing more."""
        started = time.perf_counter()
        answer = self._online(request, shadow, member_key)
        if self.prediction_log is not None:
            self.prediction_log.log(
                endpoint=self.route,
                model_name=self.name,
                model_version=shadow.version.version,
                member_key=member_key,
                features={**features, **answer.features},
                output=answer.output,
                latency_ms=(time.perf_counter() - started) * 1e3,
                fallback=False,
                arm="shadow",
                request_id=request_id,
            )

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
        """The production version (what a request without a member key uses).

        Raises:
            LookupError: No production version yet (the service answers 503).
        """
        return self.deployment().production

    def deployment(self) -> Deployment[T]:
        """The versions a request uses to its end.

        Raises:
            LookupError: No production version yet (the service answers 503).
        """
        deployment = self.models.deployment()
        if deployment is None:
            raise LookupError(f"no production {self.name} model in the registry yet")
        return deployment

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
        """The production version's info, and the live release beside it (or None)."""
        deployment = self.models.deployment()
        if deployment is None:
            return {"name": self.name, "version": None, "release": None}
        release = deployment.release
        return {
            **deployment.production.info(),
            "release": None
            if release is None
            else {
                "version": release.version,
                "mode": release.mode,
                "share": release.share,
                "started_at": release.started_at,
            },
        }

    def close(self) -> None:
        """Stop following the registry and finish the queued shadow calls (they log)."""
        self.models.close()
        self.shadow.drain()
