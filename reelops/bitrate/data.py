"""The bitrate predictor's data: training rows from the delivery mart and Feast, hold-out traces.

Training rows are ``fct_delivery_samples`` (one row per chunk request with the
session's own recent chunks) joined point-in-time with the ``bitrate_v1`` feature
service (the network's trailing throughput as of the request, never later).

The hold-out depends on the source. For imported traces (the ``traces`` source)
the trace files are split by file: training uses only sessions over train files,
validation and test traces are the other files. A source may instead publish its
own hold-out (:class:`~reelops.sources.PublishedHoldout`): the synthetic world
publishes fresh draws of its network model per country x connection, never seen in
training (:mod:`reelops.world.holdout`); they are read here as data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from reelops.abr.evaluation import base_trace_id, split_traces
from reelops.abr.traces import Trace, traces_from_frame, traces_to_frame
from reelops.bitrate.features import CONTEXT_COLUMNS, UNKNOWN_CONTEXT, SessionContext
from reelops.bitrate.trace_source import DEVICE as TRACE_DEVICE
from reelops.bitrate.trace_source import SOURCE as TRACE_SOURCE
from reelops.bitrate.trace_source import load_imported_traces
from reelops.config import Settings
from reelops.features.training import build_training_set
from reelops.sources import HOLDOUT_SEGMENT_COLUMNS, PublishedHoldout, read_holdout
from reelops.warehouse import read_mart

SERVICE = "bitrate_v1"
VIEW = "network_throughput"


class BitrateDataError(ValueError):
    """The source has no delivery data to train or evaluate on."""


def delivery_rows(settings: Settings, source: str, service: str = SERVICE) -> pd.DataFrame:
    """Per-chunk training rows of ``source``: the delivery mart joined point-in-time with Feast.

    Args:
        settings: Platform settings.
        source: The source whose warehouse and feature store to read.
        service: The feature service (``bitrate_v1``).

    Returns:
        ``fct_delivery_samples`` rows plus the network context columns
        (:data:`~reelops.bitrate.features.CONTEXT_COLUMNS`), as of each chunk request;
        NaN where the session's country or connection is unknown (see below).

    Raises:
        BitrateDataError: The mart is missing or empty.
    """
    try:
        rows = read_mart(settings, source, "fct_delivery_samples")
    except FileNotFoundError as exc:
        raise BitrateDataError(
            f"no delivery mart for source {source!r}: run `reelops pipeline run` first ({exc})"
        ) from exc
    if rows.empty:
        raise BitrateDataError(
            f"fct_delivery_samples of source {source!r} is empty: the source has no playback "
            "sessions in the landed interval"
        )
    rows = rows.sort_values(["session_id", "chunk_index"], kind="stable").reset_index(drop=True)
    rows["ts"] = pd.to_datetime(rows["ts"])
    joined = build_training_set(settings, rows, service, timestamp_column="ts", source=source)
    renamed = {f"{VIEW}__{c}": c for c in CONTEXT_COLUMNS}
    missing = [c for c in renamed if c not in joined.columns]
    if missing:
        raise BitrateDataError(f"feature service {service!r} lacks {missing}; see feature_repo/")
    extra = [c for c in joined.columns if c.startswith(f"{VIEW}__") and c not in renamed]
    joined = joined.drop(columns=extra).rename(columns=renamed)
    # A context pooled over unknown countries or connections mixes every network (on an
    # import, every session's, hold-out files included): it says nothing about this
    # session's network and would leak, so it counts as missing.
    pooled = joined["network_key"].astype(str).str.contains("unknown", regex=False)
    joined.loc[pooled, list(CONTEXT_COLUMNS)] = np.nan
    return joined


def latest_network_context(settings: Settings, source: str) -> dict[str, SessionContext]:
    """The newest network throughput per ``network_key``: what Feast serves at the data's end."""
    daily = read_mart(settings, source, "fct_network_daily")
    if daily.empty:
        return {}
    latest = daily.sort_values("event_timestamp").groupby("network_key").tail(1)
    return {
        str(row.network_key): SessionContext(
            None,
            row.throughput_p10_7d,
            row.throughput_p50_7d,
            row.throughput_p90_7d,
            str(row.network_key),
        )
        for row in latest.itertuples()
    }


@dataclass
class Holdout:
    """Validation and test traces with each trace's segment and session context.

    Attributes:
        traces: Every hold-out trace by id.
        segments: One row per trace: ``trace_id``, ``split`` (validation or test),
            ``country``, ``connection``, ``device`` and the context columns.
        train_trace_ids: Trace files whose sessions may be trained on, or None for all.
        kind: ``files`` (split by file) or ``network_model`` (fresh draws).
    """

    traces: dict[str, Trace]
    segments: pd.DataFrame
    train_trace_ids: set[str] | None = None
    kind: str = "files"
    meta: dict = field(default_factory=dict)

    def split(self, name: str) -> list[Trace]:
        ids = self.segments.loc[self.segments["split"] == name, "trace_id"]
        return [self.traces[i] for i in ids]

    def context_of(self, trace_id: str) -> SessionContext:
        """The session context of a (possibly rotated) hold-out trace id."""
        rows = self.segments[self.segments["trace_id"] == base_trace_id(trace_id)]
        if rows.empty:
            return UNKNOWN_CONTEXT
        row = rows.iloc[0]
        device = row["device"] if isinstance(row["device"], str) else None
        return SessionContext(
            device,
            *(float(row[c]) for c in CONTEXT_COLUMNS),
            network_key=f"{row['country']}:{row['connection']}",
        )

    def save(self, folder: Path) -> Path:
        """Write the traces, segments and metadata into ``folder`` (a source's layout)."""
        meta = {
            "kind": self.kind,
            "train_trace_ids": sorted(self.train_trace_ids) if self.train_trace_ids else None,
            **self.meta,
        }
        return PublishedHoldout(traces_to_frame(self.traces.values()), self.segments, meta).write(
            folder
        )

    @classmethod
    def load(cls, folder: Path) -> Holdout:
        """Read a hold-out written by :meth:`save`.

        Raises:
            FileNotFoundError: A file is missing.
        """
        stored = PublishedHoldout.read(folder)
        meta = dict(stored.meta)
        ids = meta.pop("train_trace_ids")
        return cls(
            traces_from_frame(stored.traces),
            stored.segments,
            set(ids) if ids else None,
            meta.pop("kind"),
            meta,
        )


def _context_columns(context: SessionContext) -> dict[str, float]:
    return dict(
        zip(
            CONTEXT_COLUMNS,
            (context.throughput_p10_mbps, context.throughput_p50_mbps, context.throughput_p90_mbps),
            strict=True,
        )
    )


def file_holdout(
    traces: list[Trace],
    seed: int,
    split: tuple[float, float, float],
    context: SessionContext = UNKNOWN_CONTEXT,
) -> Holdout:
    """Split trace files into train, validation and test; the hold-out keeps the latter two.

    Raises:
        BitrateDataError: A part of the split is empty.
    """
    parts = split_traces(traces, seed=seed, fractions=split)
    if empty := [name for name, part in parts.items() if not part]:
        raise BitrateDataError(
            f"the by-file split of {len(traces)} trace files left {empty} empty; import more files"
        )
    rows = [
        {
            "trace_id": t.trace_id,
            "split": name,
            "country": "unknown",
            "connection": "unknown",
            "device": context.device,
            **_context_columns(context),
        }
        for name in ("validation", "test")
        for t in parts[name]
    ]
    return Holdout(
        {t.trace_id: t for name in ("validation", "test") for t in parts[name]},
        pd.DataFrame(rows),
        {t.trace_id for t in parts["train"]},
        "files",
        {"split_seed": seed, "split": list(split), "sizes": {k: len(v) for k, v in parts.items()}},
    )


def published_holdout(
    published: PublishedHoldout,
    contexts: dict[str, SessionContext],
    per_segment: int,
    segments: int = 0,
    seed: int = 0,
) -> Holdout:
    """The hold-out a source published, cut to size, with each trace's network context.

    Args:
        published: The source's traces and their segments, in evaluation order.
        contexts: Network context per ``network_key`` (as Feast serves it).
        per_segment: Use the first this many traces per segment and split.
        segments: Use only this many country x connection segments (a pick seeded with
            ``seed``); 0 for all.
        seed: Seed of the pick of segments.

    Raises:
        BitrateDataError: ``per_segment`` exceeds what the source published.
    """
    table = published.segments
    keys = ["split", "country", "connection"]
    available = int(table.groupby(keys, sort=False).size().min()) if len(table) else 0
    if per_segment > available:
        raise BitrateDataError(
            f"holdout_traces_per_segment={per_segment}, but the source publishes {available} "
            "trace(s) per segment and split; lower it in the spec or regenerate the source"
        )
    # The segments in their published order; the pick draws from it as the world once did.
    segment = table["country"] + ":" + table["connection"]
    order = list(dict.fromkeys(segment))
    if segments:
        keep = np.random.default_rng(seed).permutation(len(order))[:segments]
        order = [order[i] for i in sorted(keep)]
    first = table.groupby(keys, sort=False).cumcount() < per_segment
    chosen = table[segment.isin(order) & first]
    rows = [
        {
            **{c: row[c] for c in HOLDOUT_SEGMENT_COLUMNS},
            **_context_columns(contexts.get(segment[i], UNKNOWN_CONTEXT)),
        }
        for i, row in zip(chosen.index, chosen.to_dict("records"), strict=True)
    ]
    every = traces_from_frame(published.traces)
    traces = {row["trace_id"]: every[row["trace_id"]] for row in rows}
    meta = {"seed": published.meta["seed"]}
    return Holdout(traces, pd.DataFrame(rows), None, "network_model", meta)


def source_holdout(
    settings: Settings,
    source: str,
    seed: int,
    split: tuple[float, float, float],
    per_segment: int,
    segments: int = 0,
) -> Holdout:
    """The hold-out of ``source``: its trace files split by file, or the one it publishes.

    Raises:
        BitrateDataError: The source neither holds imported traces nor publishes a hold-out.
    """
    if source == TRACE_SOURCE:
        # Imported sessions have no known network: no context, as in training.
        context = SessionContext(TRACE_DEVICE, network_key="unknown:unknown")
        return file_holdout(load_imported_traces(settings), seed, split, context)
    published = read_holdout(settings, source)
    if published is None:
        raise BitrateDataError(
            f"source {source!r} publishes no hold-out traces to evaluate on; a world generated "
            "before they were published needs `reelops world generate` again"
        )
    contexts = latest_network_context(settings, source)
    return published_holdout(published, contexts, per_segment, segments, seed)
