"""Request and response bodies of the services: strict, bounded, no extra fields.

Every number must be finite and inside its range and unknown fields are refused,
so bad input gets a 400 that names the field before any model code runs.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reelops.schema import CONNECTIONS, COUNTRIES, DEVICES

Country = Literal[COUNTRIES]  # type: ignore[valid-type]
Device = Literal[DEVICES]  # type: ignore[valid-type]
Connection = Literal[CONNECTIONS]  # type: ignore[valid-type]


class Strict(BaseModel):
    # Errors name the field but never echo its value: a member id must not reach a log.
    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False, str_max_length=256, hide_input_in_errors=True
    )


class RecommendContext(Strict):
    country: Country | None = None
    device: Device | None = None


class RecommendRequest(Strict):
    member_id: str = Field(min_length=1, max_length=64, description="The app's member id.")
    k: int = Field(10, ge=1, le=100)
    context: RecommendContext = RecommendContext()


class RecommendedTitle(BaseModel):
    title_id: str
    rank: int
    score: float
    source: str
    artwork_variant: str | None = None


class RecommendResponse(BaseModel):
    model_version: str
    cold_start: bool
    fallback: str | None = None
    titles: list[RecommendedTitle]


class Chunk(Strict):
    """One downloaded chunk: its level, download time, and throughput or size."""

    level: int = Field(ge=0, lt=20, description="Index in the ladder, 0 = lowest.")
    download_s: float = Field(gt=0, le=600, description="Seconds, round trip included.")
    throughput_mbps: float | None = Field(None, gt=0, le=10_000)
    bytes: int | None = Field(None, gt=0, le=1_000_000_000)

    @model_validator(mode="after")
    def _one_measure(self) -> Chunk:
        if self.throughput_mbps is None and self.bytes is None:
            raise ValueError("give throughput_mbps or bytes")
        return self


class BitrateRequest(Strict):
    session: list[Chunk] = Field(min_length=1, max_length=1000)
    chunk_index: int | None = Field(None, ge=0, le=100_000, description="Default: len(session).")
    buffer_s: float = Field(ge=0, le=600)
    device: Device
    country: Country | None = None
    connection: Connection | None = None
    ladder_kbps: list[float] | None = Field(None, min_length=2, max_length=20)

    @field_validator("ladder_kbps")
    @classmethod
    def _ladder_increasing(cls, ladder: list[float] | None) -> list[float] | None:
        if ladder is not None and (ladder[0] <= 0 or any(b <= a for a, b in pairwise(ladder))):
            raise ValueError("must be positive and strictly increasing")
        return ladder


class BitrateResponse(BaseModel):
    model_version: str
    quantiles: dict[str, float]
    level: int
    bitrate_kbps: float
    fallback: str | None = None


# Examples shared by the service docs, the demo, the benchmark and the tests.
EXAMPLE_RECOMMEND = {"member_id": "m000001", "k": 10, "context": {"country": "US"}}
EXAMPLE_BITRATE = {
    "session": [
        {"level": 1, "throughput_mbps": 2.1, "download_s": 1.5},
        {"level": 2, "throughput_mbps": 2.8, "download_s": 1.8},
        {"level": 2, "bytes": 950_000, "download_s": 2.4},
    ],
    "buffer_s": 9.5,
    "device": "tv",
    "country": "US",
    "connection": "cable",
}
