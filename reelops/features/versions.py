"""Content hashes of feature definitions: when to re-apply, and a feature service's version.

A version is a hash of what a service reads (its projection and its views' specs, the
on-demand udfs' source text), without the creation times every new object gets, so the
same definitions hash the same in every process and on every profile.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from google.protobuf.descriptor import FieldDescriptor

if TYPE_CHECKING:
    from reelops.features.store import FeatureRepo


def definitions_digest(repo: FeatureRepo) -> str:
    """A hash of the definitions (resolved for this source) and the profile's YAML."""
    digest = hashlib.sha256()
    digest.update(repo.store_yaml.read_bytes())
    digest.update(repo.project.encode())
    for obj in sorted(repo.definitions.objects, key=lambda o: (type(o).__name__, o.name)):
        digest.update(f"{type(obj).__name__}:{obj.name}".encode())
        if hasattr(obj, "feature_transformation"):
            # The udf's pickle is not stable across processes; its source text is.
            digest.update(obj.feature_transformation.udf_string.encode())
            digest.update(repr(sorted((f.name, str(f.dtype)) for f in obj.features)).encode())
            digest.update(repr(sorted(obj.source_feature_view_projections)).encode())
            digest.update(repr(sorted(obj.source_request_sources)).encode())
            digest.update(repr(sorted(obj.tags.items())).encode())
        else:
            proto = obj.to_proto()
            spec = proto.spec if "spec" in proto.DESCRIPTOR.fields_by_name else proto
            digest.update(_without_times(spec).SerializeToString(deterministic=True))
    return digest.hexdigest()


def feature_service_version(repo: FeatureRepo, service: str) -> str:
    """A short hash of one feature service and the views it reads: changes when they do."""
    wanted = repo.service(service)
    views = {p.name for p in wanted.feature_view_projections}
    digest = hashlib.sha256(_without_times(wanted.to_proto().spec).SerializeToString(True))
    for view in sorted(repo.definitions.feature_views, key=lambda v: v.name):
        if view.name in views:
            digest.update(_without_times(view.to_proto().spec).SerializeToString(True))
    for view in sorted(repo.definitions.on_demand_views, key=lambda v: v.name):
        if view.name in views:
            digest.update(view.feature_transformation.udf_string.encode())
    return digest.hexdigest()[:16]


_TIME_FIELDS = {"meta", "created_timestamp", "last_updated_timestamp"}


def _without_times(message):
    """A copy of a proto without the creation/update times that every new object gets."""
    clean = type(message)()
    clean.CopyFrom(message)
    _clear_times(clean)
    return clean


def _clear_times(message) -> None:
    for descriptor, value in message.ListFields():
        if descriptor.name in _TIME_FIELDS:
            message.ClearField(descriptor.name)
        elif descriptor.type == FieldDescriptor.TYPE_MESSAGE:
            if descriptor.is_repeated:
                if descriptor.message_type.GetOptions().map_entry:
                    continue
                for item in value:
                    _clear_times(item)
            else:
                _clear_times(value)
