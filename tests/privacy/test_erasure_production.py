"""Erasure on the production profile: PostgreSQL warehouse and Redis online store."""

from __future__ import annotations

import pytest

from reelops.erasure.identity import resolve
from reelops.erasure.report import export, scan, scan_summary
from reelops.erasure.requests import DONE, erase_member, known_member

pytestmark = [pytest.mark.slow, pytest.mark.production]


def test_erasure_reaches_postgres_and_redis(served_production):
    from reelops.serving.recommend import RecommendEndpoint
    from reelops.serving.schemas import RecommendRequest

    settings = served_production.settings
    member_id = served_production.known_member
    member, _ = resolve(settings, "world", member_id)
    document = export(settings, member)
    tables = {s["store"]: [t["table"] for t in s["tables"]] for s in document["stores"]}
    schema = settings.pg_schema("world")
    assert f"{schema}.fct_viewing_events" in tables["warehouse"]
    assert f"{schema}_raw.viewing_events" in tables["warehouse"]  # the loaded lake
    assert tables["feast_online"] == ["redis:reelops_world"]

    ask = RecommendRequest(member_id=member_id, k=10, context={"country": "US"})
    assert not RecommendEndpoint(settings, poll_seconds=0)(ask).cold_start
    request = erase_member(settings, "world", member_id)
    assert request.state == DONE
    assert request.stores["warehouse"]["removed"] > 0
    assert request.stores["feast_online"]["removed"] > 0
    found = scan_summary(scan(settings, known_member(settings, member)))
    assert set(found.values()) == {0}, found
    answer = RecommendEndpoint(settings, poll_seconds=0)(ask)
    assert answer.cold_start and answer.fallback is None
