"""Typed settings: one object, read from the environment once, no side effects on import."""

from __future__ import annotations

import contextlib
import getpass
import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

Profile = Literal["local", "production"]
Executor = Literal["LocalExecutor", "CeleryExecutor"]

LOOPBACK = "127.0.0.1"


class Settings(BaseSettings):
    """Everything ReelOps reads from the environment (prefix ``REELOPS_``).

    ``profile`` picks every backend at once; ``home`` holds everything written at run time.
    """

    model_config = SettingsConfigDict(env_prefix="REELOPS_", frozen=True, extra="ignore")

    profile: Profile = "local"
    home: Path = Field(default=PROJECT_ROOT / ".reelops")
    pseudonym_key: SecretStr | None = None

    # Production backends; the defaults match a server on this machine with trust auth.
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    pg_password: SecretStr = SecretStr("")
    pg_database: str = "test"
    redis_url: str = "redis://127.0.0.1:6379/0"

    # Airflow's executor. CeleryExecutor (production profile only) sends tasks through the
    # broker to the workers serving the queue; its results go to the metadata database.
    airflow_executor: Executor = "LocalExecutor"
    celery_broker_url: str = "redis://127.0.0.1:6379/1"
    celery_queue: str = Field(default="reelops", pattern=r"^[A-Za-z0-9_.-]+$")

    # Serving: comma-separated API keys (production must set them; local generates one).
    api_keys: SecretStr | None = None
    max_body_bytes: int = Field(default=65_536, gt=0)
    # Worker processes per BentoML service (each loads the model and its own store client).
    serving_workers: int = Field(default=1, ge=1, le=16)
    # Player ladders the bitrate service keeps a planner for (least recently used go).
    ladder_cache_size: int = Field(default=64, ge=1, le=100_000)
    # Rendered artwork PNGs the recommender keeps (least recently used go; ~30 KB each).
    artwork_cache_size: int = Field(default=256, ge=1, le=100_000)

    @model_validator(mode="after")
    def _celery_needs_production(self) -> Settings:
        if self.airflow_executor == "CeleryExecutor" and self.profile != "production":
            raise ValueError(
                "REELOPS_AIRFLOW_EXECUTOR=CeleryExecutor needs REELOPS_PROFILE=production: "
                "the workers and Celery's results share the PostgreSQL metadata database"
            )
        return self

    @property
    def project_root(self) -> Path:
        return PROJECT_ROOT

    @property
    def sources_dir(self) -> Path:
        """Upstream data the platform ingests from (the synthetic world, imports)."""
        return self.home / "sources"

    @property
    def private_dir(self) -> Path:
        """The one restricted place: pseudonym key and the raw id -> key mapping."""
        return self.home / "private"

    @property
    def lake_root(self) -> Path:
        return self.home / "lake"

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def bentoml_home(self) -> Path:
        """BentoML's home, the registry's model store included: under ``home``, never ``~``."""
        return self.home / "bentoml"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def dbt_project_dir(self) -> Path:
        return PROJECT_ROOT / "dbt"

    @property
    def dags_dir(self) -> Path:
        return PROJECT_ROOT / "dags"

    @property
    def dbt_target(self) -> str:
        return "duckdb" if self.profile == "local" else "postgres"

    def lake_dir(self, source: str) -> Path:
        """Each source gets its own lake so imported and synthetic data never mix."""
        return self.lake_root / source

    def marts_dir(self, source: str) -> Path:
        return self.warehouse_dir / source / "marts"

    def duckdb_path(self, source: str) -> Path:
        return self.warehouse_dir / source / "warehouse.duckdb"

    def pg_schema(self, source: str) -> str:
        return f"reelops_{source}"

    def pg_dsn(self) -> str:
        password = self.pg_password.get_secret_value()
        auth = f"{self.pg_user}:{password}" if password else self.pg_user
        return f"postgresql://{auth}@{self.pg_host}:{self.pg_port}/{self.pg_database}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings for this process, read once."""
    return Settings()


def airflow_passwords_file(settings: Settings) -> Path:
    """The simple auth manager's generated passwords (production profile; owner-only)."""
    return settings.airflow_home / "private" / "passwords.json"


AIRFLOW_SQLITE_TIMEOUT_S = 60
"""Seconds an Airflow process waits for another's write lock on the local metadata database."""


def airflow_user() -> str:
    """The Airflow user this machine's person logs in as: their OS user name."""
    return getpass.getuser()


def airflow_environ(settings: Settings) -> dict[str, str]:
    """Environment that points Airflow at the project's home, DAGs and metadata database.

    The local profile has no login (every user is an admin, on 127.0.0.1 only); the
    production profile has one named admin, the OS user, whose generated password is
    in :func:`airflow_passwords_file`, so approvals are audited to a person.
    """
    home = settings.airflow_home
    production = settings.profile == "production"
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_dir),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": settings.airflow_executor,
        # LocalExecutor starts this many workers; Airflow's 32 swamps a small machine.
        "AIRFLOW__CORE__PARALLELISM": str(max(2, os.cpu_count() or 2)),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": str(not production),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        # The UI and API listen on this machine only (Airflow's default is every interface).
        "AIRFLOW__API__HOST": LOOPBACK,
        "REELOPS_HOME": str(settings.home),
        "REELOPS_PROFILE": settings.profile,
    }
    if production:
        env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = f"{airflow_user()}:admin"
        env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] = str(
            airflow_passwords_file(settings)
        )
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = settings.pg_dsn().replace(
            "postgresql://", "postgresql+psycopg2://"
        )
    else:
        # The scheduler, dag-processor, API server and CLI all write this one file: wait up
        # to a minute for another writer's lock, not sqlite3's 5 s (on a busy machine
        # `airflow backfill create` beside a running scheduler died "database is locked").
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = (
            f"sqlite:///{home / 'airflow.db'}?timeout={AIRFLOW_SQLITE_TIMEOUT_S}"
        )
    # Every task goes to this queue, on either executor (the LocalExecutor ignores it): the
    # queue is stored with the DAGs, so a home that switches to Celery finds its tasks on
    # the queue its workers serve (a second cluster on the same broker needs its own).
    env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"] = settings.celery_queue
    if settings.airflow_executor == "CeleryExecutor":
        env["AIRFLOW__CELERY__BROKER_URL"] = settings.celery_broker_url
        env["AIRFLOW__CELERY__RESULT_BACKEND"] = "db+" + env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        # One task at a time per worker: capacity is the number of workers.
        env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] = "1"
        # The message of a task a dead worker held is delivered again after this long (the
        # provider's default, set to say so): Airflow retries such a task long before, once
        # its heartbeat stops ([scheduler] task_instance_heartbeat_timeout).
        env["AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT"] = "86400"
    return env


def apply_airflow_environ(settings: Settings) -> None:
    """Set Airflow's environment in this process; call before the first ``import airflow``."""
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    os.environ.update(airflow_environ(settings))


def apply_bentoml_environ(settings: Settings) -> None:
    """Point BentoML at :attr:`Settings.bentoml_home`; call before the first ``import bentoml``.

    BentoML creates its home when imported, so this must run first; a value already in
    the environment (a service started by ``reelops serve``) is kept.
    """
    os.environ.setdefault("BENTOML_HOME", str(settings.bentoml_home))


@contextlib.contextmanager
def temporary_environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for a block (tools like dbt and Feast read them), then restore."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
