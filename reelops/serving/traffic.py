"""`reelops world traffic`: the world's members against the endpoints, day after day.

In-process (the default), requests go through the same endpoint objects the BentoML
services wrap (:class:`~reelops.serving.recommend.RecommendEndpoint`,
:class:`~reelops.serving.bitrate.BitrateEndpoint`), with a prediction log whose clock is
the simulated one, so each simulated day's requests land in that day's
``serving_logs`` partition. Over HTTP (``--url``), they go to running services with the
API key; the services log at their own (wall) clock then.

Each day's responses (:func:`reelops.world.traffic.simulate_day`) are appended to the
world source as its next day, so ``reelops pipeline run`` lands them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from reelops.config import Settings
from reelops.serving.prediction_log import PredictionLog
from reelops.serving.schemas import BitrateRequest, RecommendContext, RecommendRequest
from reelops.sources import (
    SourceError,
    active_source,
    append_events,
    read_source_table,
    source_dir,
    source_info,
)
from reelops.world.traffic import (
    HOME_TITLES,
    Change,
    LiveWorld,
    Visit,
    load_changes,
    save_changes,
    simulate_day,
)

TRUTH = (
    "member_tastes",
    "member_activity",
    "title_quality",
    "artwork_appeal",
    "artwork_misleading",
)


@dataclass(frozen=True)
class DayReport:
    """What one simulated day did."""

    day: date
    visits: int
    recommend_calls: int
    bitrate_calls: int
    rows: dict[str, int]
    seconds: float
    cpu_seconds: float  # this process's CPU time: the wall time on a machine to itself


class _Clock:
    """The simulated time requests are logged at; the day loop moves it."""

    def __init__(self) -> None:
        self.now = datetime(1970, 1, 1)

    def __call__(self) -> datetime:
        return self.now.replace(tzinfo=UTC)


@contextmanager
def in_process_endpoints(settings: Settings) -> Iterator[tuple[Callable, Callable, PredictionLog]]:
    """``recommend`` and ``decide`` through the services' endpoint objects, logged."""
    from reelops.serving.bitrate import BitrateEndpoint
    from reelops.serving.recommend import RecommendEndpoint

    clock = _Clock()
    lake = settings.lake_dir(active_source(settings))
    log = PredictionLog(lake, flush_seconds=3600.0, clock=clock)
    recommender = RecommendEndpoint(settings, prediction_log=log, poll_seconds=0)
    bitrate = BitrateEndpoint(settings, prediction_log=log, poll_seconds=0)

    def recommend(visit: Visit) -> list[str]:
        clock.now = visit.at
        request = RecommendRequest(
            member_id=visit.member_id,
            k=HOME_TITLES,
            context=RecommendContext(country=visit.country),
        )
        return [t.title_id for t in recommender(request).titles]

    def decide(payload: dict, at: datetime) -> int:
        clock.now = at
        return bitrate(BitrateRequest.model_validate(payload)).level

    try:
        yield recommend, decide, log
    finally:
        recommender.close()
        bitrate.close()
        log.close()


@contextmanager
def http_endpoints(
    settings: Settings, recommender_url: str, bitrate_url: str
) -> Iterator[tuple[Callable, Callable, None]]:
    """``recommend`` and ``decide`` over HTTP against running services."""
    import httpx

    from reelops.serving.keys import HEADER, configured_keys

    headers = {HEADER: configured_keys(settings)[0]}
    with httpx.Client(headers=headers, timeout=30.0) as client:

        def post(url: str, body: dict) -> dict:
            answer = client.post(url, json=body)
            if answer.status_code != 200:
                raise RuntimeError(f"{url}: HTTP {answer.status_code}: {answer.text[:200]}")
            return answer.json()

        def recommend(visit: Visit) -> list[str]:
            body = {"member_id": visit.member_id, "k": HOME_TITLES}
            body["context"] = {"country": visit.country}
            got = post(f"{recommender_url.rstrip('/')}/recommend", body)
            return [t["title_id"] for t in got["titles"]]

        def decide(payload: dict, at: datetime) -> int:
            return int(post(f"{bitrate_url.rstrip('/')}/bitrate", payload)["level"])

        yield recommend, decide, None


def live_world(settings: Settings, source: str) -> LiveWorld:
    """The stored world with its hidden truth and viewing history, ready to play."""
    from reelops.sources import read_truth

    folder = source_dir(settings, source) / "truth"
    if not (folder / "member_tastes.parquet").is_file():
        raise SourceError(
            f"source {source!r} has no hidden truth: traffic needs the synthetic world "
            "(`reelops world generate`)"
        )
    tables = {
        t: read_source_table(settings, source, t).to_pandas()
        for t in ("members", "titles", "artwork_variants")
    }
    tables["viewing_events"] = (
        read_source_table(settings, source, "viewing_events")
        .select(["member_id", "title_id"])
        .to_pandas()
    )
    truth = {
        name: read_truth(settings, source, name)
        for name in TRUTH
        if (folder / f"{name}.parquet").is_file()
    }
    return LiveWorld.from_tables(tables, truth)


def play_traffic(
    settings: Settings,
    days: int,
    *,
    changes: Sequence[Change] = (),
    recommender_url: str | None = None,
    bitrate_url: str | None = None,
    sessions_per_day: int = 150,
    seed: int = 0,
    report: Callable[[DayReport], None] | None = None,
) -> list[DayReport]:
    """Play ``days`` days after the source's last one and append them to the source.

    Raises:
        SourceError: the active source is not a world with hidden truth.
        LookupError: an endpoint has no production model (in-process).
    """
    source = active_source(settings)
    info = source_info(settings, source)
    if info.last_ts is None:
        raise SourceError(f"source {source!r} has no events to continue from")
    live = live_world(settings, source)
    truth_dir = source_dir(settings, source) / "truth"
    every_change = [*load_changes(truth_dir), *changes]
    if changes:
        save_changes(truth_dir, every_change)
    first = info.last_ts.date() + timedelta(days=1)
    endpoints = (
        http_endpoints(settings, recommender_url, bitrate_url or recommender_url)
        if recommender_url
        else in_process_endpoints(settings)
    )
    done = []
    with endpoints as (recommend, decide, log):
        for n in range(days):
            day = first + timedelta(days=n)
            started, cpu = time.perf_counter(), time.process_time()
            rng = np.random.default_rng([seed, day.toordinal()])
            traffic = simulate_day(
                live,
                day,
                rng,
                recommend,
                decide,
                changes=every_change,
                sessions_per_day=sessions_per_day,
            )
            append_events(settings, source, traffic.tables)
            if log is not None:
                log.flush()
            result = DayReport(
                day,
                traffic.visits,
                traffic.recommend_calls,
                traffic.bitrate_calls,
                {t: len(f) for t, f in traffic.tables.items()},
                time.perf_counter() - started,
                time.process_time() - cpu,
            )
            done.append(result)
            if report is not None:
                report(result)
    return done
