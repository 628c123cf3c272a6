"""`/bitrate` in-process: a player's recent chunks in, throughput quantiles and a level out.

The player sends its session's recent chunks (level, and throughput or bytes and
download time), its buffer and device, and where it is (country, connection); the
network context's throughput history comes from Feast's online store. The production
bitrate model predicts the next chunk's throughput quantiles and its MPC picks the
level. If the online store fails, the model runs without network context (the same
NaN path it learned for unknown networks), marked ``fallback``. A player's own ladder
gets the same model planning over that ladder, kept in a least-recently-used cache of
``Settings.ladder_cache_size`` entries so distinct ladders cannot grow the worker.
A player may name its member (``member_id``, pseudonymized at once): a live canary then
answers that member's share, and the log row carries the member key; without it the
production model answers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from reelops.abr.video import Video
from reelops.bitrate.decision import BitrateModel, DecisionRequest
from reelops.bitrate.features import SessionContext
from reelops.config import Settings
from reelops.features.describe import newest_timestamp
from reelops.features.online import OnlineLookup
from reelops.features.store import open_store
from reelops.privacy import load_key, pseudonym
from reelops.serving.prediction_log import PredictionLog
from reelops.serving.production import Answer, Loaded, ServedModel
from reelops.serving.schemas import BITS_PER_BYTE, BitrateRequest, BitrateResponse, RequestError
from reelops.sources import active_source

MODEL = "bitrate"


def serving_time(settings: Settings, data_end: datetime | None) -> datetime:
    """The request time features are looked up at.

    Production serves at the wall clock, so stale features show as stale. The local
    profile's data is a simulated past, so it serves as of the end of its data.
    """
    if settings.profile == "production" or data_end is None:
        return datetime.now(UTC).replace(tzinfo=None)
    return data_end


def cbr_video(ladder_kbps: tuple[float, ...], n_chunks: int, chunk_s: float):
    """A constant-bitrate video for a player's own ladder (sizes = bitrate x duration)."""
    sizes = np.array([[round(b * 1000 * chunk_s / BITS_PER_BYTE)] * n_chunks for b in ladder_kbps])
    return Video(tuple(int(round(b)) for b in ladder_kbps), sizes, chunk_s)


class BitrateEndpoint(ServedModel[BitrateModel]):
    """Answers bitrate requests with the registry's production bitrate model.

    Args:
        settings: Platform settings.
        prediction_log: Where every answered request is logged (None: not logged).
        poll_seconds: How often to look for a new production version.
    """

    name = MODEL
    route = "/bitrate"

    def __init__(
        self,
        settings: Settings,
        *,
        prediction_log: PredictionLog | None = None,
        poll_seconds: float = 1.0,
    ):
        super().__init__(
            settings,
            lambda files, _v: BitrateModel.load(files),
            prediction_log=prediction_log,
            poll_seconds=poll_seconds,
        )
        self._lookup: OnlineLookup | None = None
        self._as_of: datetime | None = None
        self._ladders: OrderedDict[tuple[str, tuple[float, ...]], BitrateModel] = OrderedDict()
        self._ladders_lock = threading.Lock()
        self.ladder_cache_size = settings.ladder_cache_size
        self._key = load_key(settings)

    def _network(self, network_key: str):
        """The network's online features; opened on first use, then reused."""
        if self._lookup is None:
            repo = open_store(self.settings, active_source(self.settings), apply=False)
            self._as_of = newest_timestamp(repo, repo.feature_view("network_throughput"))
            self._lookup = OnlineLookup(repo)
        return self._lookup.network(network_key, serving_time(self.settings, self._as_of))

    def _probe(self, loaded) -> None:
        self._network("unknown:unknown")

    @staticmethod
    def _network_key(request: BitrateRequest) -> str:
        return f"{request.country or 'unknown'}:{request.connection or 'unknown'}"

    def _begin(self, request: BitrateRequest) -> tuple[str | None, dict]:
        features = {
            "network_key": self._network_key(request),
            "buffer_s": request.buffer_s,
            "chunks": len(request.session),
            "device": request.device,
        }
        # A player may say whose session it is (the raw id goes no further than this
        # line); without it no member is known and production answers.
        member = pseudonym(request.member_id, self._key) if request.member_id else None
        return member, features

    def _online(self, request: BitrateRequest, loaded: Loaded[BitrateModel], _key) -> Answer:
        features = self._network(self._network_key(request))
        net = {k.split("__", 1)[1]: v for k, v in features.values.items() if v is not None}
        answer = self._decide(request, loaded, net, fallback=None)
        # The online values and their lookup time, for the monitor's online/offline skew.
        at = serving_time(self.settings, self._as_of)
        return replace(answer, features={"online": net, "feature_time": at.isoformat()})

    def _fallback(self, request: BitrateRequest, loaded: Loaded[BitrateModel], _key) -> Answer:
        # Without network context: the same NaN path the model learned for unknown networks.
        return self._decide(request, loaded, {}, fallback="online_store_unavailable")

    def _decide(
        self, request: BitrateRequest, loaded: Loaded[BitrateModel], net: dict, fallback
    ) -> Answer:
        """Choose the next chunk's level (``ValueError`` when the request does not fit)."""
        model = loaded.model
        nan = float("nan")
        context = SessionContext(
            device=request.device,
            throughput_p10_mbps=float(net.get("throughput_p10_7d", nan)),
            throughput_p50_mbps=float(net.get("throughput_p50_7d", nan)),
            throughput_p90_mbps=float(net.get("throughput_p90_7d", nan)),
            network_key=self._network_key(request),
        )
        chunks = request.session
        throughputs = [c.mbps for c in chunks]  # bounded by the schema, derived ones too
        if request.ladder_kbps is not None:
            model = self._for_ladder(loaded.version.version, tuple(request.ladder_kbps), model)
        for i, chunk in enumerate(chunks):
            if chunk.level >= model.video.n_levels:
                raise RequestError(
                    400, f"session.{i}.level: above the model's ladder; send ladder_kbps"
                )
        index = request.chunk_index if request.chunk_index is not None else len(chunks)
        decision = model.decide(  # thread-safe: keeps nothing between calls
            DecisionRequest(
                chunk_index=min(index, model.video.n_chunks - 1),
                buffer_s=request.buffer_s,
                levels=[c.level for c in chunks],
                throughputs_mbps=throughputs,
                download_s=[c.download_s for c in chunks],
                context=context,
            )
        )
        response = BitrateResponse(
            model_version=loaded.version.version,
            arm=loaded.arm,
            quantiles={
                f"q{q:g}": round(v, 4)
                for q, v in zip(decision.quantiles, decision.quantiles_mbps, strict=True)
            },
            level=decision.level,
            bitrate_kbps=float(decision.bitrate_kbps),
            fallback=fallback,
        )
        return Answer(response, {"level": response.level, "quantiles": response.quantiles})

    def _for_ladder(
        self, version: str, ladder: tuple[float, ...], model: BitrateModel
    ) -> BitrateModel:
        """The same throughput model planning over the player's own ladder (LRU-cached)."""
        key = (version, ladder)
        with self._ladders_lock:
            if key in self._ladders:
                self._ladders.move_to_end(key)
                return self._ladders[key]
        video = cbr_video(ladder, model.video.n_chunks, model.video.chunk_s)
        planned = BitrateModel(model.model, model.mode, video)
        with self._ladders_lock:
            self._ladders[key] = planned
            self._ladders.move_to_end(key)
            while len(self._ladders) > self.ladder_cache_size:
                self._ladders.popitem(last=False)
        return planned
