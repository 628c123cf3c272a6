"""Request bodies refuse bad input and name the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reelops.serving.schemas import EXAMPLE_BITRATE, BitrateRequest, RecommendRequest

GOOD_BITRATE = EXAMPLE_BITRATE


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"member_id": "7", "k": 0}, "k"),
        ({"member_id": "7", "k": 101}, "k"),
        ({"member_id": "", "k": 5}, "member_id"),
        ({"k": 5}, "member_id"),
        ({"member_id": "7", "k": "ten"}, "k"),
        ({"member_id": "7", "colour": "red"}, "colour"),
        ({"member_id": "7", "context": {"country": "XX"}}, "context.country"),
    ],
)
def test_recommend_request_names_the_bad_field(body, field):
    with pytest.raises(ValidationError) as error:
        RecommendRequest.model_validate(body)
    assert field in {".".join(map(str, e["loc"])) for e in error.value.errors()}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"session": []}, "session"),
        ({"buffer_s": float("inf")}, "buffer_s"),
        ({"buffer_s": -1}, "buffer_s"),
        ({"device": "toaster"}, "device"),
        (
            {"session": [{"level": 0, "download_s": 1, "throughput_mbps": float("nan")}]},
            "session.0.throughput_mbps",
        ),
        ({"session": [{"level": 0, "bytes": 1000}]}, "session.0.download_s"),
        ({"session": [{"level": 0, "download_s": 1.0}]}, "session.0"),
        ({"session": [{"level": -1, "download_s": 1.0, "bytes": 9}]}, "session.0.level"),
        ({"ladder_kbps": [300, 300, 750]}, "ladder_kbps"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bitrate_request_names_the_bad_field(change, field):
    with pytest.raises(ValidationError) as error:
        BitrateRequest.model_validate({**GOOD_BITRATE, **change})
    locs = {".".join(map(str, e["loc"])) for e in error.value.errors()}
    assert any(loc == field or loc.startswith(field) for loc in locs), locs


def test_good_requests_parse():
    assert RecommendRequest.model_validate({"member_id": "7"}).k == 10
    assert len(BitrateRequest.model_validate(GOOD_BITRATE).session) == 3
