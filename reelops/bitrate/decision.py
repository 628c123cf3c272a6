"""One bitrate decision at request time: a saved model's throughput quantiles and MPC's next level.

Serving loads a model version's files once (:meth:`BitrateModel.load`) and answers
each player request with :meth:`BitrateModel.decide`: the features the player
sent (its session's chunks so far, buffer, device) and the network context from
Feast become the feature vector (the same function as in training), the model
gives throughput quantiles, and MPC plans the next level with the mode chosen on
validation.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reelops.abr.policies import MPC
from reelops.abr.simulator import FIRST_LEVEL, PlayerState
from reelops.abr.video import Video, reference_video
from reelops.bitrate.features import UNKNOWN_CONTEXT, SessionContext, features_from_state
from reelops.bitrate.throughput import ThroughputModel

MODEL_DIR = "model"
POLICY_FILE = "bitrate.json"


@dataclass(frozen=True)
class DecisionRequest:
    """What a player sends before requesting a chunk.

    Attributes:
        chunk_index: Index of the chunk about to be requested (0 for the first).
        buffer_s: Seconds of video in the buffer now.
        levels: Level of each chunk fetched so far in this session, oldest first.
        throughputs_mbps: Each fetched chunk's measured throughput, Mbit/s.
        download_s: Each fetched chunk's download time, seconds (round trip included).
        context: Device and the network's throughput history (from Feast).
    """

    chunk_index: int
    buffer_s: float
    levels: Sequence[int] = ()
    throughputs_mbps: Sequence[float] = ()
    download_s: Sequence[float] = ()
    context: SessionContext = field(default=UNKNOWN_CONTEXT)


@dataclass(frozen=True)
class Decision:
    """The answer: throughput quantiles, the value MPC planned with, and the level."""

    quantiles: tuple[float, ...]
    quantiles_mbps: tuple[float, ...]
    planned_mbps: float | tuple[float, ...]
    level: int
    bitrate_kbps: int


class BitrateModel:
    """A saved bitrate model: the throughput model and the way MPC uses it.

    Args:
        model: The throughput model.
        mode: A quantile level or ``"scenarios"``.
        video: The video being played; the reference video if None.
    """

    def __init__(self, model: ThroughputModel, mode: float | str, video: Video | None = None):
        if mode != "scenarios" and not any(math.isclose(mode, q) for q in model.quantiles):
            raise ValueError(f"mode must be 'scenarios' or one of {model.quantiles}, got {mode!r}")
        self.model = model
        self.mode = mode
        self.video = video if video is not None else reference_video()
        self._pick = (
            None
            if mode == "scenarios"
            else model.quantiles.index(next(q for q in model.quantiles if math.isclose(q, mode)))
        )
        # Only plan() is used, which reads nothing but its arguments: decide is thread-safe.
        self._mpc = MPC()

    @classmethod
    def load(cls, folder: str | Path) -> BitrateModel:
        """Load a model version's files folder (as written by the training DAG).

        Raises:
            FileNotFoundError: The folder lacks the model or ``bitrate.json``.
        """
        folder = Path(folder)
        if not (folder / POLICY_FILE).is_file():
            raise FileNotFoundError(
                f"{folder / POLICY_FILE}: not found; not a bitrate model folder"
            )
        meta = json.loads((folder / POLICY_FILE).read_text())
        return cls(ThroughputModel.load(folder / MODEL_DIR), meta["mode"])

    def state(self, request: DecisionRequest) -> PlayerState:
        """The player state the request describes.

        Raises:
            ValueError: Inconsistent history lengths, a level or chunk index out of range,
                or a negative buffer.
        """
        n = len(request.levels)
        video = self.video
        if len(request.throughputs_mbps) != n or len(request.download_s) != n:
            raise ValueError(
                f"levels, throughputs_mbps and download_s must be equally long (one per fetched "
                f"chunk), got {n}, {len(request.throughputs_mbps)}, {len(request.download_s)}"
            )
        if not 0 <= request.chunk_index < video.n_chunks:
            raise ValueError(
                f"chunk_index must be within 0..{video.n_chunks - 1}, got {request.chunk_index}"
            )
        if any(not 0 <= lv < video.n_levels for lv in request.levels):
            raise ValueError(
                f"levels must be within 0..{video.n_levels - 1}, got {list(request.levels)}"
            )
        if not request.buffer_s >= 0:
            raise ValueError(f"buffer_s must be >= 0 seconds, got {request.buffer_s}")
        if any(not t > 0 for t in request.throughputs_mbps):
            raise ValueError("throughputs_mbps must all be > 0 Mbit/s")
        start = request.chunk_index - n
        sizes = [
            int(video.chunk_bytes[lv, start + i]) if start + i >= 0 else 0
            for i, lv in enumerate(request.levels)
        ]
        return PlayerState(
            video=video,
            chunk_index=request.chunk_index,
            buffer_s=float(request.buffer_s),
            chunks_remaining=video.n_chunks - request.chunk_index,
            levels=list(request.levels),
            throughputs_mbps=[float(t) for t in request.throughputs_mbps],
            download_s=[float(d) for d in request.download_s],
            chunk_bytes=sizes,
        )

    def decide(self, request: DecisionRequest) -> Decision:
        """Throughput quantiles for the request and the level MPC fetches next.

        Without any measured chunk (the session's first request) the quantiles are NaN
        and the level is the fixed first level, as every player in the simulator does.

        Safe to call from several threads at once: nothing is stored between calls.

        Raises:
            ValueError: The request is inconsistent (see :meth:`state`).
        """
        state = self.state(request)
        if not state.throughputs_mbps:
            # Nothing measured yet: players fetch the first chunk at a fixed level.
            unknown = tuple(math.nan for _ in self.model.quantiles)
            level = FIRST_LEVEL
            planned = unknown if self._pick is None else math.nan
            return Decision(
                self.model.quantiles, unknown, planned, level, int(self.video.bitrates_kbps[level])
            )
        quantiles = self.model.predict_one(features_from_state(state, request.context))
        planned = quantiles if self._pick is None else float(quantiles[self._pick])
        level = self._mpc.plan(state, planned, "ThroughputModel")
        return Decision(
            self.model.quantiles,
            tuple(float(q) for q in quantiles),
            tuple(float(q) for q in quantiles) if self._pick is None else planned,
            level,
            int(self.video.bitrates_kbps[level]),
        )


def decide(folder: str | Path, request: DecisionRequest) -> Decision:
    """Load the model in ``folder`` and answer one request (serving loads once and reuses it)."""
    return BitrateModel.load(folder).decide(request)
