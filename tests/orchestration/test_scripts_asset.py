"""The script import tells a running Airflow: an event of the scripts Asset through the API."""

from __future__ import annotations

import json

import httpx
import pytest

from reelops.orchestration import content
from reelops.orchestration.api import AirflowApi


def _api(assets: list[dict], posted: list) -> AirflowApi:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == "/api/v2/assets":
            assert request.url.params["name_pattern"] == "reelops_scripts"
            return httpx.Response(200, json={"assets": assets, "total_entries": len(assets)})
        if request.method == "POST" and request.url.path == "/api/v2/assets/events":
            posted.append(json.loads(request.content))
            return httpx.Response(200, json={"id": 41, "asset_id": posted[-1]["asset_id"]})
        return httpx.Response(404, json={"detail": "not found"})

    client = httpx.Client(
        base_url="http://127.0.0.1:1/api/v2", transport=httpx.MockTransport(answer)
    )
    return AirflowApi(base_url="http://127.0.0.1:1", client=client)


def test_import_posts_an_event_of_the_scripts_asset(settings, monkeypatch):
    posted: list = []
    assets = [{"id": 3, "name": "reelops_scripts_old"}, {"id": 7, "name": "reelops_scripts"}]
    monkeypatch.setattr(content, "running_api", lambda s: _api(assets, posted))
    note = content.announce_scripts(settings, 12)
    assert posted == [{"asset_id": 7, "extra": {"titles": 12}}]
    assert "asset event 41" in note and "/dags/reelops_content" in note


def test_an_unknown_asset_is_an_error_and_no_airflow_is_no_event(settings, monkeypatch):
    posted: list = []
    monkeypatch.setattr(content, "running_api", lambda s: _api([], posted))
    with pytest.raises(RuntimeError, match="knows no Asset 'reelops_scripts'"):
        content.announce_scripts(settings, 1)
    monkeypatch.setattr(content, "running_api", lambda s: None)
    assert content.announce_scripts(settings, 1) is None and posted == []
