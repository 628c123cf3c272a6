"""ABR simulation: the reference video, throughput traces, the chunk simulator, QoE, policies."""

from reelops.abr.simulator import (
    BufferBased,
    PlayerState,
    Policy,
    RateBased,
    SessionResult,
    simulate_session,
)
from reelops.abr.traces import (
    Trace,
    TraceFormatError,
    load_trace_dir,
    parse_trace_file,
    synthetic_trace,
    synthetic_traces,
)
from reelops.abr.video import Video, reference_video

__all__ = [
    "BufferBased",
    "PlayerState",
    "Policy",
    "RateBased",
    "SessionResult",
    "Trace",
    "TraceFormatError",
    "Video",
    "load_trace_dir",
    "parse_trace_file",
    "reference_video",
    "simulate_session",
    "synthetic_trace",
    "synthetic_traces",
]
