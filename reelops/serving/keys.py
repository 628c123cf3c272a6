"""API keys for the services: which keys are valid, checked in constant time.

Keys come from ``REELOPS_API_KEYS`` (comma-separated). The local profile, when none
are set, generates one into an owner-only file under ``REELOPS_HOME/private`` so the
demo can print it; production refuses to start without configured keys. Only
SHA-256 digests are kept in memory, and a key never appears in a log line.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from reelops.config import Settings

KEY_FILE = "api_keys"
HEADER = "x-api-key"
MIN_KEY_CHARS = 16


class ApiKeyError(RuntimeError):
    """The service has no usable API keys configured."""


def local_key(settings: Settings) -> str:
    """The local profile's generated key (created 0600 on first use)."""
    folder = settings.private_dir
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    path = folder / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().split()[0]
    with os.fdopen(fd, "w") as fh:
        fh.write(f"reelops-{secrets.token_urlsafe(24)}\n")
    return path.read_text().split()[0]


def configured_keys(settings: Settings) -> list[str]:
    """The valid keys: ``REELOPS_API_KEYS``, else (local profile only) the generated key.

    Raises:
        ApiKeyError: Production without ``REELOPS_API_KEYS``, or a key shorter than
            16 characters.
    """
    if settings.api_keys is not None:
        keys = [k.strip() for k in settings.api_keys.get_secret_value().split(",") if k.strip()]
        if not keys:
            raise ApiKeyError("REELOPS_API_KEYS is set but holds no key")
        if short := [i for i, k in enumerate(keys, 1) if len(k) < MIN_KEY_CHARS]:
            raise ApiKeyError(
                f"REELOPS_API_KEYS: key number(s) {short} are shorter than {MIN_KEY_CHARS} "
                "characters"
            )
        return keys
    if settings.profile == "production":
        raise ApiKeyError("the production profile needs REELOPS_API_KEYS (comma-separated)")
    return [local_key(settings)]


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class KeyRing:
    """Checks a presented key against the configured ones."""

    def __init__(self, keys: list[str]):
        if not keys:
            raise ApiKeyError("no API keys configured")
        self._digests = [_digest(k) for k in keys]

    def check(self, presented: str | None) -> int:
        """HTTP status for a presented key: 200 valid, 401 missing, 403 unknown."""
        if not presented:
            return 401
        digest = _digest(presented)
        # Compare against every key so the time taken does not say which one matched.
        valid = False
        for known in self._digests:
            valid |= hmac.compare_digest(digest, known)
        return 200 if valid else 403
