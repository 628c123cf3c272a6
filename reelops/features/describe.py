"""For people: what the feature store holds, how fresh each view is, one member's features."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg2
import pyarrow.compute as pc
import pyarrow.parquet as pq

from reelops.config import Settings
from reelops.features.materialize import STATIC_CADENCE, watermarks
from reelops.features.online import OnlineFeatures, OnlineLookup
from reelops.features.store import FeatureRepo, open_store
from reelops.privacy import MemberKeyVault
from reelops.warehouse import read_mart


@dataclass(frozen=True)
class ViewInfo:
    """A batch feature view and its freshness.

    Attributes:
        watermark: Up to when the view has been materialized (naive UTC), None if never.
        newest: The newest feature timestamp in its offline source (the mart), None if
            the source is empty. ``newest`` later than ``watermark`` means rows wait to be
            materialized.
    """

    name: str
    entities: list[str]
    features: list[str]
    ttl: timedelta | None
    source: str
    tags: dict[str, str]
    watermark: datetime | None
    newest: datetime | None

    @property
    def static(self) -> bool:
        return self.tags.get("cadence") == STATIC_CADENCE


@dataclass(frozen=True)
class StoreDescription:
    """Everything ``reelops features describe`` prints."""

    project: str
    profile: str
    source: str
    entities: list[tuple[str, str, str]]  # name, join key, description
    views: list[ViewInfo]
    on_demand: list[tuple[str, list[str], list[str]]]  # name, sources, features
    services: list[tuple[str, list[str], int]]  # name, views, number of features


def newest_timestamp(repo: FeatureRepo, view) -> datetime | None:
    """The newest value of a view's timestamp column in its offline source."""
    source = view.batch_source
    column = source.timestamp_field
    if hasattr(source, "path") and source.path:
        values = pq.read_table(source.path, columns=[column]).column(column)
        newest = pc.max(values).as_py() if len(values) else None
    else:
        conn = psycopg2.connect(repo.settings.pg_dsn())
        try:
            with conn.cursor() as cur:
                cur.execute(
                    f'select max("{column}") from {source.get_table_query_string()} as source'
                )
                newest = cur.fetchone()[0]
        finally:
            conn.close()
    if isinstance(newest, datetime) and newest.tzinfo is not None:
        newest = newest.replace(tzinfo=None)
    return newest


def describe_store(
    settings: Settings, source: str | None = None, *, repo: FeatureRepo | None = None
) -> StoreDescription:
    """Entities, views (with watermark and newest feature time), on-demand views, services."""
    repo = repo or open_store(settings, source)
    marks = watermarks(repo)
    defs = repo.definitions
    views = [
        ViewInfo(
            name=v.name,
            entities=list(v.entities),
            features=[f.name for f in v.features],
            ttl=v.ttl,
            source=v.batch_source.name,
            tags=dict(v.tags),
            watermark=marks.get(v.name),
            newest=newest_timestamp(repo, v),
        )
        for v in sorted(defs.feature_views, key=lambda v: v.name)
    ]
    return StoreDescription(
        project=repo.project,
        profile=settings.profile,
        source=repo.source,
        entities=[(e.name, e.join_key, e.description) for e in defs.entities],
        views=views,
        on_demand=[
            (v.name, sorted(v.source_feature_view_projections), [f.name for f in v.features])
            for v in defs.on_demand_views
        ],
        services=[
            (
                s.name,
                [p.name for p in s.feature_view_projections],
                sum(len(p.features) for p in s.feature_view_projections),
            )
            for s in defs.services
        ],
    )


def _ttl(ttl: timedelta | None) -> str:
    if not ttl:
        return "none"
    return f"{ttl.days}d" if ttl.seconds == 0 else str(ttl)


def freshness_lines(description: StoreDescription) -> list[str]:
    """One line per view: watermark, newest feature time, and what that means."""
    lines = []
    for view in description.views:
        if view.watermark is None:
            state = "never materialized"
        elif view.static:
            state = "static: refreshed in full on every run"
        elif view.newest is not None and view.newest > view.watermark:
            state = f"{view.newest - view.watermark} of data not yet materialized"
        else:
            state = "up to date"
        newest = "-" if view.static else str(view.newest)
        lines.append(
            f"  {view.name:<24} watermark {str(view.watermark):<19}  "
            f"newest feature {newest:<19}  {state}"
        )
    return lines


def format_description(description: StoreDescription) -> str:
    """The readable form printed by ``reelops features describe``."""
    d = description
    lines = [f"feature store of source {d.source!r}: project {d.project}, profile {d.profile}"]
    lines.append("entities")
    lines += [f"  {name:<10} join key {key:<12} {text}" for name, key, text in d.entities]
    lines.append("feature views")
    for view in d.views:
        lines.append(
            f"  {view.name:<24} {'/'.join(view.entities):<8} ttl {_ttl(view.ttl):<5} "
            f"{len(view.features):>2} features from {view.source}"
        )
    lines.append("on-demand feature views")
    lines += [
        f"  {name:<24} {', '.join(features)} from {', '.join(sources)}"
        for name, sources, features in d.on_demand
    ]
    lines.append("feature services")
    lines += [
        f"  {name:<12} {count:>3} features: {', '.join(views)}" for name, views, count in d.services
    ]
    lines.append("freshness")
    lines += freshness_lines(d)
    return "\n".join(lines)


def member_lookup(
    settings: Settings,
    member_id: str,
    *,
    network: str | None = None,
    titles: Sequence[str] = (),
    at: datetime | None = None,
    source: str | None = None,
    repo: FeatureRepo | None = None,
) -> OnlineFeatures:
    """Look up a member by raw id (as in the source), as ``reelops features get`` does.

    Args:
        settings: Platform settings.
        member_id: The raw member id; mapped to its pseudonym through the private vault.
        network: ``country:connection_type``; by default the member's own, from dim_members.
        titles: Candidate titles to include.
        at: Request time; by default the online store's newest watermark (its "as of").
        source: Source name; the active source when None.
        repo: An already open store.

    Raises:
        LookupError: the member was never ingested, or nothing has been materialized.
    """
    repo = repo or open_store(settings, source)
    with MemberKeyVault(settings) as vault:
        member_key = vault.key_of(repo.source, member_id)
    if member_key is None:
        raise LookupError(f"member {member_id!r} was never ingested for source {repo.source!r}")
    if network is None:
        members = read_mart(settings, repo.source, "dim_members")
        row = members[members["member_key"] == member_key]
        if len(row):
            network = f"{row['country'].iloc[0]}:{row['connection_type'].iloc[0]}"
    if at is None:
        marks = [mark for mark in watermarks(repo).values() if mark is not None]
        if not marks:
            raise LookupError(
                f"nothing is materialized for source {repo.source!r} yet: run "
                "`reelops features materialize` or the daily DAG"
            )
        at = max(marks)
    return OnlineLookup(repo).lookup(member_key, list(titles), network, at)
