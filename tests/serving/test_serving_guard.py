"""API keys and the body limit, in front of a tiny ASGI app."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from reelops.config import Settings
from reelops.serving.guard import Guard
from reelops.serving.keys import ApiKeyError, KeyRing, configured_keys, local_key

KEY = "k" * 20


async def echo(request: Request):
    return JSONResponse({"got": len(await request.body())})


async def health(request: Request):
    return JSONResponse({"ok": True})


@pytest.fixture
def client():
    app = Starlette(routes=[Route("/echo", echo, methods=["POST"]), Route("/healthz", health)])
    guarded = Guard(app, keys=lambda: KeyRing([KEY, "other-key-0123456789"]), max_body_bytes=100)
    return TestClient(guarded)


def test_key_missing_unknown_and_valid(client):
    assert client.post("/echo", content=b"{}").status_code == 401
    assert "X-API-Key" in client.post("/echo", content=b"{}").json()["error"]
    assert client.post("/echo", content=b"{}", headers={"x-api-key": "nope"}).status_code == 403
    ok = client.post("/echo", content=b"{}", headers={"x-api-key": KEY})
    assert ok.status_code == 200 and ok.json() == {"got": 2}
    assert client.get("/healthz").status_code == 200  # probes need no key


def test_body_limit_by_length_and_by_stream(client):
    big = client.post("/echo", content=b"x" * 101, headers={"x-api-key": KEY})
    assert big.status_code == 413 and "100 bytes" in big.json()["error"]

    def chunks():
        yield b"x" * 60
        yield b"x" * 60

    streamed = client.post("/echo", content=chunks(), headers={"x-api-key": KEY})
    assert streamed.status_code == 413
    fits = client.post("/echo", content=b"x" * 100, headers={"x-api-key": KEY})
    assert fits.json() == {"got": 100}


def test_configured_keys(tmp_path):
    local = Settings(home=tmp_path, profile="local")
    generated = configured_keys(local)
    assert generated == [local_key(local)]  # stable across calls
    assert (tmp_path / "private" / "api_keys").stat().st_mode & 0o777 == 0o600
    with pytest.raises(ApiKeyError, match="REELOPS_API_KEYS"):
        configured_keys(Settings(home=tmp_path, profile="production"))
    with pytest.raises(ApiKeyError, match="shorter than 16"):
        configured_keys(Settings(home=tmp_path, api_keys="short,also-short"))
    keys = configured_keys(Settings(home=tmp_path, api_keys=f"{KEY}, {KEY}x"))
    assert keys == [KEY, KEY + "x"]
