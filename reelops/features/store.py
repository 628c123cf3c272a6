"""The Feast store of one source: its environment, definitions, and apply-if-changed.

Each source is its own Feast project (``reelops_<source>``), so imported and synthetic
data never share an online store. ``feature_repo/<profile>/feature_store.yaml`` and the
definition modules read their locations from environment variables set here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from reelops.config import PROJECT_ROOT, Settings, temporary_environ
from reelops.features.transforms import GENRE_FLAG_COLUMNS
from reelops.locks import folder_lock
from reelops.sources import SourceError, active_source, source_info

if TYPE_CHECKING:
    from feast import FeatureStore

REPO_DIR = PROJECT_ROOT / "feature_repo"
# Import order matters only for readability: each module imports what it uses.
REPO_MODULES = (
    "data_sources",
    "entities",
    "members",
    "titles",
    "networks",
    "on_demand",
    "feature_services",
)
REGISTRY_PG_SCHEMA = "reelops_feast"
CATALOGUE_VALID_FROM = "1970-01-01 00:00:00"
# Loading the definitions swaps sys.path and sys.modules entries for a moment.
_LOAD_LOCK = threading.Lock()


class FeatureStoreError(RuntimeError):
    """The feature store cannot be opened or used as asked."""


def project_name(source: str) -> str:
    """The Feast project of a source: ``reelops_<source>`` with only ``[a-z0-9_]``."""
    return "reelops_" + re.sub(r"[^a-z0-9_]", "_", source.lower())


def feast_dir(settings: Settings, source: str) -> Path:
    """Where a source's local Feast files live (registry, online store, catalogue, stamps)."""
    return settings.home / "feast" / source


def catalogue_path(settings: Settings, source: str) -> Path:
    """The local title catalogue: dim_titles' static columns plus a ``valid_from`` time."""
    return feast_dir(settings, source) / "title_catalogue.parquet"


def store_yaml(settings: Settings) -> Path:
    return REPO_DIR / settings.profile / "feature_store.yaml"


REDIS_CONNECT_TIMEOUT_S = 0.5


def redis_connection_string(redis_url: str) -> str:
    """Feast's Redis format (``host:port,db=0,password=...``) from a ``redis://`` URL."""
    parts = urlsplit(redis_url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise FeatureStoreError(
            f"REELOPS_REDIS_URL must look like redis://host:port/db, got {redis_url!r}"
        )
    out = [f"{parts.hostname}:{parts.port or 6379}"]
    db = parts.path.strip("/")
    if db:
        out.append(f"db={int(db)}")
    if parts.password:
        out.append(f"password={unquote(parts.password)}")
    if parts.username and parts.username != "default":
        out.append(f"username={unquote(parts.username)}")
    if parts.scheme == "rediss":
        out.append("ssl=true")
    # A Redis host that does not answer fails a request in half a second (the serving
    # fallback's budget), not after the operating system's connect timeout of minutes.
    out.append(f"socket_connect_timeout={REDIS_CONNECT_TIMEOUT_S}")
    return ",".join(out)


def registry_url(settings: Settings) -> str:
    """SQLAlchemy URL of the SQL registry, with its own schema on the search path."""
    password = settings.pg_password.get_secret_value()
    auth = quote(settings.pg_user, safe="")
    if password:
        auth += ":" + quote(password, safe="")
    return (
        f"postgresql+psycopg://{auth}@{settings.pg_host}:{settings.pg_port}/"
        f"{settings.pg_database}?options=-csearch_path%3D{REGISTRY_PG_SCHEMA}"
    )


def catalogue_query(schema: str) -> str:
    """The production title catalogue: dim_titles' static columns with ``valid_from``."""
    flags = ", ".join(GENRE_FLAG_COLUMNS)
    return (
        f"select title_id, {flags}, n_genres, cast(release_date as timestamp) as release_ts, "
        f"timestamp '{CATALOGUE_VALID_FROM}' as valid_from from {schema}.dim_titles"
    )


def feast_environ(settings: Settings, source: str) -> dict[str, str]:
    """The variables ``feature_store.yaml`` and the definition modules read, for one source."""
    env = {"REELOPS_FEAST_PROJECT": project_name(source)}
    if settings.profile == "local":
        folder = feast_dir(settings, source)
        env |= {
            "REELOPS_FEAST_OFFLINE": "file",
            "REELOPS_FEAST_REGISTRY": str(folder / "registry.db"),
            "REELOPS_FEAST_ONLINE_PATH": str(folder / "online.db"),
            "REELOPS_FEAST_MARTS_DIR": str(settings.marts_dir(source)),
            "REELOPS_FEAST_CATALOGUE_PATH": str(catalogue_path(settings, source)),
        }
    else:
        schema = settings.pg_schema(source)
        env |= {
            "REELOPS_FEAST_OFFLINE": "postgres",
            "REELOPS_FEAST_REGISTRY": registry_url(settings),
            "REELOPS_FEAST_REDIS": redis_connection_string(settings.redis_url),
            "REELOPS_FEAST_PG_SCHEMA": schema,
            "REELOPS_FEAST_CATALOGUE_QUERY": catalogue_query(schema),
            "REELOPS_PG_HOST": settings.pg_host,
            "REELOPS_PG_PORT": str(settings.pg_port),
            "REELOPS_PG_USER": settings.pg_user,
            # JSON is valid YAML: the password arrives quoted, whatever it holds.
            "REELOPS_FEAST_PG_PASSWORD": json.dumps(settings.pg_password.get_secret_value()),
            "REELOPS_PG_DATABASE": settings.pg_database,
        }
    return env


@dataclass(frozen=True)
class Definitions:
    """Every Feast object the repository defines, loaded for one source and profile."""

    entities: list
    data_sources: list
    feature_views: list
    on_demand_views: list
    services: list

    @property
    def objects(self) -> list:
        return [
            *self.data_sources,
            *self.entities,
            *self.feature_views,
            *self.on_demand_views,
            *self.services,
        ]


def _forget_repo_modules() -> None:
    for name in REPO_MODULES:
        sys.modules.pop(name, None)


def load_definitions(settings: Settings, source: str) -> Definitions:
    """Import the repository's modules with this source's environment and collect objects.

    The modules are imported afresh each time (their sources depend on the environment)
    and forgotten afterwards, so one process can open several sources or profiles.
    """
    import importlib

    from feast import Entity, FeatureService, FeatureView, OnDemandFeatureView
    from feast.data_source import DataSource

    found: dict[tuple[str, str], Any] = {}
    with _LOAD_LOCK, temporary_environ(feast_environ(settings, source)):
        sys.path.insert(0, str(REPO_DIR))
        _forget_repo_modules()
        try:
            modules = [importlib.import_module(name) for name in REPO_MODULES]
        finally:
            sys.path.remove(str(REPO_DIR))
            _forget_repo_modules()
    kinds = (Entity, DataSource, OnDemandFeatureView, FeatureView, FeatureService)
    for module in modules:
        for value in vars(module).values():
            for kind in kinds:
                if isinstance(value, kind):
                    found.setdefault((kind.__name__, value.name), value)
                    break
    by_kind = {
        k.__name__: [v for (kind, _), v in found.items() if kind == k.__name__] for k in kinds
    }
    return Definitions(
        entities=by_kind["Entity"],
        data_sources=by_kind["DataSource"],
        feature_views=by_kind["FeatureView"],
        on_demand_views=by_kind["OnDemandFeatureView"],
        services=by_kind["FeatureService"],
    )


@dataclass
class FeatureRepo:
    """An open Feast store for one source, with the definitions it was opened with."""

    settings: Settings
    source: str
    store: FeatureStore
    definitions: Definitions
    applied: bool = False

    @property
    def project(self) -> str:
        return project_name(self.source)

    @property
    def folder(self) -> Path:
        return feast_dir(self.settings, self.source)

    def feature_view(self, name: str):
        """A batch feature view's definition (ttl, tags, schema), from the loaded repository."""
        for view in self.definitions.feature_views:
            if view.name == name:
                return view
        names = sorted(v.name for v in self.definitions.feature_views)
        raise FeatureStoreError(f"no feature view {name!r}; feature views are {names}")

    def service(self, name: str):
        for service in self.definitions.services:
            if service.name == name:
                return service
        names = sorted(s.name for s in self.definitions.services)
        raise FeatureStoreError(f"no feature service {name!r}; feature services are {names}")


@contextlib.contextmanager
def store_lock(settings: Settings, source: str) -> Iterator[None]:
    """Serialize apply and materialization of one source on this machine."""
    with folder_lock(feast_dir(settings, source)):
        yield


def sync_catalogue(settings: Settings, source: str) -> Path:
    """Write the local title catalogue from dim_titles when the mart is newer (atomic).

    Raises:
        FeatureStoreError: the warehouse has no dim_titles for this source yet.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    mart = settings.marts_dir(source) / "dim_titles.parquet"
    target = catalogue_path(settings, source)
    if not mart.exists():
        raise FeatureStoreError(
            f"{mart} does not exist: build the warehouse for source {source!r} first "
            "(`reelops warehouse build` or the daily DAG)"
        )
    if target.exists() and target.stat().st_mtime_ns >= mart.stat().st_mtime_ns:
        return target
    titles = pq.read_table(
        mart, columns=["title_id", *GENRE_FLAG_COLUMNS, "n_genres", "release_date"]
    )
    release = pc.cast(titles["release_date"], pa.timestamp("us"))
    valid_from = pa.array([0] * titles.num_rows, pa.timestamp("us"))  # 1970-01-01
    table = titles.drop(["release_date"]).append_column("release_ts", release)
    table = table.append_column("valid_from", valid_from)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, target)
    return target


def _ensure_registry_schema(settings: Settings) -> None:
    import psycopg2
    from psycopg2 import sql

    try:
        conn = psycopg2.connect(settings.pg_dsn(), connect_timeout=10)
    except psycopg2.OperationalError as exc:
        raise FeatureStoreError(
            f"cannot reach PostgreSQL at {settings.pg_host}:{settings.pg_port} for the "
            f"Feast registry: {exc}"
        ) from exc
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                sql.SQL("create schema if not exists {}").format(sql.Identifier(REGISTRY_PG_SCHEMA))
            )
    finally:
        conn.close()


def _connect(settings: Settings, source: str) -> FeatureStore:
    with temporary_environ(feast_environ(settings, source)):
        from feast import FeatureStore

        return FeatureStore(repo_path=str(REPO_DIR), fs_yaml_file=store_yaml(settings))


def open_store(settings: Settings, source: str | None = None, *, apply: bool = True) -> FeatureRepo:
    """Open the Feast store of a source on the settings' profile.

    Args:
        settings: Platform settings; ``settings.profile`` picks the YAML and backends.
        source: Source name; the active source when None.
        apply: Register the definitions when they changed since the last apply.

    Returns:
        The open store and the definitions it was opened with.

    Raises:
        FeatureStoreError: the warehouse or a backend is missing.
    """
    import warnings

    # Feast warns on every apply and retrieval that on-demand views are "experimental";
    # ReelOps uses them knowingly, and the warning would fill every task log.
    warnings.filterwarnings(
        "ignore", message="On demand feature view is an experimental", category=RuntimeWarning
    )
    source = source or active_source(settings)
    reset_if_replaced(settings, source)
    if settings.profile == "local":
        sync_catalogue(settings, source)
    else:
        _ensure_registry_schema(settings)
    repo = FeatureRepo(
        settings, source, _connect(settings, source), load_definitions(settings, source)
    )
    if apply:
        repo.applied = apply_if_changed(repo)
    return repo


def reset_if_replaced(settings: Settings, source: str) -> bool:
    """Tear the source's Feast project down if the source was replaced since it was built.

    Generating or importing a source again gives it a new ``generation``; online rows and
    watermarks of the old data must not survive into the new. Sources without stored
    metadata (hand-made warehouses in tests) are left alone.

    Returns:
        True when the project was torn down.
    """
    try:
        generation = source_info(settings, source).generation
    except SourceError:
        return False
    if generation is None:
        return False
    stamp = feast_dir(settings, source) / "source-generation"
    stale = stamp.is_file() and stamp.read_text().strip() != generation
    if stale:
        teardown(settings, source)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(generation + "\n")
    return stale


def definitions_digest(repo: FeatureRepo) -> str:
    """A hash of the definitions (resolved for this source) and the profile's YAML."""
    digest = hashlib.sha256()
    digest.update(store_yaml(repo.settings).read_bytes())
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
    from google.protobuf.descriptor import FieldDescriptor

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


def _stamp_path(repo: FeatureRepo) -> Path:
    return repo.folder / f"applied-{repo.settings.profile}.sha256"


def _needs_reset(old, new) -> bool:
    """Whether a view's online rows and watermark no longer describe the new definition."""

    def schema(view) -> list[tuple[str, str]]:
        return sorted((f.name, str(f.dtype)) for f in view.features)

    return (
        schema(old) != schema(new)
        or sorted(old.entities) != sorted(new.entities)
        or old.batch_source != new.batch_source
    )


def apply_if_changed(repo: FeatureRepo) -> bool:
    """Apply the definitions when their digest differs from the last applied one.

    A view whose features, entities or source changed is deleted first (its online rows
    and materialization watermark go with it), so the next materialization rewrites it
    in full rather than continuing from a watermark that describes other data. Objects
    no longer defined are deleted. The stamp is written last: a crash before it means
    the next call applies again, which is idempotent.

    Returns:
        True when the definitions were applied, False when they were already current.
    """
    store, defs = repo.store, repo.definitions
    digest = definitions_digest(repo)
    stamp = _stamp_path(repo)
    with store_lock(repo.settings, repo.source):
        registered = {fv.name: fv for fv in store.list_feature_views(allow_cache=False)}
        registered_odfvs = {v.name: v for v in store.list_on_demand_feature_views()}
        registered_services = {s.name: s for s in store.list_feature_services()}
        expected = {v.name for v in defs.feature_views}
        current = (
            stamp.exists()
            and stamp.read_text().strip() == digest
            and set(registered) == expected
            and set(registered_odfvs) == {v.name for v in defs.on_demand_views}
            and set(registered_services) == {s.name for s in defs.services}
        )
        if current:
            return False
        new_views = {v.name: v for v in defs.feature_views}
        to_delete = [
            old
            for name, old in registered.items()
            if name not in new_views or _needs_reset(old, new_views[name])
        ]
        to_delete += [
            v
            for n, v in registered_odfvs.items()
            if n not in {o.name for o in defs.on_demand_views}
        ]
        to_delete += [
            s for n, s in registered_services.items() if n not in {s.name for s in defs.services}
        ]
        if to_delete:
            store.apply([], objects_to_delete=to_delete, partial=False)
        store.apply(defs.objects)
        tmp = stamp.with_suffix(".tmp")
        tmp.write_text(digest + "\n")
        os.replace(tmp, stamp)
        return True


def teardown(settings: Settings, source: str) -> None:
    """Remove a source's Feast project: its online rows, registry entries and local files.

    Only this project is touched: Feast's own ``FeatureStore.teardown`` would empty the
    whole SQL registry, every project included, so objects are deleted one by one.
    """
    import shutil

    folder = feast_dir(settings, source)
    if settings.profile == "local" and not (folder / "registry.db").exists():
        shutil.rmtree(folder, ignore_errors=True)
        return
    if settings.profile == "production":
        _ensure_registry_schema(settings)
    store = _connect(settings, source)
    objects = [
        *store.list_feature_services(),
        *store.list_on_demand_feature_views(),
        *store.list_feature_views(),
        *store.list_entities(),
        *store.list_data_sources(),
    ]
    with store_lock(settings, source):
        if objects:
            store.apply([], objects_to_delete=objects, partial=False)
        if settings.profile == "production":
            with contextlib.suppress(Exception):
                store.registry.delete_project(project_name(source))
    shutil.rmtree(folder, ignore_errors=True)
