"""The evidence app over a real registry: pages, plots, report files, and what it refuses."""

from __future__ import annotations

import pytest
import toy_model
from fastapi import Depends, HTTPException, Request
from fastapi.testclient import TestClient

from reelops.quality import release
from reelops.reports.app import create_app


@pytest.fixture
def judged(settings, tmp_path):
    """Two gated toy versions: the first promoted, the second failing its gates."""
    spec = toy_model.write_spec(tmp_path)
    first = toy_model.save(settings, 2.0)
    release.auto_release(settings, release.run_gates(settings, "toy", first, spec=spec))
    second = toy_model.save(settings, -1.0)
    result = release.run_gates(settings, "toy", second, spec=spec)
    assert not result["passed"]
    return first, second


def test_index_lists_every_version_with_its_verdict_and_trend(settings, judged):
    first, second = judged
    client = TestClient(create_app(settings))
    page = client.get("/")
    assert page.status_code == 200
    assert first in page.text and second in page.text
    assert "production" in page.text and "FAILED" in page.text and "passed" in page.text
    trend = client.get("/models/toy/trend.png")
    assert trend.status_code == 200 and trend.content[:4] == b"\x89PNG"


def test_version_page_shows_the_gate_table_plots_and_report_links(settings, judged):
    _, second = judged
    client = TestClient(create_app(settings))
    page = client.get(f"/models/toy/{second}")
    assert page.status_code == 200
    assert "score vs champion" in page.text and "FAIL" in page.text
    assert f"/models/toy/{second}/files/metric_distribution_png" in page.text
    png = client.get(f"/models/toy/{second}/files/paired_differences_png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    md = client.get(f"/models/toy/{second}/files/gates_md")
    assert md.status_code == 200 and f"toy:{second}" in md.text
    # Links in the Markdown (the gates task's note) point at these pages, not file://.
    assert "file://" not in md.text and f"/reelops/models/toy/{second}/files/" in md.text


def test_unknown_versions_and_unlisted_files_are_404(settings, judged):
    first, _ = judged
    client = TestClient(create_app(settings))
    assert client.get("/models/toy/nosuchversion").status_code == 404
    assert client.get(f"/models/toy/{first}/files/..%2F..%2Fregistry.db").status_code == 404
    assert client.get(f"/models/toy/{first}/files/not_a_report").status_code == 404


def test_run_page_redirects_to_the_version_the_run_judged(settings, judged):
    first, _ = judged
    app = create_app(settings, run_lookup=lambda dag, run: [("toy", first)] if run == "r1" else [])
    client = TestClient(app, follow_redirects=False)
    found = client.get("/runs/reelops_ranker/r1")
    assert found.status_code == 303 and found.headers["location"].endswith(f"/models/toy/{first}")
    none = client.get("/runs/reelops_daily/r2")
    assert none.status_code == 200 and "no gate results" in none.text


def test_every_route_runs_the_given_login_check(settings, judged):
    def deny(request: Request):
        raise HTTPException(401, "Not authenticated")

    client = TestClient(create_app(settings, dependencies=[Depends(deny)]))
    assert client.get("/").status_code == 401
    assert client.get("/models/toy/trend.png").status_code == 401
