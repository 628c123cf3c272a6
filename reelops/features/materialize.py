"""Incremental materialization into the online store, up to the end of a data interval.

Feast keeps each view's watermark in its registry: after a view's rows are written,
``apply_materialization`` appends the interval and ``most_recent_end_time`` is the
latest end. Views are materialized one at a time, so a failure leaves every view that
completed at its new watermark and every other view where it was; a re-run continues
each view from its own watermark. Feast's own ``materialize_incremental`` starts views
without a watermark at ``now() - ttl``; the windows here depend only on the interval.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from redis.exceptions import RedisError

from reelops.config import Settings
from reelops.features.store import FeatureRepo, FeatureStoreError, open_store, store_lock

# Start of the window for views that never expire and have no watermark yet.
ORIGIN = datetime(1970, 1, 1)
STATIC_CADENCE = "static"


@dataclass(frozen=True)
class Window:
    """What to write for one view: the latest row per entity in ``[start, end]``."""

    start: datetime
    end: datetime
    mode: str  # initial | incremental | refresh | full


def plan_window(
    *,
    ttl: timedelta | None,
    static: bool,
    watermark: datetime | None,
    start: datetime | None,
    end: datetime,
) -> Window:
    """The window one view is materialized over for a run ending at ``end``.

    * ``initial`` (no watermark): ``[end - ttl, end]``; an older value would be stale
      at ``end`` anyway. Views without ttl start at :data:`ORIGIN`.
    * ``incremental`` (``end`` after the watermark): from the watermark, or from the
      run's ``start`` when that is earlier (a re-run that also covers new days).
    * ``refresh`` (``end`` at or before the watermark: a re-run or backfill of an earlier
      interval): ``[start, watermark]``. The online store keeps the values as of the
      watermark; every entity with a row in the window gets its latest row up to the
      watermark again, so rebuilt marts reach the online store and nothing older than
      what is there is ever written. The watermark does not move backwards.
    * ``full`` (static views): ``[ORIGIN, max(end, watermark)]`` on every run, so rows
      whose timestamps lie before the watermark (titles added to the catalogue) arrive.

    All times are naive UTC.
    """
    if static:
        return Window(ORIGIN, max(end, watermark or end), "full")
    if watermark is None:
        lo = end - ttl if ttl and ttl > timedelta(0) else ORIGIN
        return Window(lo, end, "initial")
    lo = min(watermark, start) if start is not None else watermark
    if end > watermark:
        return Window(lo, end, "incremental")
    return Window(min(lo, end), watermark, "refresh")


@dataclass(frozen=True)
class ViewMaterialization:
    """What one view's materialization did."""

    view: str
    mode: str
    start: datetime
    end: datetime
    watermark_before: datetime | None
    watermark_after: datetime | None
    seconds: float


@dataclass(frozen=True)
class MaterializeResult:
    """The views materialized by one call, in order, and whether definitions were applied."""

    source: str
    project: str
    end: datetime
    applied: bool
    views: list[ViewMaterialization]

    def summary(self) -> dict:
        """JSON-friendly form (for XComs and the CLI)."""
        out = asdict(self)
        out["end"] = self.end.isoformat()
        for view in out["views"]:
            for key in ("start", "end", "watermark_before", "watermark_after"):
                view[key] = view[key].isoformat() if view[key] else None
        return out


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def watermarks(repo: FeatureRepo) -> dict[str, datetime | None]:
    """Each batch view's materialization watermark (naive UTC), read from the registry."""
    return {
        view.name: _naive_utc(view.most_recent_end_time)
        for view in repo.store.list_feature_views(allow_cache=False)
    }


def materialize(
    settings: Settings,
    *,
    end: datetime,
    start: datetime | None = None,
    source: str | None = None,
    views: list[str] | None = None,
    repo: FeatureRepo | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> MaterializeResult:
    """Bring the online store up to ``end`` (applying changed definitions first).

    Args:
        settings: Platform settings (the profile picks SQLite or Redis).
        end: End of the run's data interval (naive UTC); never "now".
        start: Start of the run's data interval, if any: a re-run or backfill refreshes
            from there (see :func:`plan_window`).
        source: Source name; the active source when None.
        views: Only these batch views (default: every online view).
        repo: An already open store (its source wins over ``source``).
        progress: Called as ``progress("feature views", done, total)`` after each view.

    Returns:
        One entry per view, in the order they were materialized.

    Raises:
        FeatureStoreError: an unknown view was named, or the Redis online store did not
            answer (one line naming its address, not the client's traceback).
        Exception: whatever the offline or online store raised; views before the failing
            one keep their new watermark, the failing one and the rest keep their old one.
    """
    end = _naive_utc(end)
    start = _naive_utc(start)
    repo = repo or open_store(settings, source)
    known = {v.name: v for v in repo.definitions.feature_views if v.online}
    selected = views or sorted(known)
    unknown = [name for name in selected if name not in known]
    if unknown:
        raise FeatureStoreError(
            f"unknown feature views {unknown}; online views are {sorted(known)}"
        )
    done: list[ViewMaterialization] = []
    with store_lock(repo.settings, repo.source):
        before = watermarks(repo)
        for name in selected:
            view = known[name]
            window = plan_window(
                ttl=view.ttl,
                static=view.tags.get("cadence") == STATIC_CADENCE,
                watermark=before.get(name),
                start=start,
                end=end,
            )
            started = time.perf_counter()
            try:
                repo.store.materialize(
                    start_date=_aware(window.start),
                    end_date=_aware(window.end),
                    feature_views=[name],
                )
            except RedisError as error:
                raise FeatureStoreError(
                    f"the online store (Redis at {redis_address(repo.settings.redis_url)}) did "
                    f"not answer while materializing {name!r}: {type(error).__name__}: {error}. "
                    "Start it, or point REELOPS_REDIS_URL at it, then run again (every view "
                    "continues from its own watermark)"
                ) from None
            after = _naive_utc(repo.store.get_feature_view(name).most_recent_end_time)
            done.append(
                ViewMaterialization(
                    view=name,
                    mode=window.mode,
                    start=window.start,
                    end=window.end,
                    watermark_before=before.get(name),
                    watermark_after=after,
                    seconds=round(time.perf_counter() - started, 3),
                )
            )
            if progress is not None:
                progress("feature views", len(done), len(selected))
    return MaterializeResult(
        source=repo.source, project=repo.project, end=end, applied=repo.applied, views=done
    )


def describe_materialization(result: MaterializeResult) -> str:
    """A few readable lines about one materialization."""
    lines = [
        f"materialized feature views of {result.source!r} (project {result.project}) up to "
        f"{result.end}" + (" after applying changed definitions" if result.applied else "")
    ]
    for view in result.views:
        lines.append(
            f"  {view.view:<24} {view.mode:<11} [{view.start}, {view.end}]  "
            f"watermark {view.watermark_before} -> {view.watermark_after}  {view.seconds:.2f} s"
        )
    return "\n".join(lines)


def redis_address(redis_url: str) -> str:
    """``host:port/db`` of a Redis URL, without its password."""
    parts = urlsplit(redis_url)
    return f"{parts.hostname}:{parts.port or 6379}{parts.path or '/0'}"
