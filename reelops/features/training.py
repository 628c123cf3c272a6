"""Point-in-time training sets: the only way models get training data.

Given labelled events (keys, event time, labels), Feast joins each row with the
feature values as of its time, never later, within each view's ttl. Feast returns rows
in another order, so every row carries a row number through the join and the result is
put back in the caller's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from reelops.config import Settings
from reelops.features.store import FeatureRepo, FeatureStoreError, open_store

if TYPE_CHECKING:
    import pandas as pd

ROW_ID = "__reelops_row"
FEAST_TIMESTAMP = "event_timestamp"


class TrainingSetError(FeatureStoreError):
    """The entity frame or the requested features cannot make a training set."""


@dataclass(frozen=True)
class FeatureRequest:
    """What a training set asks Feast for, resolved against the registry."""

    feast_features: object  # a FeatureService or a list of "view:feature" refs
    columns: list[str]  # output columns, "<view>__<feature>", in request order
    join_keys: list[str]
    request_fields: list[str]


def _resolve(repo: FeatureRepo, service: str | None, features: Sequence[str] | None):
    """Turn a service name or feature refs into Feast's argument and the output columns."""
    views = {v.name: v for v in repo.definitions.feature_views}
    odfvs = {v.name: v for v in repo.definitions.on_demand_views}
    entities = {e.name: e.join_key for e in repo.definitions.entities}
    if (service is None) == (features is None):
        raise TrainingSetError("pass either a feature service or a list of features, not both")
    if service is not None:
        try:
            feast_features = repo.store.get_feature_service(service)
        except Exception as exc:
            names = sorted(s.name for s in repo.definitions.services)
            raise TrainingSetError(
                f"no feature service {service!r} in project {repo.project}; services are {names}"
            ) from exc
        pairs = [
            (p.name, f.name) for p in feast_features.feature_view_projections for f in p.features
        ]
    else:
        pairs = []
        for ref in features:
            view_name, sep, feature = ref.partition(":")
            known = views.get(view_name) or odfvs.get(view_name)
            if not sep or known is None:
                raise TrainingSetError(
                    f"feature {ref!r} names no feature view; write 'view:feature' with a view "
                    f"among {sorted([*views, *odfvs])}"
                )
            names = [f.name for f in known.features]
            if feature not in names:
                raise TrainingSetError(
                    f"feature view {view_name!r} has no feature {feature!r}; it has {names}"
                )
            pairs.append((view_name, feature))
        feast_features = list(features)
    join_keys: list[str] = []
    request_fields: list[str] = []

    def need_view(name: str) -> None:
        for entity in views[name].entities:
            if entities[entity] not in join_keys:
                join_keys.append(entities[entity])

    for view_name in dict.fromkeys(name for name, _ in pairs):
        if view_name in views:
            need_view(view_name)
            continue
        odfv = odfvs[view_name]
        for source in odfv.source_feature_view_projections:
            need_view(source)
        for request in odfv.source_request_sources.values():
            request_fields += [f.name for f in request.schema if f.name not in request_fields]
    columns = [f"{view}__{feature}" for view, feature in pairs]
    return FeatureRequest(feast_features, columns, join_keys, request_fields)


def _check_frame(frame: pd.DataFrame, request: FeatureRequest, timestamp_column: str) -> None:

    if timestamp_column not in frame.columns:
        raise TrainingSetError(
            f"the entity frame has no timestamp column {timestamp_column!r} (columns: "
            f"{list(frame.columns)}); pass timestamp_column= to name the label time"
        )
    if not pd.api.types.is_datetime64_any_dtype(frame[timestamp_column]):
        raise TrainingSetError(
            f"column {timestamp_column!r} must hold timestamps, got dtype "
            f"{frame[timestamp_column].dtype}"
        )
    missing = [key for key in request.join_keys if key not in frame.columns]
    if missing:
        raise TrainingSetError(
            f"the entity frame lacks join key column(s) {missing} needed by the requested "
            f"features; it has {list(frame.columns)}"
        )
    for column in [timestamp_column, *request.join_keys]:
        nulls = int(frame[column].isna().sum())
        if nulls:
            raise TrainingSetError(f"column {column!r} has {nulls} null value(s); drop those rows")
    clashes = [c for c in request.columns if c in frame.columns]
    if clashes:
        raise TrainingSetError(
            f"the entity frame already has column(s) {clashes}, which the features would fill"
        )


def build_training_set(
    settings: Settings,
    entity_frame: pd.DataFrame,
    service: str | None = "ranker_v1",
    *,
    features: Sequence[str] | None = None,
    timestamp_column: str = "event_timestamp",
    source: str | None = None,
    repo: FeatureRepo | None = None,
) -> pd.DataFrame:
    """Join labelled events with feature values as of each event's time.

    Args:
        settings: Platform settings (the profile picks the offline store).
        entity_frame: One row per labelled event: the join keys the features need
            (``member_key``, ``title_id``, ``network_key``), ``timestamp_column`` (naive
            UTC or aware) and any labels or other columns, which are kept as they are.
        service: Feature service to join (``ranker_v1``, ``bitrate_v1``); None when
            ``features`` is given.
        features: Instead of a service, ``"view:feature"`` references.
        timestamp_column: The label time; features strictly newer are never joined.
        source: Source name; the active source when None.
        repo: An already open store.

    Returns:
        ``entity_frame`` with the same index, rows and order, plus one column per
        feature named ``<view>__<feature>`` (NaN/None where no value existed within the
        view's ttl). On-demand views that need the request time get the label time.

    Raises:
        TrainingSetError: a service, feature or key column is missing or unusable; the
            message names it.
    """

    if features is not None:
        service = None
    repo = repo or open_store(settings, source)
    request = _resolve(repo, service, features)
    _check_frame(entity_frame, request, timestamp_column)

    query = pd.DataFrame({key: entity_frame[key].to_numpy() for key in request.join_keys})
    stamps = pd.to_datetime(entity_frame[timestamp_column])
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    query[FEAST_TIMESTAMP] = stamps.to_numpy()
    for name in request.request_fields:
        # The only request field is the request time; for a label it is the label's time.
        query[name] = (
            entity_frame[name].to_numpy() if name in entity_frame else query[FEAST_TIMESTAMP]
        )
    query[ROW_ID] = range(len(query))
    joined = repo.store.get_historical_features(
        entity_df=query, features=request.feast_features, full_feature_names=True
    ).to_df()
    if len(joined) != len(query) or joined[ROW_ID].duplicated().any():
        raise TrainingSetError(
            f"the point-in-time join returned {len(joined)} rows for {len(query)} events"
        )
    joined = joined.sort_values(ROW_ID, kind="stable")
    result = entity_frame.copy()
    for column in request.columns:
        result[column] = joined[column].to_numpy()
    return result
