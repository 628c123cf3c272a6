"""Model registry: artifacts in BentoML's model store, stages and an audit log in SQL.

A model version is a BentoML model (``name:version``) holding the model's files. Its
stage (candidate, approved, production, canary, shadow, rejected, retired), metrics, gate
results, report locations and lineage live in SQL tables beside it (SQLite locally,
PostgreSQL in production): BentoML's own metadata is immutable once saved, while a
stage must change atomically. A partial unique index makes "exactly one production
version per model" a database guarantee, not a convention.

A *release* puts an approved version beside production before it replaces it: as a
**canary** it serves a stable share of members (chosen by a hash of the member key and
the release's salt, :func:`in_share`), in **shadow** mode it is scored and logged for
that share but never shown. At most one release per model is live (a second partial
unique index); it ends promoted (the challenger becomes production), rolled back (a
canary is rejected, its members are back on production), stopped, or superseded (another
version was promoted or production rolled back under it). Every start and end is a stage
change in the same transaction as its audit row and its release row.
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

STAGES = ("candidate", "approved", "production", "canary", "shadow", "rejected", "retired")
RELEASE_MODES = ("canary", "shadow")
# How a live release ended (``reelops_model_releases.outcome``).
RELEASE_OUTCOMES = ("promoted", "rolled_back", "stopped", "superseded")

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
RELEASES = sa.Table(
    "reelops_model_releases",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("share", sa.Float, nullable=False),
    sa.Column("salt", sa.String(160), nullable=False),
    sa.Column("baseline", sa.String(64), nullable=False),  # production when it started
    sa.Column("started_at", sa.String(32), nullable=False),
    sa.Column("ended_at", sa.String(32)),
    sa.Column("outcome", sa.String(16)),
    sa.Column("looks", sa.Integer, nullable=False, server_default="0"),  # decisions made
    sa.Index(
        "one_live_release_per_model",
        "name",
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    ),
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


def in_share(salt: str, member_key: str | None, share: float) -> bool:
    """Whether a member falls in a release's share: a stable hash, the same every call.

    The member key and the release's salt are hashed (SHA-256) to a number in [0, 1);
    the member is in the share when it is below ``share``. The same member is always in
    or out of one release; another release (another salt) draws another share of members,
    so the same people do not test every canary. A request without a key is never in it.
    """
    if not member_key or share <= 0:
        return False
    digest = hashlib.sha256(f"{salt}\x00{member_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64 < share


@dataclass(frozen=True)
class Release:
    """A version released beside production: a canary or a shadow, live or ended.

    Attributes:
        name: Registry name of the model.
        version: The challenger.
        mode: ``canary`` (serves its share of members) or ``shadow`` (scored and logged
            for its share, never shown).
        share: Share of members (0..1] in the release.
        salt: Hashed with the member key to pick the share (:func:`in_share`).
        baseline: The production version when the release started.
        started_at: When it started (UTC ISO time).
        ended_at: When it ended, or None while it is live.
        outcome: How it ended (:data:`RELEASE_OUTCOMES`), or None while live.
        looks: Decisions taken on it so far (each a look at the outcomes).
    """

    id: int
    name: str
    version: str
    mode: str
    share: float
    salt: str
    baseline: str
    started_at: str
    ended_at: str | None = None
    outcome: str | None = None
    looks: int = 0

    @property
    def live(self) -> bool:
        return self.ended_at is None

    def includes(self, member_key: str | None) -> bool:
        """Whether this member is in the release's share (served or shadowed by it)."""
        return in_share(self.salt, member_key, self.share)

    def arm(self, member_key: str | None) -> str:
        """The arm that serves a member: ``canary`` or ``production`` (shadow never serves)."""
        return "canary" if self.mode == "canary" and self.includes(member_key) else "production"


def _row_to_release(row: Any, prefix: str = "") -> Release:
    """A release from a row of the releases table, its columns named ``<prefix><column>``
    (:meth:`Registry.serving_state` selects them as ``r_<column>`` beside a version)."""

    def col(name: str) -> Any:
        return getattr(row, prefix + name)

    return Release(
        id=col("id"),
        name=col("name"),
        version=col("version"),
        mode=col("mode"),
        share=float(col("share")),
        salt=col("salt"),
        baseline=col("baseline"),
        started_at=col("started_at"),
        ended_at=col("ended_at"),
        outcome=col("outcome"),
        looks=int(col("looks") or 0),
    )


@dataclass(frozen=True)
class ServingState:
    """What should serve a model now, read in one statement: never half a stage change."""

    production: ModelVersion | None
    release: Release | None = None
    challenger: ModelVersion | None = None


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

        Promoting the live release's challenger ends that release as ``promoted``;
        promoting any other version ends it as ``superseded`` (its challenger goes back to
        approved: it was compared with a production version that no longer serves).
        Every change and its audit entries happen in one transaction.
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
            live = self._live_release(conn, name, lock=True)
            if live is not None:
                ends_as = "promoted" if live.version == version else "superseded"
                self._end(conn, live, ends_as, actor, f"{target.tag} promoted: {reason}")
            if previous is not None:
                self._set_stage(conn, name, previous.version, "retired")
            self._set_stage(conn, name, version, "production")
            from_version = previous.version if previous else None
            self._audit(conn, "promote", name, from_version, version, reason, actor)
        return self.get(name, version)

    def rollback(self, name: str, *, actor: str | None = None, reason: str) -> ModelVersion:
        """Put back the version that served before the current one; the current is retired.

        A live release (compared with the current version) ends as ``superseded``.
        """
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
            live = self._live_release(conn, name, lock=True)
            if live is not None:
                self._end(conn, live, "superseded", actor, f"production rolled back: {reason}")
            self._set_stage(conn, name, current.version, "retired")
            self._set_stage(conn, name, previous, "production")
            self._audit(conn, "rollback", name, current.version, previous, reason, actor)
        return self.get(name, previous)

    # -- releases beside production: canary and shadow ------------------------------------

    def start_release(
        self,
        name: str,
        version: str,
        *,
        mode: str,
        share: float,
        actor: str | None = None,
        reason: str,
    ) -> Release:
        """Release an approved version beside production as a canary or a shadow.

        A shadow can be turned into a canary of the same version (the shadow release
        ends as ``stopped``, the canary starts, one transaction). The version must be
        approved: the gates (or an audited bypass) decide that, not the registry.

        Raises:
            RegistryError: Unknown version, not approved, no production version, another
                release is live, or a share outside (0, 1].
        """
        actor = actor or getpass.getuser()
        if mode not in RELEASE_MODES:
            raise RegistryError(f"release mode must be one of {list(RELEASE_MODES)}, not {mode!r}")
        if not 0 < share <= 1:
            raise RegistryError(f"a release's share must be in (0, 1], got {share}")
        target = self.get(name, version)
        with self.engine.begin() as conn:
            production = conn.execute(
                VERSIONS.select()
                .where(VERSIONS.c.name == name, VERSIONS.c.stage == "production")
                .with_for_update()
            ).first()
            if production is None:
                raise RegistryError(
                    f"{name} has no production version: a {mode} runs beside one; "
                    f"promote {target.tag} instead"
                )
            live = self._live_release(conn, name, lock=True)
            upgrade = (
                live is not None
                and live.version == version
                and (live.mode, mode) == ("shadow", "canary")
            )
            if live is not None and not upgrade:
                raise RegistryError(
                    f"{name}:{live.version} is already live as a {live.mode} (since "
                    f"{live.started_at}); decide or stop it first "
                    f"(`reelops models canary decide {name}` or `... stop {name}`)"
                )
            if not upgrade and target.stage != "approved":
                raise RegistryError(
                    f"cannot release {target.tag} as a {mode}: it is {target.stage}, "
                    "expected approved (its gates passed)"
                )
            if upgrade:
                self._end(conn, live, "stopped", actor, f"turned into a canary: {reason}")
            started = _now()
            conn.execute(
                RELEASES.insert().values(
                    name=name,
                    version=version,
                    mode=mode,
                    share=float(share),
                    salt=f"{name}:{started}",  # each release of a model draws anew
                    baseline=production.version,
                    started_at=started,
                    looks=0,
                )
            )
            self._set_stage(conn, name, version, mode)
            self._audit(
                conn,
                f"{mode}_start",
                name,
                production.version,
                version,
                f"{mode} share {share:g}: {reason}",
                actor,
            )
        return self.live_release(name)

    def live_release(self, name: str) -> Release | None:
        """The canary or shadow of ``name`` that is live now, if any."""
        with self.engine.connect() as conn:
            return self._live_release(conn, name)

    def releases(self, name: str | None = None) -> list[Release]:
        """Every release (live and ended), oldest first."""
        query = RELEASES.select().order_by(RELEASES.c.id)
        if name:
            query = query.where(RELEASES.c.name == name)
        with self.engine.connect() as conn:
            return [_row_to_release(r) for r in conn.execute(query)]

    def end_release(
        self, name: str, outcome: str, *, actor: str | None = None, reason: str
    ) -> Release:
        """End the live release: ``rolled_back`` (a canary: rejected, its members go back
        to production) or ``stopped`` (back to approved; a shadow ends so). ``promoted``
        goes through :meth:`promote`.

        Raises:
            RegistryError: No live release, or an outcome that does not fit it.
        """
        actor = actor or getpass.getuser()
        if outcome not in ("rolled_back", "stopped"):
            raise RegistryError(
                f"end a release as rolled_back or stopped (promote it with promote()), "
                f"not {outcome!r}"
            )
        with self.engine.begin() as conn:
            live = self._live_release(conn, name, lock=True)
            if live is None:
                raise RegistryError(f"{name} has no live canary or shadow release")
            if outcome == "rolled_back" and live.mode != "canary":
                raise RegistryError(
                    f"{name}:{live.version} is a shadow: it served nobody, stop it instead"
                )
            self._end(conn, live, outcome, actor, reason)
        return self._ended(live.id)

    def record_look(self, name: str) -> Release:
        """Count one decision taken on the live release (the looks its test allows for)."""
        with self.engine.begin() as conn:
            live = self._live_release(conn, name, lock=True)
            if live is None:
                raise RegistryError(f"{name} has no live canary or shadow release")
            conn.execute(
                RELEASES.update().where(RELEASES.c.id == live.id).values(looks=live.looks + 1)
            )
        return self._ended(live.id)

    def serving_state(self, name: str) -> ServingState:
        """Production, the live release and its challenger, read in one SELECT.

        Every stage change of a release commits with its release row, so one statement
        never sees half of one: the services never serve a canary without its share, or a
        promoted canary beside itself.
        """
        live = sa.and_(
            RELEASES.c.name == VERSIONS.c.name,
            RELEASES.c.version == VERSIONS.c.version,
            RELEASES.c.ended_at.is_(None),
        )
        query = (
            sa.select(VERSIONS, *[c.label(f"r_{c.name}") for c in RELEASES.c])
            .select_from(VERSIONS.outerjoin(RELEASES, live))
            .where(
                VERSIONS.c.name == name,
                sa.or_(VERSIONS.c.stage == "production", RELEASES.c.id.is_not(None)),
            )
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        production = release = challenger = None
        for row in rows:
            version = _row_to_version(row)
            if version.stage == "production":
                production = version
            elif row.r_id is not None:
                challenger = version
                release = _row_to_release(row, prefix="r_")
        return ServingState(production, release, challenger)

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
    def _live_release(conn, name: str, *, lock: bool = False) -> Release | None:
        query = RELEASES.select().where(RELEASES.c.name == name, RELEASES.c.ended_at.is_(None))
        row = conn.execute(query.with_for_update() if lock else query).first()
        return _row_to_release(row) if row else None

    def _ended(self, release_id: int) -> Release:
        with self.engine.connect() as conn:
            row = conn.execute(RELEASES.select().where(RELEASES.c.id == release_id)).first()
        return _row_to_release(row)

    def _end(self, conn, live: Release, outcome: str, actor: str, reason: str) -> None:
        """End a live release: its row, the challenger's stage and the audit, in ``conn``.

        Promoted: the caller sets the stages (and audits the promotion). Rolled back: a
        canary the live outcomes judged worse is rejected (never promoted later). Stopped
        or superseded: back to approved, it may be released again.
        """
        conn.execute(
            RELEASES.update()
            .where(RELEASES.c.id == live.id)
            .values(ended_at=_now(), outcome=outcome)
        )
        if outcome == "promoted":
            return
        stage = "rejected" if outcome == "rolled_back" else "approved"
        self._set_stage(conn, live.name, live.version, stage)
        action = f"{live.mode}_rollback" if outcome == "rolled_back" else f"{live.mode}_stop"
        self._audit(conn, action, live.name, live.version, live.baseline, reason, actor)

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
