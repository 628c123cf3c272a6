"""The reference video: chunk sizes of one title encoded at six bitrate levels."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np

REFERENCE_BITRATES_KBPS: tuple[int, ...] = (300, 750, 1200, 1850, 2850, 4300)
REFERENCE_CHUNKS = 48
CHUNK_S = 4.0


@dataclass(frozen=True, eq=False)
class Video:
    """A video split into chunks of ``chunk_s`` seconds, each encoded at every level.

    Attributes:
        bitrates_kbps: Nominal bitrate of each level, lowest first.
        chunk_bytes: Size in bytes of each chunk at each level, shape (levels, chunks).
        chunk_s: Seconds of playback in one chunk.
    """

    bitrates_kbps: tuple[int, ...]
    chunk_bytes: np.ndarray
    chunk_s: float = CHUNK_S
    # Plain-list copy for the simulator's inner loop, where list indexing beats numpy.
    size_rows: list[list[int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        sizes = np.asarray(self.chunk_bytes, dtype=np.int64)
        if sizes.ndim != 2 or sizes.shape[0] != len(self.bitrates_kbps):
            raise ValueError(
                f"chunk_bytes must have shape (levels={len(self.bitrates_kbps)}, chunks), "
                f"got {sizes.shape}"
            )
        if sizes.shape[1] == 0 or (sizes <= 0).any():
            raise ValueError("chunk_bytes must hold at least one chunk, all sizes > 0 bytes")
        if list(self.bitrates_kbps) != sorted(set(self.bitrates_kbps)):
            raise ValueError(f"bitrates_kbps must increase strictly, got {self.bitrates_kbps}")
        sizes.setflags(write=False)
        object.__setattr__(self, "bitrates_kbps", tuple(int(b) for b in self.bitrates_kbps))
        object.__setattr__(self, "chunk_bytes", sizes)
        object.__setattr__(self, "size_rows", sizes.tolist())

    @property
    def n_levels(self) -> int:
        return self.chunk_bytes.shape[0]

    @property
    def n_chunks(self) -> int:
        return self.chunk_bytes.shape[1]


def _read_sizes(level: int, n_chunks: int) -> list[int]:
    name = f"video_size_{level}"
    text = resources.files("reelops").joinpath("data", "video", name).read_text("utf-8")
    values = [line.split()[0] for line in text.splitlines() if line.strip()]
    if len(values) < n_chunks:
        raise ValueError(
            f"reelops/data/video/{name}: expected at least {n_chunks} chunk sizes, "
            f"found {len(values)}"
        )
    return [int(v) for v in values[:n_chunks]]


@lru_cache(maxsize=1)
def reference_video() -> Video:
    """The packaged reference video: 48 chunks of 4 s at 300 to 4300 kbit/s.

    Returns:
        The video, read once from ``reelops/data/video/video_size_{0..5}`` and cached.
    """
    sizes = [_read_sizes(level, REFERENCE_CHUNKS) for level in range(len(REFERENCE_BITRATES_KBPS))]
    return Video(REFERENCE_BITRATES_KBPS, np.array(sizes, dtype=np.int64), CHUNK_S)
