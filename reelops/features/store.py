"""The Feast store of one source: open it, apply changed definitions, tear it down.

Each source is its own Feast project (``reelops_<source>``), so imported and synthetic
data never share an online store; where it lives is :mod:`reelops.features.environment`.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import sys
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg2
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from psycopg2 import sql

from reelops.config import Settings, temporary_environ
from reelops.features.environment import (
    REGISTRY_PG_SCHEMA,
    REPO_DIR,
    FeatureStoreError,
    catalogue_path,
    feast_dir,
    feast_environ,
    project_name,
    store_yaml,
)
from reelops.features.transforms import GENRE_FLAG_COLUMNS
from reelops.features.versions import definitions_digest
from reelops.locks import folder_lock
from reelops.sources import SourceError, active_source, source_info

if TYPE_CHECKING:
    from feast import FeatureStore

# Import order matters only for readability: each module imports what it uses.
REPO_MODULES = (
    "data_sources",
    "entities",
    "members",
    "titles",
    "networks",
    "artwork",
    "on_demand",
    "feature_services",
)
# Loading the definitions swaps sys.path and sys.modules entries for a moment.
_LOAD_LOCK = threading.Lock()


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

    @property
    def store_yaml(self) -> Path:
        """The profile's ``feature_store.yaml`` this store was opened with."""
        return store_yaml(self.settings)

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

    A catalogue synced earlier is kept when the mart is gone: a serving host opens the
    store without the offline warehouse and reads online rows only.

    Raises:
        FeatureStoreError: neither dim_titles nor an earlier catalogue exists yet.
    """

    mart = settings.marts_dir(source) / "dim_titles.parquet"
    target = catalogue_path(settings, source)
    if not mart.exists() and target.exists():
        return target
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
    if stamp.is_file() and stamp.read_text().strip() == generation:
        return False  # the common case: read-only, so concurrent openers never race
    stamp.parent.mkdir(parents=True, exist_ok=True)
    with store_lock(settings, source):
        stale = stamp.is_file() and stamp.read_text().strip() != generation
        if stale:
            teardown(settings, source, locked=True)
            stamp.parent.mkdir(parents=True, exist_ok=True)
        tmp = stamp.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(generation + "\n")
        os.replace(tmp, stamp)  # a reader sees the old or the new stamp, never an empty one
    return stale


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


def teardown(settings: Settings, source: str, *, locked: bool = False) -> None:
    """Remove a source's Feast project: its online rows, registry entries and local files.

    Only this project is touched: Feast's own ``FeatureStore.teardown`` would empty the
    whole SQL registry, every project included, so objects are deleted one by one.
    ``locked`` says the caller already holds :func:`store_lock` (it is not re-entrant).
    """

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
    with contextlib.nullcontext() if locked else store_lock(settings, source):
        if objects:
            store.apply([], objects_to_delete=objects, partial=False)
        if settings.profile == "production":
            with contextlib.suppress(Exception):
                store.registry.delete_project(project_name(source))
    shutil.rmtree(folder, ignore_errors=True)
