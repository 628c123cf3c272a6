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
