"""Online lookup for serving: a member, a batch of titles and a network context at once.

Feast reads each entity's rows once (the member once, not once per title; titles from an
in-process cache that follows the views' watermarks), and the on-demand features are
computed by the registered on-demand views' own udfs over the fetched values, so serving
and training share one definition. A value older than its view's ttl at the request
time is reported ``stale`` and served as missing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from reelops.features.store import FeatureRepo, FeatureStoreError

PRESENT, MISSING, STALE = "present", "missing", "stale"
RANKER_SERVICE = "ranker_v1"
NETWORK_SERVICE = "bitrate_v1"


@dataclass(frozen=True)
class EntityFeatures:
    """One entity's served features, named ``<view>__<feature>``.

    Attributes:
        key: The entity's join-key value.
        values: Feature -> value; None when the feature is missing or stale (a present
            feature may also be None when the mart has no value, e.g. a rate without plays).
        status: Feature -> ``present``, ``missing`` (nothing in the online store for this
            key) or ``stale`` (older than the view's ttl at the request time).
        event_times: View -> event time of the row served (naive UTC), None when missing.
    """

    key: str
    values: dict[str, Any]
    status: dict[str, str]
    event_times: dict[str, datetime | None]

    @property
    def missing(self) -> list[str]:
        """Features served as missing, stale ones included."""
        return [name for name, state in self.status.items() if state != PRESENT]


@dataclass(frozen=True)
class OnlineFeatures:
    """What one lookup returned.

    Attributes:
        request_time: The time staleness was judged against (naive UTC).
        member: The member's features.
        titles: One row per requested title, in the order asked: ``title_id`` then the
            title and on-demand features (numbers as floats, NaN when missing or stale).
        title_status: Same shape as ``titles``: ``present``, ``missing`` or ``stale``.
        network: The network context's features, when one was asked for.
        seconds: Wall time of the lookup.
    """

    request_time: datetime
    member: EntityFeatures
    titles: pd.DataFrame
    title_status: pd.DataFrame
    network: EntityFeatures | None
    seconds: float

    def ranking_frame(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Member features repeated per title, next to the title features (model input)."""
        frame = self.titles.copy()
        for name, value in self.member.values.items():
            frame[name] = np.nan if value is None else value
        return frame if columns is None else frame[["title_id", *columns]]


def _utc_naive(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class _Fetched:
    """Columns read for one entity kind: values per feature, state and time per view."""

    values: dict[str, np.ndarray]
    states: dict[str, np.ndarray]
    seconds: dict[str, np.ndarray]  # event time, Unix seconds; valid where found
    found: dict[str, np.ndarray]

    def event_time(self, view: str, i: int) -> datetime | None:
        """Row ``i``'s event time in ``view`` (naive UTC), None when nothing was found."""
        if not self.found[view][i]:
            return None
        return datetime.fromtimestamp(int(self.seconds[view][i]), UTC).replace(tzinfo=None)


@dataclass
class _Raw:
    """Rows as read from the online store, before the request time is considered.

    ``index`` maps a key to its row; the arrays hold one row per key.
    """

    index: dict[str, int]
    values: dict[str, np.ndarray]
    found: dict[str, np.ndarray]
    seconds: dict[str, np.ndarray]

    def merged_into(self, cache: _Raw | None) -> _Raw:
        """``cache`` with these rows appended (keys not in it yet only)."""
        if cache is None:
            return self
        offset = len(cache.index)
        return _Raw(
            index={**cache.index, **{key: offset + i for key, i in self.index.items()}},
            values={c: np.concatenate([cache.values[c], v]) for c, v in self.values.items()},
            found={c: np.concatenate([cache.found[c], v]) for c, v in self.found.items()},
            seconds={c: np.concatenate([cache.seconds[c], v]) for c, v in self.seconds.items()},
        )

    def take(self, keys: Sequence[str]) -> _Raw:
        """The rows of ``keys``, in their order (duplicates repeated)."""
        rows = np.fromiter((self.index[k] for k in keys), dtype=np.intp, count=len(keys))
        return _Raw(
            index={},
            values={c: v[rows] for c, v in self.values.items()},
            found={c: v[rows] for c, v in self.found.items()},
            seconds={c: v[rows] for c, v in self.seconds.items()},
        )


class OnlineLookup:
    """Reads ranker and bitrate features from the online store of one open repository.

    Build it once per process (it resolves the services and views up front) and call
    :meth:`lookup` per request. Title rows are shared by every member's request and
    change only when a materialization moves their views' watermarks, so they are cached
    in process (``cache_titles``) and dropped when a watermark moved; the registry is
    asked at most every ``revalidate_seconds``. Member and network rows are read per
    request.
    """

    def __init__(
        self,
        repo: FeatureRepo,
        ranker_service: str = RANKER_SERVICE,
        network_service: str = NETWORK_SERVICE,
        *,
        cache_titles: bool = True,
        revalidate_seconds: float = 10.0,
    ):
        self.repo = repo
        self.store = repo.store
        self.cache_titles = cache_titles
        self.revalidate_seconds = revalidate_seconds
        self._cache: _Raw | None = None
        self._marks: dict | None = None
        self._checked = float("-inf")
        self._registry_views: dict[str, Any] = {}
        ranker = repo.service(ranker_service)
        network = repo.service(network_service)
        views = {v.name: v for v in repo.definitions.feature_views}
        odfv_names = {v.name for v in repo.definitions.on_demand_views}
        # The registered on-demand views (their udfs), not the local definitions.
        self.odfvs = [
            self.store.get_on_demand_feature_view(p.name)
            for p in ranker.feature_view_projections
            if p.name in odfv_names
        ]
        # Request sources carry the request's time only; anything else would need the
        # caller to pass it, which this lookup does not offer.
        self.request_fields: dict[str, list[str]] = {}
        for odfv in self.odfvs:
            fields = [f for src in odfv.source_request_sources.values() for f in src.schema]
            unsupported = [
                f.name for f in fields if f.dtype.to_value_type().name != "UNIX_TIMESTAMP"
            ]
            if unsupported:
                raise FeatureStoreError(
                    f"on-demand view {odfv.name} needs request fields {unsupported}; the online "
                    "lookup supplies only the request time"
                )
            self.request_fields[odfv.name] = [f.name for f in fields]
        projections = [*ranker.feature_view_projections, *network.feature_view_projections]
        self.served = {
            p.name: [f"{p.name}__{f.name}" for f in p.features]
            for p in projections
            if p.name in views
        }
        self.odfv_features = [f"{v.name}__{f.name}" for v in self.odfvs for f in v.features]
        self.integers = {
            f"{v.name}__{f.name}"
            for v in repo.definitions.feature_views
            for f in v.features
            if f.dtype.to_value_type().name in ("INT32", "INT64")
        }
        needed = set(self.served)
        for odfv in self.odfvs:
            needed |= set(odfv.source_feature_view_projections)
        join_keys = {e.name: e.join_key for e in repo.definitions.entities}
        self.views: dict[str, list] = {}
        for name in sorted(needed):
            view = views[name]
            if len(view.entities) != 1:
                raise FeatureStoreError(f"view {name} must have exactly one entity for lookups")
            self.views.setdefault(view.entities[0], []).append(view)
        self.join_keys = {entity: join_keys[entity] for entity in self.views}
        for entity in ("member", "title", "network"):
            if entity not in self.views:
                raise FeatureStoreError(
                    f"services {ranker_service}/{network_service} serve no {entity} features"
                )

    def _read(self, entity: str, keys: Sequence[str]) -> _Raw:
        """Read every fetched view of ``entity`` for ``keys`` from the online store.

        This goes to the store's ``online_read`` (what ``get_online_features`` calls
        underneath) with the registered views: one query per view, without the
        request-level planning and response building that cost ~15 ms per call.
        """
        from feast.protos.feast.types.EntityKey_pb2 import EntityKey
        from feast.protos.feast.types.Value_pb2 import Value

        join_key = self.join_keys[entity]
        entity_keys = [
            EntityKey(join_keys=[join_key], entity_values=[Value(string_val=k)]) for k in keys
        ]
        n = len(keys)
        raw = _Raw(index={key: i for i, key in enumerate(keys)}, values={}, found={}, seconds={})
        for view in self.views[entity]:
            names = [f.name for f in view.features]
            rows = self.store.provider.online_read(
                self.store.config, self._registered(view.name), entity_keys, names
            )
            found = np.zeros(n, dtype=bool)
            seconds = np.zeros(n, dtype=np.int64)
            present = {name: np.zeros(n, dtype=bool) for name in names}
            protos: dict[str, list] = {name: [None] * n for name in names}
            for i, (event_time, values) in enumerate(rows):
                if values is None:
                    continue
                # Feast's Redis store answers an unknown key with empty values and time 0;
                # time 0 alone is no proof (the catalogue's rows are valid from 1970-01-01).
                stamp = int(event_time.timestamp()) if event_time is not None else 0
                for name in names:
                    proto = values.get(name)
                    if proto is not None and proto.WhichOneof("val") not in (None, "null_val"):
                        present[name][i] = True
                        protos[name][i] = proto
                found[i] = stamp != 0 or any(present[name][i] for name in names)
                seconds[i] = stamp
            raw.found[view.name] = found
            raw.seconds[view.name] = seconds
            for feature in view.features:
                raw.values[f"{view.name}__{feature.name}"] = _column(
                    protos[feature.name],
                    feature.dtype.to_value_type().name,
                    present[feature.name] & found,
                )
        return raw

    def _registered(self, name: str):
        """The registry's feature view ``name`` (what the online store's tables are named by)."""
        if name not in self._registry_views:
            self._registry_views[name] = self.store.get_feature_view(name)
        return self._registry_views[name]

    def _cached_titles(self, keys: Sequence[str]) -> _Raw:
        """Title rows from the in-process cache, reading only titles not seen yet.

        Title features change only when a materialization moves a title view's
        watermark; the watermarks are re-read from the registry at most every
        ``revalidate_seconds`` and the cache is dropped when one moved.
        """
        now = time.monotonic()
        if now - self._checked >= self.revalidate_seconds:
            marks = {
                view.name: self.store.get_feature_view(view.name).most_recent_end_time
                for view in self.views["title"]
            }
            if marks != self._marks:
                self._cache = None
                self._marks = marks
            self._checked = now
        unseen = list(
            dict.fromkeys(k for k in keys if self._cache is None or k not in self._cache.index)
        )
        if unseen:
            self._cache = self._read("title", unseen).merged_into(self._cache)
        return self._cache.take(keys)

    def _fetch(self, entity: str, keys: Sequence[str], request_time: datetime) -> _Fetched:
        """Values, per-view states (present, missing, stale) and event times for ``keys``."""
        if entity == "title" and self.cache_titles:
            raw = self._cached_titles(keys)
        else:
            raw = self._read(entity, keys)
        values = dict(raw.values)
        states: dict[str, np.ndarray] = {}
        for view in self.views[entity]:
            found, seconds = raw.found[view.name], raw.seconds[view.name]
            state = np.where(found, PRESENT, MISSING).astype(object)
            if view.ttl and view.ttl > timedelta(0):
                limit = (request_time - view.ttl).replace(tzinfo=UTC).timestamp()
                state[found & (seconds < limit)] = STALE
            states[view.name] = state
            unusable = state != PRESENT
            if unusable.any():
                for feature in view.features:
                    name = f"{view.name}__{feature.name}"
                    column = values[name].copy()
                    column[unusable] = (
                        np.datetime64("NaT")
                        if column.dtype.kind == "M"
                        else (None if column.dtype == object else np.nan)
                    )
                    values[name] = column
        return _Fetched(values, states, raw.seconds, raw.found)

    def _on_demand(
        self, member: _Fetched, titles: _Fetched, n: int, request_time: datetime
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Run the registered on-demand views' udfs over the fetched member and title values.

        The udf gets what Feast gives it: one row per title with its sources' features
        under their short names and the request fields.
        """
        values: dict[str, np.ndarray] = {}
        states: dict[str, np.ndarray] = {}
        for odfv in self.odfvs:
            sources = odfv.source_feature_view_projections
            inputs: dict[str, Any] = {}
            combined = np.full(n, PRESENT, dtype=object)
            for fetched in (member, titles):
                for view_name, state in fetched.states.items():
                    if view_name not in sources:
                        continue
                    state = np.broadcast_to(state, (n,))
                    combined[(state == MISSING) & (combined == PRESENT)] = MISSING
                    combined[state == STALE] = STALE
                    for feature in sources[view_name].features:
                        column = fetched.values[f"{view_name}__{feature.name}"]
                        inputs[feature.name] = np.broadcast_to(column, (n,))
            for request_field in self.request_fields[odfv.name]:
                inputs[request_field] = pd.Series(
                    np.full(n, np.datetime64(request_time, "us"))
                ).dt.tz_localize("UTC")
            out = odfv.feature_transformation.udf(pd.DataFrame(inputs))
            for feature in odfv.features:
                name = f"{odfv.name}__{feature.name}"
                column = out[feature.name].to_numpy(dtype=float, na_value=np.nan)
                column[combined != PRESENT] = np.nan
                values[name] = column
                states[name] = combined
        return values, states

    def lookup(
        self,
        member_key: str,
        title_ids: Sequence[str],
        network_key: str | None,
        request_time: datetime,
    ) -> OnlineFeatures:
        """Fetch everything the ranker and bitrate models need for one request.

        Args:
            member_key: The member's pseudonymous key (never a raw member id).
            title_ids: Candidate titles; the result keeps their order (duplicates too).
            network_key: ``country:connection_type`` of the playback, or None.
            request_time: When the request is served (naive UTC or aware); values older
                than their view's ttl at this time are served as missing (``stale``).

        Returns:
            Member, per-title (with on-demand features) and network features, each with
            its status.
        """
        started = time.perf_counter()
        at = _utc_naive(request_time)
        title_ids = list(title_ids)
        n = len(title_ids)
        member = self._fetch("member", [member_key], at)
        titles = self._fetch("title", title_ids, at) if n else _Fetched({}, {}, {}, {})
        odfv_values, odfv_states = self._on_demand(member, titles, n, at) if n else ({}, {})
        network = self._fetch("network", [network_key], at) if network_key else None

        title_columns = {"title_id": title_ids}
        status_columns = {"title_id": title_ids}
        for view in self.views["title"]:
            for name in self.served.get(view.name, []):
                title_columns[name] = titles.values[name] if n else []
                status_columns[name] = titles.states[view.name] if n else []
        for name in self.odfv_features:
            title_columns[name] = odfv_values.get(name, [])
            status_columns[name] = odfv_states.get(name, [])
        return OnlineFeatures(
            request_time=at,
            member=self._single(member_key, "member", member),
            titles=pd.DataFrame(title_columns),
            title_status=pd.DataFrame(status_columns),
            network=self._single(network_key, "network", network) if network else None,
            seconds=time.perf_counter() - started,
        )

    def network(self, network_key: str, request_time: datetime) -> EntityFeatures:
        """The network context's features alone (what a bitrate request needs)."""
        at = _utc_naive(request_time)
        return self._single(network_key, "network", self._fetch("network", [network_key], at))

    def _single(self, key: str, entity: str, fetched: _Fetched) -> EntityFeatures:
        values: dict[str, Any] = {}
        status: dict[str, str] = {}
        for view in self.views[entity]:
            for name in self.served.get(view.name, []):
                value = _plain(fetched.values[name][0])
                values[name] = int(value) if value is not None and name in self.integers else value
                status[name] = fetched.states[view.name][0]
        times = {view.name: fetched.event_time(view.name, 0) for view in self.views[entity]}
        return EntityFeatures(key=key, values=values, status=status, event_times=times)


def _column(values: list, value_type: str, ok: np.ndarray) -> np.ndarray:
    """One feature's values (ValueProtos, None where absent) as an array: floats with NaN,
    or objects with None."""
    attr = f"{value_type.lower()}_val"
    raw = [getattr(v, attr) if v is not None else 0 for v in values]
    if value_type in ("INT32", "INT64", "FLOAT", "DOUBLE"):
        out = np.array(raw, dtype=float)
        out[~ok] = np.nan
        return out
    if value_type == "UNIX_TIMESTAMP":
        out = np.array(raw, dtype="datetime64[s]").astype("datetime64[us]")
        out[~ok] = np.datetime64("NaT")
        return out
    out = np.array(raw, dtype=object)
    out[~ok] = None
    return out


def _plain(value: Any) -> Any:
    """A numpy scalar as a plain Python value; NaN/NaT as None."""
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else value.astype("datetime64[us]").item()
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    return value
