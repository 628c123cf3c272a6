"""Serving follows the registry's production version and swaps it without a gap."""

from __future__ import annotations

import threading

from reelops.registry import Registry
from reelops.serving.production import ProductionModel


def _save(registry, tmp_path, value: str) -> str:
    folder = tmp_path / f"files-{value}"
    folder.mkdir()
    (folder / "model.txt").write_text(value)
    return registry.save("toy", folder, metrics={}, lineage={"data_interval": ["a", "b"]}).version


def _loader(files, version):
    return (files / "model.txt").read_text()


def test_loads_production_and_switches_on_promote_and_rollback(settings, tmp_path):
    registry = Registry(settings)
    first = _save(registry, tmp_path, "one")
    handle = ProductionModel(settings, "toy", _loader, poll_seconds=0)
    assert handle.current() is None  # nothing in production: not ready
    registry.promote("toy", first, actor="test", reason="first")
    assert handle.refresh() and handle.current().model == "one"
    assert handle.current().info()["data_interval"] == ["a", "b"]
    second = _save(registry, tmp_path, "two")
    registry.promote("toy", second, actor="test", reason="better")
    assert handle.refresh() and handle.current().model == "two"
    assert not handle.refresh()  # unchanged
    registry.rollback("toy", actor="test", reason="oops")
    assert handle.refresh() and handle.current().model == "one"


def test_requests_during_promotion_never_fail(settings, tmp_path):
    registry = Registry(settings)
    versions = [_save(registry, tmp_path, name) for name in ("one", "two")]
    registry.promote("toy", versions[0], actor="test", reason="first")
    handle = ProductionModel(settings, "toy", _loader, poll_seconds=0.01)
    seen, errors, stop = [], [], threading.Event()

    def requests():
        while not stop.is_set():
            loaded = handle.current()
            try:
                seen.append(loaded.model)
            except Exception as error:  # pragma: no cover - the assertion reports it
                errors.append(error)

    worker = threading.Thread(target=requests)
    worker.start()
    registry.promote("toy", versions[1], actor="test", reason="better")
    for _ in range(200):
        if seen and seen[-1] == "two":
            break
        threading.Event().wait(0.01)
    stop.set()
    worker.join()
    handle.close()
    assert not errors and seen[0] == "one" and seen[-1] == "two"
    assert set(seen) == {"one", "two"}


def test_an_online_store_that_is_down_leaves_the_endpoint_ready_but_degraded(settings, tmp_path):
    from reelops.serving.production import ServedModel

    class Toy(ServedModel):
        name = "toy"
        route = "/toy"
        store_up = True

        def _probe(self, loaded):
            if not self.store_up:
                raise ConnectionError("redis: connection refused")

    registry = Registry(settings)
    endpoint = Toy(settings, _loader, poll_seconds=0)
    assert endpoint.readiness() == (False, "no production toy model in the registry")
    registry.promote("toy", _save(registry, tmp_path, "one"), actor="test", reason="first")
    endpoint.models.refresh()
    assert endpoint.readiness()[0] and not endpoint.readiness()[1].startswith("degraded")
    endpoint.store_up = False  # `reelops serve` must start, in fallback mode, and say so
    ready, why = endpoint.readiness()
    assert ready and why.startswith("degraded: online store unavailable (ConnectionError)")
    assert "redis" not in why  # the error's text (hosts, ports) is not exposed
    endpoint.close()


def test_the_store_breaker_opens_on_a_failure_and_lets_one_request_retry():
    from reelops.serving.production import StoreBreaker

    now = [0.0]
    breaker = StoreBreaker(retry_s=1.0, clock=lambda: now[0])
    assert breaker.allow() and breaker.allow()  # closed: every request uses the store
    assert breaker.record(False) and not breaker.record(False)  # opened once per outage
    assert not breaker.allow() and breaker.is_open
    now[0] = 1.0
    assert breaker.allow() and not breaker.allow()  # one trial; the others fall back
    breaker.record(None)  # a caller's error says nothing of the store: still open
    assert breaker.allow()
    breaker.record(False)
    assert not breaker.allow()
    now[0] = 2.5
    assert breaker.allow()
    breaker.record(True)
    assert not breaker.is_open and breaker.allow() and breaker.allow()


def test_a_down_store_costs_one_attempt_per_retry_window_and_readiness_closes_it(
    settings, tmp_path
):
    from reelops.serving.production import Answer, ServedModel

    class Toy(ServedModel):
        name = "toy"
        route = "/toy"
        store_up = False
        attempts = 0

        def _begin(self, request):
            return None, {}

        def _online(self, request, loaded, _key):
            self.attempts += 1
            if not self.store_up:
                raise ConnectionError("redis: timed out")
            return Answer("online", {})

        def _fallback(self, request, loaded, _key):
            return Answer("fallback", {})

        def _probe(self, loaded):
            self._online(None, loaded, None)

    registry = Registry(settings)
    registry.promote("toy", _save(registry, tmp_path, "one"), actor="test", reason="first")
    endpoint = Toy(settings, _loader, poll_seconds=0)
    now = [0.0]
    endpoint.breaker.clock = lambda: now[0]
    assert [endpoint(None) for _ in range(20)] == ["fallback"] * 20
    assert endpoint.attempts == 1  # not a connect timeout per request
    now[0] = 1.0
    assert endpoint(None) == "fallback" and endpoint.attempts == 2  # the trial failed
    endpoint.store_up = True
    assert endpoint(None) == "fallback" and endpoint.attempts == 2  # still inside the window
    assert endpoint.readiness() == (True, "toy " + endpoint.loaded().version.version)
    assert endpoint(None) == "online"  # the probe saw the store back: no wait for the window
    endpoint.close()
