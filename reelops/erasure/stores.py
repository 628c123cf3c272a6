"""Every store that can hold a member's data, in the order erasure visits them.

A store answers three questions about one member: how many of their rows each of its
tables holds (``find``), what those rows are (``export``), and how to remove them
(``erase``, idempotent: a second call finds nothing to do). The scanner, the export and
the erasure all walk :func:`stores`, so a store added here is covered by all three.
"""

from __future__ import annotations

from reelops.config import Settings
from reelops.erasure.base import Store
from reelops.erasure.database_stores import AirflowStore, OnlineStore, VaultStore, WarehouseStore
from reelops.erasure.file_stores import (
    LakeStore,
    ModelStore,
    ReportStore,
    ServingLogStore,
    TrainingRunStore,
)

STORE_TYPES: tuple[type[Store], ...] = (
    LakeStore,
    ServingLogStore,
    WarehouseStore,
    OnlineStore,
    ModelStore,
    ReportStore,
    TrainingRunStore,
    AirflowStore,
    VaultStore,
)


def stores(settings: Settings, source: str) -> list[Store]:
    """Every store of ``source``, in erasure order (the vault last)."""
    return [kind(settings, source) for kind in STORE_TYPES]
