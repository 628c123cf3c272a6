"""The stores that are folders of files: the lake, serving logs, models, reports, runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from reelops import lake
from reelops.erasure import matching
from reelops.erasure.base import (
    DELIVERY,
    MONITORING,
    RECOMMENDATION,
    SERVING_LOGS,
    FileStore,
    Found,
    Store,
    records,
)
from reelops.erasure.identity import Member
from reelops.schema import RAW_TABLES


class LakeStore(Store):
    """The lake's raw tables: one checked parquet file per day, rewritten atomically."""

    name = "lake"
    purposes = (RECOMMENDATION, DELIVERY, MONITORING)
    description = "raw tables landed from the source, one parquet file per day"

    def _partitions(self) -> Iterator[tuple[str, Any, Path]]:
        lake_dir = self.settings.lake_dir(self.source)
        for table in RAW_TABLES:
            for day, path in lake.partitions(lake_dir, table):
                yield table, day, path

    def _matches(self, member: Member) -> Iterator[tuple[str, Any, Path, pa.Table]]:
        for table, day, path in self._partitions():
            data = pq.read_table(path)
            rows = matching.matching_rows(data, member)
            if rows.num_rows:
                yield table, day, path, data

    def find(self, member: Member) -> list[Found]:
        counts: dict[str, int] = {}
        for table, _, _, data in self._matches(member):
            counts[table] = counts.get(table, 0) + matching.matching_rows(data, member).num_rows
        return [Found(self.name, t, n) for t, n in counts.items()]

    def export(self, member: Member) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for table, _, _, data in self._matches(member):
            out.setdefault(table, []).extend(records(matching.matching_rows(data, member)))
        return out

    def sessions(self, member: Member) -> set[str]:
        """Session ids of the member's playback sessions (their chunks carry only these)."""
        found: set[str] = set()
        for table, _, _, data in self._matches(member):
            if table == "playback_sessions":
                rows = matching.matching_rows(data, member)
                found.update(rows.column("session_id").to_pylist())
        return found

    def erase(self, member: Member) -> int:
        lake_dir = self.settings.lake_dir(self.source)
        removed = 0
        for table, day, _, data in list(self._matches(member)):
            kept, n = matching.without_member(data, member)
            removed += n
            if kept.num_rows or RAW_TABLES[table].kind == "snapshot":
                lake.write_partition(lake_dir, table, day, kept)
            else:  # as landing does: a day with no events has no partition
                lake.delete_partition(lake_dir, table, day)
        return removed


class ServingLogStore(FileStore):
    """The serving endpoints' prediction logs (append-only parts in the lake)."""

    name = SERVING_LOGS
    purposes = (MONITORING,)
    description = "every answered request: member key, features, answer, model version"
    suffixes = (".parquet",)

    def roots(self) -> list[Path]:
        lake_dir = self.settings.lake_dir(self.source)
        # Batches the lake refused wait in a spill folder: the writer's default beside the
        # lakes, or the one the BentoML services give it (serving/service.py).
        return [
            lake.table_dir(lake_dir, SERVING_LOGS),
            lake_dir.parent / f".spill-{SERVING_LOGS}",
            self.settings.home / "spill" / SERVING_LOGS,
        ]


class ModelStore(FileStore):
    """Model files in the registry's BentoML store (reference samples, candidate indexes).

    The member's rows are unlinked in place rather than dropped: a candidate index maps
    members to matrix rows by position, so a dropped row would shift every later member.
    """

    name = "model_store"
    purposes = (RECOMMENDATION, DELIVERY, MONITORING)
    description = "files saved with model versions: reference samples, candidate indexes"
    keep_rows = True

    def roots(self) -> list[Path]:
        return [self.settings.bentoml_home / "models"]


class ReportStore(FileStore):
    """Release reports (gates, Evidently drift, bias segments)."""

    name = "reports"
    purposes = (MONITORING,)
    description = "release reports: gate tables, drift and bias evidence"

    def roots(self) -> list[Path]:
        return [self.settings.reports_dir]


class TrainingRunStore(FileStore):
    """Training runs' work folders (training and scoring sets, the model before saving).

    Unlinked in place like the model store: a run's model folder is what gets saved.
    """

    name = "training_runs"
    purposes = (RECOMMENDATION, DELIVERY)
    description = "training runs' work folders: training and evaluation sets"
    keep_rows = True

    def roots(self) -> list[Path]:
        return [self.settings.home / "ranker", self.settings.home / "work"]
