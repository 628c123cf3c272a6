"""Player states built by hand, shared by the ABR policy and predictor tests."""

from reelops.abr.simulator import PlayerState
from reelops.abr.video import Video


def state(
    video: Video, chunk: int, buffer_s: float, throughputs: list[float], levels=None
) -> PlayerState:
    """The state before chunk ``chunk`` after the given throughputs (level 1 unless given)."""
    levels = levels if levels is not None else [1] * len(throughputs)
    return PlayerState(
        video,
        chunk_index=chunk,
        buffer_s=buffer_s,
        chunks_remaining=video.n_chunks - chunk,
        levels=list(levels),
        throughputs_mbps=list(throughputs),
    )
