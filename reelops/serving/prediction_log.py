"""Prediction logs: every served request appended to the lake's ``serving_logs``.

Requests only put a row on an in-memory queue; a background thread writes the
queued rows every few seconds, and ``close()`` (the service's shutdown) writes what
is left, so nothing is lost on a graceful stop. Each flush adds one new file to the
day's folder (``day=YYYY-MM-DD/part-<ns>-<id>.parquet``, written beside and renamed):
append-only, so a flush costs the same at the end of a busy day as at its start, and
several service processes can write one day without a lock. :func:`read_logs` reads
them back. Rows carry the pseudonymous member key only, never a raw id or an API key.

Each row says which version answered and on which ``arm``: ``production``, ``canary`` (a
release serving its share of members) or ``shadow`` (a challenger scored beside the
answer and never shown; it shares the answered row's ``request_id``). Outcome readers
(what was served, what the member did next) keep ``arm != "shadow"``. Files written
before these two columns existed read back with them null (:func:`read_logs`).

A failed flush never stops logging: the batch is retried with backoff, then spilled to
a local folder (one parquet file per batch) that the next good flush moves into the
lake; only when the spill fails too are rows dropped, and then counted and logged.
``written``, ``spilled``, ``dropped`` and ``failed_flushes`` count what happened, and
``reelops_prediction_log_rows_total{outcome}`` exports the same counts.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from reelops.lake import partition_path, table_dir
from reelops.serving.metrics import count_log_rows

log = logging.getLogger(__name__)
TABLE = "serving_logs"
SCHEMA = pa.schema(
    [
        ("logged_at", pa.timestamp("us", tz="UTC")),
        ("endpoint", pa.string()),
        ("model_name", pa.string()),
        ("model_version", pa.string()),
        ("member_key", pa.string()),
        ("features", pa.string()),  # JSON
        ("output", pa.string()),  # JSON
        ("latency_ms", pa.float64()),
        ("fallback", pa.bool_()),
        ("arm", pa.string()),  # production | canary | shadow (null: written before arms)
        ("request_id", pa.string()),  # pairs a shadow row with the answered one
    ]
)
ARMS = ("production", "canary", "shadow")


def conform(table: pa.Table) -> pa.Table:
    """A log file's rows in :data:`SCHEMA`: columns added since it was written are null."""
    columns = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(table.num_rows, f.type)
        for f in SCHEMA
    ]
    return pa.Table.from_arrays(columns, schema=SCHEMA)


def append_rows(lake_dir: Path, rows: list[dict[str, Any]]) -> int:
    """Write rows as one new file per day they fall on; nothing already written changes."""
    by_day: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        by_day.setdefault(row["logged_at"].date(), []).append(row)
    for day, day_rows in sorted(by_day.items()):
        folder = partition_path(lake_dir, TABLE, day).parent
        folder.mkdir(parents=True, exist_ok=True)
        name = f"part-{time.time_ns()}-{uuid.uuid4().hex[:8]}.parquet"
        tmp = folder / f".{name}.tmp"
        pq.write_table(pa.Table.from_pylist(day_rows, schema=SCHEMA), tmp, compression="zstd")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, folder / name)
    return len(rows)


def log_files(lake_dir: Path) -> list[Path]:
    """Every prediction-log file, oldest first (by day, then by write time)."""
    return sorted(table_dir(lake_dir, TABLE).glob("day=*/part-*.parquet"))


def read_logs(lake_dir: Path) -> pa.Table:
    """Every logged row of a source's lake, oldest file first."""
    files = log_files(lake_dir)
    if not files:
        return SCHEMA.empty_table()
    return pa.concat_tables([conform(pq.read_table(f)) for f in files])


class PredictionLog:
    """A buffered, thread-safe writer of prediction-log rows.

    Args:
        lake_dir: The source's lake folder.
        flush_seconds: How often the background thread writes queued rows.
        spill_dir: Where batches go when the lake refuses them (default beside the lake).
        attempts: Writes tried per batch before it is spilled.
        backoff_seconds: Wait after the first failed write, doubled after each next one.
        writer: Writes rows to the lake (``append_rows``; tests pass a failing one).
        clock: The time a row is logged at (the wall clock; the world's traffic passes
            its simulated one, so a simulated day's requests land on that day).
    """

    def __init__(
        self,
        lake_dir: Path,
        *,
        flush_seconds: float = 2.0,
        spill_dir: Path | None = None,
        attempts: int = 3,
        backoff_seconds: float = 0.5,
        writer=append_rows,
        clock=None,
    ):
        self.lake_dir = Path(lake_dir)
        self.flush_seconds = flush_seconds
        self.spill_dir = Path(spill_dir) if spill_dir else self.lake_dir.parent / f".spill-{TABLE}"
        self.attempts = max(1, attempts)
        self.backoff_seconds = backoff_seconds
        self._write = writer
        self._clock = clock or (lambda: datetime.now(UTC))
        self._queue: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._flush_lock = threading.Lock()
        self.written = self.spilled = self.dropped = self.failed_flushes = 0
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def log(
        self,
        *,
        endpoint: str,
        model_name: str,
        model_version: str,
        member_key: str | None,
        features: dict[str, Any],
        output: dict[str, Any],
        latency_ms: float,
        fallback: bool = False,
        arm: str = "production",
        request_id: str | None = None,
    ) -> None:
        """Queue one row; returns at once (no I/O on the request path)."""
        self._queue.put(
            {
                "logged_at": self._clock(),
                "endpoint": endpoint,
                "model_name": model_name,
                "model_version": model_version,
                "member_key": member_key,
                "features": json.dumps(features, default=str, separators=(",", ":")),
                "output": json.dumps(output, default=str, separators=(",", ":")),
                "latency_ms": float(latency_ms),
                "fallback": bool(fallback),
                "arm": arm,
                "request_id": request_id,
            }
        )

    def flush(self) -> int:
        """Write every queued row now (retried, else spilled); returns how many reached the lake."""
        with self._flush_lock:
            rows = []
            while True:
                try:
                    rows.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if not rows:
                return self._unspill()
            if not self._write_with_retries(rows):
                self._spill(rows)
                return 0
            self.written += len(rows)
            count_log_rows("written", len(rows))
            return len(rows) + self._unspill()

    def _write_with_retries(self, rows: list[dict[str, Any]]) -> bool:
        wait = self.backoff_seconds
        for attempt in range(1, self.attempts + 1):
            try:
                self._write(self.lake_dir, rows)
                return True
            except Exception as error:  # the lake is down or full: never lose the batch
                self.failed_flushes += 1
                log.warning(
                    "prediction log: writing %d rows failed (%s), attempt %d of %d",
                    len(rows),
                    type(error).__name__,
                    attempt,
                    self.attempts,
                )
                if attempt < self.attempts:
                    time.sleep(wait)
                    wait *= 2
        return False

    def _spill(self, rows: list[dict[str, Any]]) -> None:
        try:
            self.spill_dir.mkdir(parents=True, exist_ok=True)
            name = f"spill-{time.time_ns()}-{uuid.uuid4().hex[:8]}.parquet"
            tmp = self.spill_dir / f".{name}.tmp"
            pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), tmp)
            os.replace(tmp, self.spill_dir / name)
        except Exception as error:
            self.dropped += len(rows)
            count_log_rows("dropped", len(rows))
            log.error(
                "prediction log: DROPPED %d rows: the lake and the spill folder %s both "
                "failed (%s)",
                len(rows),
                self.spill_dir,
                type(error).__name__,
            )
            return
        self.spilled += len(rows)
        count_log_rows("spilled", len(rows))
        log.warning("prediction log: spilled %d rows to %s", len(rows), self.spill_dir)

    def _unspill(self) -> int:
        """Move spilled batches into the lake, oldest first; stops at the first failure."""
        moved = 0
        for path in sorted(self.spill_dir.glob("spill-*.parquet")):
            try:
                rows = conform(pq.read_table(path)).to_pylist()
                self._write(self.lake_dir, rows)
            except Exception as error:
                log.warning(
                    "prediction log: spilled rows stay in %s (%s)", path, type(error).__name__
                )
                break
            path.unlink()
            self.written += len(rows)
            count_log_rows("written", len(rows))
            moved += len(rows)
        return moved

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            try:
                self.flush()
            except Exception:  # keep the thread alive whatever happens; say why
                log.exception("prediction log: flush failed; will try again")

    def close(self) -> None:
        """Stop the background thread and write what is left."""
        self._stop.set()
        self._thread.join(timeout=30)
        self.flush()


# -- artwork served by /recommend ---------------------------------------------------------

SERVED_ARTWORK_COLUMNS = [
    "logged_at",
    "member_key",
    "model_version",
    "artwork_version",
    "title_id",
    "position",
    "variant_id",
    "propensity",
]


def served_artwork(lake_dir: Path) -> pd.DataFrame:
    """Every artwork variant `/recommend` served, one row per title of each answer.

    The artwork policy's choices travel in each answer's logged ``output`` (its
    ``artwork``: the policy's version and, per title, the variant and the exact
    probability it was drawn with); this lays them out for the next training round to
    join with plays and re-weight by the propensity. ``model_version`` is the ranker's.
    """
    logs = read_logs(lake_dir).to_pandas()
    rows = []
    for row in logs[logs["endpoint"] == "/recommend"].itertuples(index=False):
        artwork = json.loads(row.output).get("artwork") or {}
        for served in artwork.get("served", []):
            rows.append(
                {
                    "logged_at": row.logged_at,
                    "member_key": row.member_key,
                    "model_version": row.model_version,
                    "artwork_version": artwork.get("version"),
                    **served,
                }
            )
    return pd.DataFrame(rows, columns=SERVED_ARTWORK_COLUMNS)
