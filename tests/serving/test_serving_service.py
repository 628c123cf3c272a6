"""The services on a real world and real models: in process, as an ASGI app, as a server.

One small world with a production ranker and bitrate model (``served``, built once for
this module): the endpoint classes in process; each BentoML service's ASGI app with a
test client (keys, the bad-input matrix, the body limit); and both services as real
``bentoml serve`` processes (metrics, a promotion under load, prediction logs).
"""

from __future__ import annotations

import socket
import threading

import httpx
import numpy as np
import pytest
from starlette.testclient import TestClient

from reelops.ranking.candidates import SOURCES
from reelops.serving.keys import configured_keys
from reelops.serving.schemas import EXAMPLE_BITRATE as SESSION
from reelops.serving.schemas import BitrateRequest, RecommendRequest

pytestmark = pytest.mark.slow


def _watched(settings, member_id: str) -> set[str]:
    from reelops.privacy import MemberKeyVault
    from reelops.ranking.data import read_viewing_events

    with MemberKeyVault(settings) as vault:
        key = vault.key_of("world", member_id)
    views = read_viewing_events(settings, "world")
    return set(views.loc[views["member_key"] == key, "title_id"])


def test_recommend_in_process_ranks_unwatched_titles_and_answers_newcomers(served):
    from reelops.serving.recommend import RecommendEndpoint

    endpoint = RecommendEndpoint(served.settings, poll_seconds=0)
    answer = endpoint(RecommendRequest(member_id=served.known_member, k=10))
    assert answer.model_version == served.ranker_versions[0] and not answer.cold_start
    assert [t.rank for t in answer.titles] == list(range(1, 11))
    scores = [t.score for t in answer.titles]
    assert scores == sorted(scores, reverse=True)
    assert {t.source for t in answer.titles} <= set(SOURCES)
    assert not {t.title_id for t in answer.titles} & _watched(served.settings, served.known_member)

    newcomer = endpoint(RecommendRequest(member_id="never-seen", k=5, context={"country": "US"}))
    ranker = endpoint.models.current().model
    assert newcomer.cold_start and {t.source for t in newcomer.titles} == {"cold_start"}
    assert [t.title_id for t in newcomer.titles] == ranker.popular["US"][:5]
    assert endpoint.readiness()[0]


def test_bitrate_in_process_gives_ordered_quantiles_and_a_level(served):
    from reelops.serving.bitrate import BitrateEndpoint

    endpoint = BitrateEndpoint(served.settings, poll_seconds=0)
    answer = endpoint(BitrateRequest.model_validate(SESSION))
    assert answer.model_version == served.bitrate_version and answer.fallback is None
    quantiles = list(answer.quantiles.values())
    assert quantiles == sorted(quantiles) and all(np.isfinite(quantiles))
    assert 0 <= answer.level <= 5 and answer.bitrate_kbps in (300, 750, 1200, 1850, 2850, 4300)
    own = endpoint(BitrateRequest.model_validate({**SESSION, "ladder_kbps": [400, 800, 1600]}))
    assert own.bitrate_kbps in (400, 800, 1600)
    # A starved buffer and slow chunks never pick a higher level than a full, fast one.
    slow = [{"level": 0, "throughput_mbps": 0.4, "download_s": 3.0}] * 3
    fast = [{"level": 4, "throughput_mbps": 20.0, "download_s": 0.6}] * 3
    low = endpoint(BitrateRequest.model_validate({**SESSION, "session": slow, "buffer_s": 1.0}))
    high = endpoint(BitrateRequest.model_validate({**SESSION, "session": fast, "buffer_s": 30}))
    assert low.level < high.level
    assert endpoint.readiness()[0]


def test_an_online_store_that_is_down_degrades_to_the_fallback_and_is_not_ready(
    served, monkeypatch
):
    from reelops.serving.bitrate import BitrateEndpoint
    from reelops.serving.recommend import RecommendEndpoint

    recommend = RecommendEndpoint(served.settings, poll_seconds=0)
    bitrate = BitrateEndpoint(served.settings, poll_seconds=0)
    member = RecommendRequest(member_id=served.known_member, k=5, context={"country": "US"})
    session = BitrateRequest.model_validate(SESSION)
    assert recommend(member).fallback is None and bitrate(session).fallback is None

    def down(*_args, **_kwargs):
        raise ConnectionError("online store down")

    stores = [recommend._lookup(recommend.loaded()).store, bitrate._lookup.store]
    for store in stores:
        monkeypatch.setattr(store.provider, "online_read", down)

    answer = recommend(member)
    ranker = recommend.models.current().model
    assert answer.fallback == "online_store_unavailable" and not answer.cold_start
    assert [t.title_id for t in answer.titles] == ranker.popular["US"][:5]
    assert {t.source for t in answer.titles} == {"popular_fallback"}
    decided = bitrate(session)
    assert decided.fallback == "online_store_unavailable" and 0 <= decided.level <= 5
    for endpoint in (recommend, bitrate):  # still ready: degraded, answering fallbacks
        ready, why = endpoint.readiness()
        assert ready and why.startswith("degraded: online store unavailable (ConnectionError)")

    monkeypatch.undo()  # the store is back: ready, not degraded, no fallback
    assert not recommend.readiness()[1].startswith("degraded")
    assert not bitrate.readiness()[1].startswith("degraded")
    assert recommend(member).fallback is None


BAD_RECOMMEND = [
    ({"member_id": "7", "k": 0}, "k"),
    ({"member_id": "7", "k": 101}, "k"),
    ({"member_id": "7", "k": "ten"}, "k"),
    ({"k": 5}, "member_id"),
    ({"member_id": "7", "k": 5, "debug": True}, "debug"),
    ({"member_id": "7", "context": {"country": "Atlantis"}}, "context"),
]
BAD_BITRATE = [
    ({**SESSION, "session": []}, "session"),
    ({**SESSION, "buffer_s": -1}, "buffer_s"),
    ({**SESSION, "buffer_s": "NaN"}, "buffer_s"),
    ({**SESSION, "device": "toaster"}, "device"),
    ({**SESSION, "session": [{"level": 0, "download_s": 1.0}]}, "session"),
    ({**SESSION, "ladder_kbps": [800, 400]}, "ladder_kbps"),
    ({**SESSION, "session": [{"level": 9, "throughput_mbps": 2, "download_s": 1}]}, "level"),
]


def _assert_bad(client, route: str, body, field: str, headers) -> None:
    answer = client.post(route, json=body, headers=headers)
    assert answer.status_code == 400, (body, answer.status_code, answer.text)
    assert field in answer.text, answer.text


def _forget_framework_metrics() -> None:
    """BentoML registers its request metrics per app; a second app in one process would clash."""
    from prometheus_client import REGISTRY

    for collector, names in list(REGISTRY._collector_to_names.items()):
        if any(name.startswith("bentoml_") for name in names):
            REGISTRY.unregister(collector)


def test_asgi_apps_check_keys_input_and_size(served):
    from serving import service

    good = {"X-API-Key": configured_keys(served.settings)[0]}
    with TestClient(service.Recommender.to_asgi()) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
        body = {"member_id": served.known_member, "k": 3}
        assert client.post("/recommend", json=body).status_code == 401
        assert (
            client.post("/recommend", json=body, headers={"X-API-Key": "x" * 20}).status_code == 403
        )
        answer = client.post("/recommend", json=body, headers=good)
        assert answer.status_code == 200 and len(answer.json()["titles"]) == 3
        for bad, field in BAD_RECOMMEND:
            _assert_bad(client, "/recommend", bad, field, good)
        huge = {"member_id": "7", "padding": "x" * served.settings.max_body_bytes}
        assert client.post("/recommend", json=huge, headers=good).status_code == 413
        json_type = {**good, "content-type": "application/json"}
        garbage = client.post("/recommend", content=b"{not json", headers=json_type)
        assert garbage.status_code == 400
        untyped = client.post("/recommend", content=b'{"member_id": "7"}', headers=good)
        assert untyped.status_code == 415
        info = client.post("/model-info", json={}, headers=good).json()
        assert info["version"] == served.ranker_versions[0] and info["stage"] == "production"
        # The world's artwork, behind the same keys; unknown ids are 404s, odd ones 400s.
        art = client.get("/artwork/t00001/t00001-v1.png", headers=good)
        assert art.status_code == 200 and art.content.startswith(b"\x89PNG")
        assert client.get("/artwork/t00001/t00001-v1.png").status_code == 401
        assert client.get("/artwork/t99999/t99999-v1.png", headers=good).status_code == 404
        assert client.get("/artwork/t00001/%20.png", headers=good).status_code == 400
    _forget_framework_metrics()
    with TestClient(service.Bitrate.to_asgi()) as client:
        answer = client.post("/bitrate", json=SESSION, headers=good)
        assert answer.status_code == 200 and "level" in answer.json()
        for bad, field in BAD_BITRATE:
            _assert_bad(client, "/bitrate", bad, field, good)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _counted(metrics_text: str, endpoint: str, version: str) -> float:
    total = 0.0
    for line in metrics_text.splitlines():
        if line.startswith("reelops_requests_total{") and f'endpoint="{endpoint}"' in line:
            if f'model_version="{version}"' in line and 'status="200"' in line:
                total += float(line.rsplit(" ", 1)[1])
    return total


def test_real_servers_count_switch_versions_under_load_and_log_every_request(served):
    from reelops.registry import Registry
    from reelops.serving.local import running_services
    from reelops.serving.prediction_log import read_logs

    settings = served.settings
    headers = {"X-API-Key": configured_keys(settings)[0]}
    ports = {"recommender": _free_port(), "bitrate": _free_port()}
    first, second = served.ranker_versions
    lake = settings.lake_dir("world")

    def logged() -> int:
        return read_logs(lake).num_rows

    sent, before = 0, logged()
    with running_services(settings, ports):
        rec = f"http://127.0.0.1:{ports['recommender']}"
        bit = f"http://127.0.0.1:{ports['bitrate']}"
        body = {"member_id": served.known_member, "k": 10}
        for _ in range(7):
            assert httpx.post(f"{rec}/recommend", json=body, headers=headers).status_code == 200
        for _ in range(3):
            assert httpx.post(f"{bit}/bitrate", json=SESSION, headers=headers).status_code == 200
        sent += 10
        rec_metrics, bit_metrics = (
            httpx.get(f"{rec}/metrics").text,
            httpx.get(f"{bit}/metrics").text,
        )
        assert _counted(rec_metrics, "/recommend", first) == 7
        assert _counted(bit_metrics, "/bitrate", served.bitrate_version) == 3
        # each service shows its own series only: a scrape of both never double-counts
        assert 'endpoint="/bitrate"' not in rec_metrics
        assert 'endpoint="/recommend"' not in bit_metrics
        assert httpx.post(f"{bit}/bitrate", json=SESSION).status_code == 401
        assert _metric_total(httpx.get(f"{bit}/metrics").text, "/bitrate", 401) == 1

        statuses, versions, stop = [], [], threading.Event()

        def stream() -> None:
            with httpx.Client(headers=headers, timeout=30) as client:
                while not stop.is_set():
                    answer = client.post(f"{rec}/recommend", json=body)
                    statuses.append(answer.status_code)
                    if answer.status_code == 200:
                        versions.append(answer.json()["model_version"])

        worker = threading.Thread(target=stream)
        worker.start()
        while len(statuses) < 5:
            threading.Event().wait(0.05)
        Registry(settings).promote("ranker", second, actor="pytest", reason="switch under load")
        for _ in range(600):
            if versions and versions[-1] == second:
                break
            threading.Event().wait(0.05)
        threading.Event().wait(0.3)
        stop.set()
        worker.join()
        sent += len(statuses)
        assert set(statuses) == {200}, "no request failed during the promotion"
        assert versions[0] == first and versions[-1] == second
        switch = versions.index(second)
        assert set(versions[switch:]) == {second}, "once switched, the new version serves"
    assert logged() - before == sent, "every answered request is in the lake after a graceful stop"


def _service_workers() -> dict[str, int]:
    """BentoML workers among this process's descendants, counted per service name."""
    import psutil

    counts: dict[str, int] = {}
    for proc in psutil.Process().children(recursive=True):
        try:
            args = proc.cmdline()
        except psutil.Error:
            continue
        if "--worker-id" in args and "--service-name" in args:
            name = args[args.index("--service-name") + 1]
            counts[name] = counts.get(name, 0) + 1
    return counts


def test_two_workers_per_service_answer_count_and_log_every_request(served):
    from reelops.serving.local import running_services
    from reelops.serving.prediction_log import read_logs

    settings = served.settings.model_copy(update={"serving_workers": 2})
    headers = {"X-API-Key": configured_keys(settings)[0]}
    ports = {"recommender": _free_port(), "bitrate": _free_port()}
    lake = settings.lake_dir("world")
    before = read_logs(lake).num_rows
    with running_services(settings, ports):
        assert _service_workers() == {"reelops_recommender": 2, "reelops_bitrate": 2}
        rec = f"http://127.0.0.1:{ports['recommender']}"
        counted = _metric_total(httpx.get(f"{rec}/metrics").text, "/recommend", 200)
        body = {"member_id": served.known_member, "k": 10}
        # A new connection per request: the workers share the listening socket.
        answers = [httpx.post(f"{rec}/recommend", json=body, headers=headers) for _ in range(24)]
        assert {a.status_code for a in answers} == {200}
        # Every worker's series reach one scrape (the multiprocess folder).
        total = _metric_total(httpx.get(f"{rec}/metrics").text, "/recommend", 200)
        assert total - counted == 24
    assert read_logs(lake).num_rows - before == 24


def test_real_servers_route_a_canary_by_member_and_roll_it_back_under_load(served):
    """A canary started and rolled back while requests stream: none fails, each member
    keeps one arm while it runs, and every answer and log row says which arm answered."""
    from reelops.registry import Registry
    from reelops.serving.local import running_services
    from reelops.serving.prediction_log import read_logs

    settings = served.settings
    registry = Registry(settings)
    production = registry.production("ranker").version
    files = registry.files("ranker", production)
    canary = registry.save("ranker", files, metrics={}, lineage={"copy_of": production}).version
    registry.approve("ranker", canary, actor="pytest", reason="a copy as the canary")
    headers = {"X-API-Key": configured_keys(settings)[0]}
    ports = {"recommender": _free_port(), "bitrate": _free_port()}
    members = [served.known_member] + [f"m{i:06d}" for i in range(1, 60)]
    lake = settings.lake_dir("world")
    before = read_logs(lake).num_rows
    answers: list[tuple[str, str, str]] = []
    statuses: list[int] = []
    stop = threading.Event()

    def stream() -> None:
        with httpx.Client(headers=headers, timeout=30) as client:
            i = 0
            while not stop.is_set():
                member = members[i % len(members)]
                i += 1
                answer = client.post(f"{rec}/recommend", json={"member_id": member, "k": 5})
                statuses.append(answer.status_code)
                if answer.status_code == 200:
                    body = answer.json()
                    answers.append((member, body["arm"], body["model_version"]))

    def wait_for(check) -> None:
        for _ in range(600):
            if check():
                return
            threading.Event().wait(0.05)
        raise AssertionError("the services never switched")

    with running_services(settings, ports):
        rec = f"http://127.0.0.1:{ports['recommender']}"
        worker = threading.Thread(target=stream)
        worker.start()
        try:
            wait_for(lambda: len(answers) > 20)
            registry.start_release(
                "ranker", canary, mode="canary", share=0.5, actor="pytest", reason="live test"
            )
            wait_for(lambda: any(a[1] == "canary" for a in answers))
            started = len(answers)
            wait_for(lambda: len(answers) > started + 2 * len(members))
            info = httpx.post(f"{rec}/model-info", json={}, headers=headers).json()
            registry.end_release("ranker", "rolled_back", actor="pytest", reason="live test")
            ended = len(answers)
            wait_for(  # a whole round of members answered by production again
                lambda: (
                    len(answers) >= ended + len(members)
                    and all(a[1] == "production" for a in answers[-len(members) :])
                )
            )
        finally:
            stop.set()
            worker.join()
    assert set(statuses) == {200}, "no request failed during the canary start or rollback"
    assert info["version"] == production and info["release"]["version"] == canary
    release = registry.releases("ranker")[-1]
    during = answers[started:ended]
    arms = {(m, arm) for m, arm, _ in during}
    assert len(arms) == len({m for m, _ in arms}), "one arm per member while the canary ran"
    for _, arm, version in during:
        assert version == (canary if arm == "canary" else production)
    assert {arm for _, arm in arms} == {"canary", "production"}
    last_round = answers[-len(members) :]
    assert {(a[1], a[2]) for a in last_round} == {("production", production)}
    logged = read_logs(lake).to_pandas().iloc[before:]
    assert len(logged) == len(answers)
    canary_rows = logged[logged["arm"] == "canary"]
    assert len(canary_rows) == sum(a[1] == "canary" for a in answers)
    assert (canary_rows["model_version"] == canary).all()
    assert all(release.includes(k) for k in canary_rows["member_key"])
    assert registry.get("ranker", canary).stage == "rejected"


def _metric_total(text: str, endpoint: str, status: int) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith("reelops_requests_total{") and f'endpoint="{endpoint}"' in line:
            if f'status="{status}"' in line:
                total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.mark.parametrize("route", ["/recommend", "/bitrate"])
def test_fuzz_matrix_answers_every_malformed_request_with_a_4xx_that_names_and_never_echoes(
    served, route, caplog
):
    from malformed import bitrate_cases, recommend_cases

    from serving import service

    cases = recommend_cases() if route == "/recommend" else bitrate_cases()
    assert len(cases) >= 150
    app = service.Recommender if route == "/recommend" else service.Bitrate
    key = {"X-API-Key": configured_keys(served.settings)[0]}
    _forget_framework_metrics()
    failures = []
    with (
        caplog.at_level("INFO"),
        TestClient(app.to_asgi(), raise_server_exceptions=False) as client,
    ):
        for case in cases:
            answer = client.post(route, content=case.body, headers={**case.headers, **key})
            error = answer.json().get("error", "") if answer.status_code < 500 else ""
            if not (400 <= answer.status_code < 500 and case.names in error) or any(
                s in answer.text for s in case.secrets
            ):
                failures.append((case.name, answer.status_code, answer.text[:160]))
        # 401, 403, 413 and 415 are counted like the rest
        client.post(route, json={})
        client.post(route, json={}, headers={"X-API-Key": "x" * 20})
        client.post(route, content=b"{" + b" " * served.settings.max_body_bytes + b"}", headers=key)
        metrics = client.get("/metrics").text
    assert not failures, f"{len(failures)} of {len(cases)}: {failures[:10]}"
    for status in (400, 401, 403, 413, 415):
        assert _metric_total(metrics, route, status) >= 1, status
    errors = [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL") or r.exc_info]
    assert not errors, [r.getMessage()[:200] for r in errors[:3]]
    assert not any("ZQX" in r.getMessage() for r in caplog.records)


def test_the_ladder_cache_stays_bounded_over_2000_distinct_ladders(served):
    from reelops.serving.bitrate import BitrateEndpoint

    endpoint = BitrateEndpoint(served.settings, poll_seconds=0)
    assert endpoint.ladder_cache_size == served.settings.ladder_cache_size == 64
    for i in range(2000):
        ladder = [300 + i / 10, 750, 1200]
        answer = endpoint(BitrateRequest.model_validate({**SESSION, "ladder_kbps": ladder}))
        assert answer.bitrate_kbps in {round(ladder[0]), 750, 1200}
        assert len(endpoint._ladders) <= endpoint.ladder_cache_size
    assert len(endpoint._ladders) == endpoint.ladder_cache_size
    # The most recently used ladder is kept, the least recently used went first.
    assert (served.bitrate_version, (300 + 1999 / 10, 750.0, 1200.0)) in endpoint._ladders
    assert (served.bitrate_version, (300.0, 750.0, 1200.0)) not in endpoint._ladders
