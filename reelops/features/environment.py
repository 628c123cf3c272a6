"""Where a source's Feast project lives, and the variables its ``feature_store.yaml`` reads.

Each source is its own Feast project (``reelops_<source>``). The YAML files under
``feature_repo/<profile>/`` and the definition modules read their locations from the
variables :func:`feast_environ` returns, so Feast's own CLI works with the same values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from reelops.config import PROJECT_ROOT, Settings
from reelops.features.transforms import GENRE_FLAG_COLUMNS

REPO_DIR = PROJECT_ROOT / "feature_repo"
REGISTRY_PG_SCHEMA = "reelops_feast"
CATALOGUE_VALID_FROM = "1970-01-01 00:00:00"


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
REDIS_SOCKET_TIMEOUT_S = 0.5


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
    # fallback's budget), not after the operating system's connect timeout of minutes,
    # and a reply that stalls fails as fast. Feast JSON-decodes each value, so retry=null
    # reaches redis-py as retry=None: no hidden retries (its default of three with
    # exponential backoff made one GET on a closed port take 7.9 s).
    out.append(f"socket_connect_timeout={REDIS_CONNECT_TIMEOUT_S}")
    out.append(f"socket_timeout={REDIS_SOCKET_TIMEOUT_S}")
    out.append("retry=null")
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
