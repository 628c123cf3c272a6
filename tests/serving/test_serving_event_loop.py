"""The services' handlers never block the event loop that `/healthz` and other requests share.

A handler's endpoint call may wait on the online store (up to its timeout when Redis is
down): it runs in a worker thread. Here the endpoint is a stand-in that blocks for half a
second, and a heartbeat on the same loop measures how long the loop stood still.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import time
from types import SimpleNamespace

import pytest

from reelops.config import PROJECT_ROOT
from reelops.serving.schemas import EXAMPLE_BITRATE, EXAMPLE_RECOMMEND

BLOCKS_S = 0.5


def _forget_service() -> None:
    # `from serving import service` (the other serving tests) finds the package's
    # attribute even when sys.modules no longer has the module: drop both, or later
    # tests get this test's module, bound to this test's home.
    sys.modules.pop("serving.service", None)
    package = sys.modules.get("serving")
    if package is not None and hasattr(package, "service"):
        delattr(package, "service")


@pytest.fixture
def service(settings, monkeypatch):
    """The thin `serving/service.py` module, imported for this home, forgotten after."""
    monkeypatch.syspath_prepend(str(PROJECT_ROOT))
    monkeypatch.setenv("BENTOML_HOME", str(settings.bentoml_home))
    _forget_service()
    yield importlib.import_module("serving.service")
    _forget_service()


class _Blocking:
    """An endpoint whose every call blocks its thread, as a store lookup that waits does."""

    def __call__(self, request):
        time.sleep(BLOCKS_S)
        return "answer"


async def _handle_with_heartbeat(handler, body: dict, n: int) -> tuple[list, float]:
    stalls: list[float] = []

    async def heartbeat() -> None:
        while True:
            began = time.perf_counter()
            await asyncio.sleep(0.01)
            stalls.append(time.perf_counter() - began)

    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(0.05)
    owner = SimpleNamespace(endpoint=_Blocking())
    answers = await asyncio.gather(*(handler(owner, **body) for _ in range(n)))
    await asyncio.sleep(0.05)  # the heartbeat records the last stall
    beat.cancel()
    return answers, max(stalls)


@pytest.mark.parametrize(
    ("service_name", "api", "body"),
    [("Recommender", "recommend", EXAMPLE_RECOMMEND), ("Bitrate", "bitrate", EXAMPLE_BITRATE)],
)
def test_a_blocked_endpoint_call_never_stalls_the_event_loop(service, service_name, api, body):
    handler = getattr(service, service_name).inner.__dict__[api].func
    answers, stall = asyncio.run(_handle_with_heartbeat(handler, body, n=4))
    assert answers == ["answer"] * 4
    # On the loop, each call stood it still for 0.5 s (4 in a row: 2 s); /healthz waited.
    assert stall < BLOCKS_S / 2, f"the event loop stood still for {stall:.2f} s"
