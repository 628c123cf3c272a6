"""Redis down and back, with both services as real `bentoml serve` processes.

The services are started on the production profile with ``REELOPS_REDIS_URL`` on a
closed port of 127.0.0.1: they must become ready (degraded) and answer every request
with the fallback. Then a forwarder starts listening on that same port and relays to
the real Redis, so the store "returns" while the services keep running (a live switch,
no restart), and they must answer from the online store again.
"""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest

from reelops.serving.keys import HEADER, configured_keys
from reelops.serving.schemas import EXAMPLE_BITRATE as SESSION

pytestmark = [pytest.mark.slow, pytest.mark.production]
REDIS = ("127.0.0.1", 6379)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@contextmanager
def forwarding(port: int, target: tuple[str, int]):
    """Listen on 127.0.0.1:``port`` and relay every connection to ``target``."""
    listener = socket.create_server(("127.0.0.1", port))
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        listener.close()


def _post_all(url: str, bodies: list[dict], key: str, concurrency: int = 8) -> list[dict]:
    """POST every body at ``concurrency``; each answer's status and fallback marker."""

    def one(body: dict) -> dict:
        with httpx.Client(headers={HEADER: key}, timeout=30) as client:
            answer = client.post(url, json=body)
        ok = answer.status_code == 200
        return {"status": answer.status_code, "fallback": ok and answer.json()["fallback"]}

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(one, bodies))


def test_services_start_degraded_answer_fallbacks_and_recover_live_when_redis_returns(
    served_production, monkeypatch
):
    from reelops.serving.local import running_services, service_readiness

    settings = served_production.settings
    key = configured_keys(settings)[0]
    store_port = _free_port()  # bound, then closed: nothing listens there
    monkeypatch.setenv("REELOPS_REDIS_URL", f"redis://127.0.0.1:{store_port}/11")
    ports = {"recommender": _free_port(), "bitrate": _free_port()}
    member = {"member_id": served_production.known_member, "k": 5}
    urls = {
        "recommender": (f"http://127.0.0.1:{ports['recommender']}/recommend", member),
        "bitrate": (f"http://127.0.0.1:{ports['bitrate']}/bitrate", SESSION),
    }
    with running_services(settings, ports):  # returns once both /readyz answer 200
        readiness = service_readiness(settings, ports)
        assert all(r.startswith("degraded: online store unavailable") for r in readiness.values())
        for url, body in urls.values():
            answers = _post_all(url, [body] * 40, key)
            assert [a["status"] for a in answers] == [200] * 40  # zero 5xx, zero refusals
            assert {a["fallback"] for a in answers} == {"online_store_unavailable"}

        with forwarding(store_port, REDIS):  # the store returns on the same address
            deadline = time.monotonic() + 30
            for url, body in urls.values():
                while (answer := _post_all(url, [body], key, 1)[0])["fallback"] is not None:
                    assert answer["status"] == 200
                    assert time.monotonic() < deadline, f"{url} still answers the fallback"
                    time.sleep(0.2)
                answers = _post_all(url, [body] * 16, key)
                assert {(a["status"], a["fallback"]) for a in answers} == {(200, None)}
            readiness = service_readiness(settings, ports)
            assert not any(r.startswith("degraded") for r in readiness.values()), readiness
