"""Request and response bodies of the services: strict, bounded, no extra fields.

Every field has its JSON type exactly (no ``"10"``, ``10.0`` or ``true`` for an integer),
every number is finite and inside its range, every quantity derived from the request
(a chunk's throughput from bytes and time) is bounded too, and unknown fields are
refused, so bad input gets a 400 that names the field before any model code runs.
"""

from __future__ import annotations

import json
import re
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from reelops.schema import CONNECTIONS, COUNTRIES, DEVICES

Country = Literal[COUNTRIES]  # type: ignore[valid-type]
Device = Literal[DEVICES]  # type: ignore[valid-type]
Connection = Literal[CONNECTIONS]  # type: ignore[valid-type]


# What a member id may hold: printable ASCII letters, digits and ``_ . : @ -``, starting
# with a letter or digit, at most 64 characters (no control characters, no escapes).
MEMBER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"
MAX_THROUGHPUT_MBPS = 10_000.0
MAX_LADDER_KBPS = 1_000_000.0  # 1 Gbit/s: above any video rendition
BITS_PER_BYTE = 8


class Strict(BaseModel):
    # Errors name the field but never echo its value: a member id must not reach a log.
    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        allow_inf_nan=False,
        str_max_length=256,
        hide_input_in_errors=True,
    )


class RecommendContext(Strict):
    country: Country | None = None
    device: Device | None = None


class RecommendRequest(Strict):
    member_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=MEMBER_ID_PATTERN,
        description="The app's member id: letters, digits and _ . : @ - (at most 64).",
    )
    k: int = Field(10, ge=1, le=100)
    context: RecommendContext = RecommendContext()


class RecommendedTitle(BaseModel):
    title_id: str
    rank: int
    score: float
    source: str
    # The production artwork policy's variant for this member and title, and the exact
    # probability it was drawn with; None when no artwork policy serves (see artwork_note).
    artwork_variant: str | None = None
    artwork_propensity: float | None = None


class RecommendResponse(BaseModel):
    model_version: str
    arm: str = "production"  # or "canary": the release serving this member's share
    cold_start: bool
    fallback: str | None = None
    titles: list[RecommendedTitle]
    artwork_version: str | None = None  # the artwork policy that chose the variants
    artwork_note: str | None = None  # why titles carry no artwork (no_artwork_policy, ...)


class Chunk(Strict):
    """One downloaded chunk: its level, download time, and throughput or size."""

    level: int = Field(ge=0, lt=20, description="Index in the ladder, 0 = lowest.")
    download_s: float = Field(gt=0, le=600, description="Seconds, round trip included.")
    throughput_mbps: float | None = Field(None, gt=0, le=MAX_THROUGHPUT_MBPS)
    bytes: int | None = Field(None, gt=0, le=1_000_000_000)

    @model_validator(mode="after")
    def _one_measure(self) -> Chunk:
        if self.throughput_mbps is None and self.bytes is None:
            raise ValueError("give throughput_mbps or bytes")
        # bytes / download_s must fit the same bound as a given throughput; compared
        # without dividing, so a tiny download_s cannot overflow to infinity.
        if self.throughput_mbps is None and (
            self.bytes * BITS_PER_BYTE / 1e6 > MAX_THROUGHPUT_MBPS * self.download_s
        ):
            raise ValueError(
                f"bytes / download_s is above {MAX_THROUGHPUT_MBPS:g} Mbit/s: check both fields"
            )
        return self

    @property
    def mbps(self) -> float:
        """The chunk's throughput in Mbit/s, given or derived from bytes and time."""
        if self.throughput_mbps is not None:
            return self.throughput_mbps
        return self.bytes * BITS_PER_BYTE / 1e6 / self.download_s


class BitrateRequest(Strict):
    member_id: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=MEMBER_ID_PATTERN,
        description="The member watching (optional): a canary serves a stable share of "
        "members, so without it the production model answers.",
    )
    session: list[Chunk] = Field(min_length=1, max_length=1000)
    chunk_index: int | None = Field(None, ge=0, le=100_000, description="Default: len(session).")
    buffer_s: float = Field(ge=0, le=600)
    device: Device
    country: Country | None = None
    connection: Connection | None = None
    ladder_kbps: list[Annotated[float, Field(gt=0, le=MAX_LADDER_KBPS)]] | None = Field(
        None, min_length=2, max_length=20, description="Kbit/s per level, increasing."
    )

    @field_validator("ladder_kbps")
    @classmethod
    def _ladder_increasing(cls, ladder: list[float] | None) -> list[float] | None:
        if ladder is not None and any(b <= a for a, b in pairwise(ladder)):
            raise ValueError("must be strictly increasing")
        return ladder

    @model_validator(mode="after")
    def _levels_on_the_ladder(self) -> BitrateRequest:
        if self.ladder_kbps is not None:
            for i, chunk in enumerate(self.session):
                if chunk.level >= len(self.ladder_kbps):
                    raise ValueError(f"session.{i}.level is not a level of ladder_kbps")
        return self


class BitrateResponse(BaseModel):
    model_version: str
    arm: str = "production"  # or "canary": the release serving this member's share
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


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
JSON_MEDIA_TYPE = "application/json"


class RequestError(ValueError):
    """A request the service refuses, with the status and a message safe to return and log.

    The message names fields (or says what is wrong with the body) but never holds a
    value from the request.
    """

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _name(part: object) -> str:
    """A location part as text; a client-chosen key is named only when it is a plain name."""
    text = str(part)
    return text if isinstance(part, int) or _NAME.match(text) else "<field>"


def field_errors(error: ValidationError) -> list[str]:
    """One ``field: problem`` line per validation error, with no input value in it."""
    lines = []
    for item in error.errors(include_input=False, include_context=False, include_url=False):
        loc = ".".join(_name(p) for p in item["loc"]) or "body"
        message = "unknown field" if item["type"] == "extra_forbidden" else item["msg"]
        lines.append(f"{loc}: {message}")
    return lines


def _refuse_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise RequestError(400, f"{_name(key)}: duplicate key in the JSON body")
        out[key] = value
    return out


def _refuse_constant(name: str) -> float:
    raise RequestError(400, "body: NaN and Infinity are not JSON numbers")


def check_media_type(content_type: str | None) -> None:
    """Refuse (415) a body that is not declared ``application/json``."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != JSON_MEDIA_TYPE:
        raise RequestError(415, f"send the body as {JSON_MEDIA_TYPE} (Content-Type header)")


def parse_body(model: type[BaseModel], body: bytes) -> BaseModel:
    """A request model from a JSON body: valid UTF-8 JSON, no duplicate keys, strict types.

    Raises:
        RequestError: 400 with the offending fields named (never their values).
    """
    try:
        data = json.loads(
            body.decode("utf-8"),
            object_pairs_hook=_refuse_duplicates,
            parse_constant=_refuse_constant,
        )
    except RequestError:
        raise
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        where = f" (at character {error.pos})" if isinstance(error, json.JSONDecodeError) else ""
        raise RequestError(400, f"body: not valid UTF-8 JSON{where}") from None
    except (ValueError, RecursionError):  # an integer of thousands of digits, deep nesting
        raise RequestError(400, "body: a number or nesting beyond what JSON here allows") from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise RequestError(400, "; ".join(field_errors(error))) from None
