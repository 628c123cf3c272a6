"""Model registry: artifacts in BentoML's model store, stages and an audit log in SQL.

A model version is a BentoML model (``name:version``) holding the model's files. Its
stage (candidate, approved, production, rejected, retired), metrics, gate results,
report locations and lineage live in two SQL tables beside it (SQLite locally,
PostgreSQL in production): BentoML's own metadata is immutable once saved, while a
stage must change atomically. A partial unique index makes "exactly one production
version per model" a database guarantee, not a convention.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from reelops.config import PROJECT_ROOT, Settings, apply_bentoml_environ

STAGES = ("candidate", "approved", "production", "rejected", "retired")

_metadata = sa.MetaData()
VERSIONS = sa.Table(
    "reelops_model_versions",
    _metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("version", sa.String(64), primary_key=True),
    sa.Column("stage", sa.String(16), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("metrics", sa.Text, nullable=False),
    sa.Column("gates", sa.Text, nullable=False),
    sa.Column("reports", sa.Text, nullable=False),
    sa.Column("lineage", sa.Text, nullable=False),
    sa.Index(
        "one_production_per_model",
        "name",
        unique=True,
        sqlite_where=sa.text("stage = 'production'"),
        postgresql_where=sa.text("stage = 'production'"),
    ),
)
AUDIT = sa.Table(
    "reelops_model_audit",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("from_version", sa.String(64)),
    sa.Column("to_version", sa.String(64)),
    sa.Column("reason", sa.Text, nullable=False),
)


class RegistryError(ValueError):
    """A registry request that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class ModelVersion:
    """One saved model version and everything known about it."""

    name: str
    version: str
    stage: str
    created_at: str
    metrics: dict[str, Any] = field(default_factory=dict)
    gates: dict[str, Any] = field(default_factory=dict)
    reports: dict[str, str] = field(default_factory=dict)
    lineage: dict[str, Any] = field(default_factory=dict)

    @property
    def tag(self) -> str:
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class AuditEntry:
    """One stage change: who, when, what, from which version to which, why."""

    at: str
    actor: str
    action: str
    name: str
    from_version: str | None
    to_version: str | None
    reason: str


def code_version() -> str:
    """The git commit of the code that trained a model (``+dirty`` if uncommitted changes)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
        )
    except OSError:
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def frame_hash(frame: Any) -> str:
    """A content hash of a training frame (row order and values), for lineage."""

    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    digest = hashlib.sha256(hashed.tobytes())
    digest.update(",".join(map(str, frame.columns)).encode())
    return digest.hexdigest()[:16]


def training_lineage(
    settings: Settings,
    *,
    source: str,
    feature_service: str,
    feature_service_version: str,
    training_frame: Any,
    params: dict[str, Any],
    data_interval: tuple[Any, Any],
    **extra: Any,
) -> dict[str, Any]:
    """The lineage every model version records (issue 6): what it learned from, and how.

    Args:
        settings: Where the dbt manifest and Feast registry live.
        source: The data source trained on (``world``, ``movielens``...).
        feature_service: The Feast feature service read.
        feature_service_version: Its version
            (:func:`reelops.features.store.feature_service_version`).
        training_frame: The labelled training rows (hashed and counted).
        params: The chosen hyperparameters.
        data_interval: First and last event time of the training data.
        **extra: Model-specific additions (e.g. the search results).
    """
    manifest = settings.home / "dbt" / source / "target" / "manifest.json"
    manifest_hash = (
        hashlib.sha256(manifest.read_bytes()).hexdigest()[:16] if manifest.is_file() else None
    )
    return {
        "source": source,
        "data_interval": [str(data_interval[0]), str(data_interval[1])],
        "dbt_manifest_hash": manifest_hash,
        "feature_service": feature_service,
        "feature_service_version": feature_service_version,
        "training_rows": int(len(training_frame)),
        "training_hash": frame_hash(training_frame),
        "params": params,
        **extra,
    }


def _now() -> str:
    # Registry events are facts about when a person or task acted, not data-interval logic.
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _row_to_version(row: Any) -> ModelVersion:
    return ModelVersion(
        name=row.name,
        version=row.version,
        stage=row.stage,
        created_at=row.created_at,
        metrics=json.loads(row.metrics),
        gates=json.loads(row.gates),
        reports=json.loads(row.reports),
        lineage=json.loads(row.lineage),
    )


class Registry:
    """Save model versions and move them between stages, atomically and audited."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.store_path = settings.bentoml_home / "models"
        if settings.profile == "production":
            url = settings.pg_dsn().replace("postgresql://", "postgresql+psycopg2://")
        else:
            folder = settings.home / "registry"
            folder.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{folder / 'registry.sqlite'}"
        self.engine = sa.create_engine(url)
        _metadata.create_all(self.engine)

    def _store(self):
        apply_bentoml_environ(self.settings)
        from bentoml._internal.models import ModelStore

        self.store_path.mkdir(parents=True, exist_ok=True)
        return ModelStore(self.store_path)

    # -- saving and reading -------------------------------------------------------------

    def save(
        self,
        name: str,
        files: Path,
        *,
        metrics: dict[str, Any],
        lineage: dict[str, Any],
        reports: dict[str, str] | None = None,
    ) -> ModelVersion:
        """Save the files of ``files`` (a folder) as a new *candidate* version of ``name``."""
        self._store()  # sets BENTOML_HOME before bentoml is imported
        import bentoml

        files = Path(files)
        if not files.is_dir() or not any(files.iterdir()):
            raise RegistryError(f"{files}: expected a folder with the model's files")
        lineage = {"code_version": code_version(), **lineage}
        with bentoml.models.create(
            name,
            labels={"stage_at_save": "candidate"},
            metadata={"lineage": json.dumps(lineage, default=str)},
            _model_store=self._store(),
        ) as model:
            shutil.copytree(files, model.path, dirs_exist_ok=True)
        version = ModelVersion(
            name=name,
            version=model.tag.version,
            stage="candidate",
            created_at=_now(),
            metrics=metrics,
            reports=reports or {},
            lineage=lineage,
        )
        with self.engine.begin() as conn:
            conn.execute(
                VERSIONS.insert().values(
                    name=name,
                    version=version.version,
                    stage="candidate",
                    created_at=version.created_at,
                    metrics=json.dumps(metrics, default=float),
                    gates="{}",
                    reports=json.dumps(version.reports),
                    lineage=json.dumps(lineage, default=str),
                )
            )
            self._audit(conn, "save", name, None, version.version, "trained", "reelops")
        return version

    def files(self, name: str, version: str) -> Path:
        """The folder holding a version's files (read-only by convention)."""
        self.get(name, version)
        return Path(self._store().get(f"{name}:{version}").path)

    def get(self, name: str, version: str) -> ModelVersion:
        with self.engine.connect() as conn:
            row = conn.execute(
                VERSIONS.select().where(VERSIONS.c.name == name, VERSIONS.c.version == version)
            ).first()
        if row is None:
            known = [v.version for v in self.list(name)]
            raise RegistryError(
                f"unknown version {name}:{version}; known versions: {known or 'none'}"
            )
        return _row_to_version(row)

    def list(self, name: str | None = None) -> list[ModelVersion]:
        query = VERSIONS.select().order_by(VERSIONS.c.name, VERSIONS.c.created_at)
        if name:
            query = query.where(VERSIONS.c.name == name)
        with self.engine.connect() as conn:
            return [_row_to_version(r) for r in conn.execute(query)]

    def production(self, name: str) -> ModelVersion | None:
        """The version of ``name`` that serves now, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(
                VERSIONS.select().where(VERSIONS.c.name == name, VERSIONS.c.stage == "production")
            ).first()
        return _row_to_version(row) if row else None

    def audit_log(self, name: str | None = None) -> list[AuditEntry]:
        query = AUDIT.select().order_by(AUDIT.c.id)
        if name:
            query = query.where(AUDIT.c.name == name)
        with self.engine.connect() as conn:
            return [
                AuditEntry(r.at, r.actor, r.action, r.name, r.from_version, r.to_version, r.reason)
                for r in conn.execute(query)
            ]

    # -- stage changes ------------------------------------------------------------------

    def record_gates(
        self, name: str, version: str, gates: dict[str, Any], reports: dict[str, str]
    ) -> ModelVersion:
        """Attach gate results and report locations to a version."""
        current = self.get(name, version)
        with self.engine.begin() as conn:
            conn.execute(
                VERSIONS.update()
                .where(VERSIONS.c.name == name, VERSIONS.c.version == version)
                .values(
                    gates=json.dumps(gates, default=float),
                    reports=json.dumps({**current.reports, **reports}),
                )
            )
        return self.get(name, version)

    def approve(self, name: str, version: str, *, actor: str, reason: str) -> ModelVersion:
        """candidate → approved."""
        return self._move(name, version, "approved", {"candidate"}, "approve", actor, reason)

    def reject(self, name: str, version: str, *, actor: str, reason: str) -> ModelVersion:
        """candidate or approved → rejected; a rejected version can never be promoted."""
        return self._move(
            name, version, "rejected", {"candidate", "approved"}, "reject", actor, reason
        )

    def promote(
        self, name: str, version: str, *, actor: str | None = None, reason: str
    ) -> ModelVersion:
        """Make ``version`` the production version; the previous one is retired.

        Both changes and the audit entry happen in one transaction.
        """
        actor = actor or getpass.getuser()
        target = self.get(name, version)
        if target.stage == "rejected":
            raise RegistryError(f"{target.tag} was rejected and cannot be promoted")
        if target.stage == "production":
            raise RegistryError(f"{target.tag} is already in production")
        with self.engine.begin() as conn:
            previous = conn.execute(
                VERSIONS.select()
                .where(VERSIONS.c.name == name, VERSIONS.c.stage == "production")
                .with_for_update()
            ).first()
            if previous is not None:
                self._set_stage(conn, name, previous.version, "retired")
            self._set_stage(conn, name, version, "production")
            from_version = previous.version if previous else None
            self._audit(conn, "promote", name, from_version, version, reason, actor)
        return self.get(name, version)

    def rollback(self, name: str, *, actor: str | None = None, reason: str) -> ModelVersion:
        """Put back the version that served before the current one; the current is retired."""
        actor = actor or getpass.getuser()
        current = self.production(name)
        if current is None:
            raise RegistryError(f"{name} has no production version to roll back from")
        promotions = [
            e
            for e in self.audit_log(name)
            # Only promotions count: rolling back twice must not restore a rolled-back version.
            if e.action == "promote" and e.to_version == current.version
        ]
        previous = promotions[-1].from_version if promotions else None
        if previous is None:
            raise RegistryError(
                f"{current.tag} is the first production version of {name}: "
                "there is no previous production version to roll back to"
            )
        with self.engine.begin() as conn:
            self._set_stage(conn, name, current.version, "retired")
            self._set_stage(conn, name, previous, "production")
            self._audit(conn, "rollback", name, current.version, previous, reason, actor)
        return self.get(name, previous)

    def _move(
        self,
        name: str,
        version: str,
        stage: str,
        allowed_from: set[str],
        action: str,
        actor: str,
        reason: str,
    ) -> ModelVersion:
        current = self.get(name, version)
        if current.stage not in allowed_from:
            raise RegistryError(
                f"cannot {action} {current.tag}: it is {current.stage}, "
                f"expected one of {sorted(allowed_from)}"
            )
        with self.engine.begin() as conn:
            self._set_stage(conn, name, version, stage)
            self._audit(conn, action, name, version, version, reason, actor)
        return self.get(name, version)

    @staticmethod
    def _set_stage(conn, name: str, version: str, stage: str) -> None:
        conn.execute(
            VERSIONS.update()
            .where(VERSIONS.c.name == name, VERSIONS.c.version == version)
            .values(stage=stage)
        )

    @staticmethod
    def _audit(conn, action, name, from_version, to_version, reason, actor) -> None:
        conn.execute(
            AUDIT.insert().values(
                at=_now(),
                actor=actor,
                action=action,
                name=name,
                from_version=from_version,
                to_version=to_version,
                reason=reason,
            )
        )
