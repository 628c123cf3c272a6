"""Tests for the hold-out traces the world publishes beside its tables."""

import hashlib

import pandas as pd

from reelops.abr.traces import traces_from_frame
from reelops.sources import HOLDOUT_SEGMENT_COLUMNS, read_holdout
from reelops.world.generator import WorldConfig
from reelops.world.holdout import draw_holdout
from reelops.world.synthetic_source import generate_source

# Of the hold-out the bitrate model's figures were measured on, as drawn inside
# bitrate/ before the world published it (split_seed 0, 2 traces per segment).
PUBLISHED_FINGERPRINT = "f171526ef681f34cfed949ff8bd585684eac2939d29d21f0b411bddcc22a2c05"


def fingerprint(traces: pd.DataFrame, segments: pd.DataFrame) -> str:
    digest = hashlib.sha256()
    for trace_id, trace in traces_from_frame(traces).items():
        digest.update(trace_id.encode())
        digest.update(trace.time_s.tobytes())
        digest.update(trace.mbps.tobytes())
    for row in segments[list(HOLDOUT_SEGMENT_COLUMNS)].itertuples(index=False):
        digest.update("|".join(row).encode())
    return digest.hexdigest()


def test_holdout_is_the_draws_the_bitrate_figures_were_measured_on():
    published = draw_holdout()

    assert fingerprint(published.traces, published.segments) == PUBLISHED_FINGERPRINT
    segments = published.segments
    assert len(segments) == 2 * 32 * 2 and segments["trace_id"].is_unique
    per_segment = segments.groupby(["split", "country", "connection"]).size()
    assert len(per_segment) == 64 and per_segment.eq(2).all()
    assert list(segments["split"].drop_duplicates()) == ["validation", "test"]
    assert published.meta == {
        "kind": "network_model",
        "seed": 0,
        "traces_per_segment": 2,
        "trace_s": 600.0,
    }


def test_generated_world_publishes_its_holdout_as_files(settings):
    generate_source(settings, WorldConfig.tiny(bandwidth_shift=(("IN", 0.2),)))

    folder = settings.sources_dir / "world" / "holdout"
    assert sorted(p.name for p in folder.iterdir()) == [
        "holdout.json",
        "segments.parquet",
        "traces.parquet",
    ]
    stored = read_holdout(settings, "world")
    # A drift injection shifts what members experience, never the yardstick.
    assert fingerprint(stored.traces, stored.segments) == PUBLISHED_FINGERPRINT
    traces = traces_from_frame(stored.traces)
    assert list(traces) == list(stored.segments["trace_id"])
    assert all(t.duration_s == 600.0 for t in traces.values())
