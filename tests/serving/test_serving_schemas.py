"""Request bodies refuse bad input and name the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reelops.serving.schemas import (
    EXAMPLE_BITRATE,
    BitrateRequest,
    RecommendRequest,
    RequestError,
    check_media_type,
    parse_body,
)

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


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ladder_kbps": [1e17, 2e17]}, "ladder_kbps.0"),  # overflowed cbr_video: a 500
        ({"ladder_kbps": [300, 750, 1e9]}, "ladder_kbps.2"),
        # bytes / download_s overflowed to inf (ZeroDivisionError downstream): a 500
        ({"session": [{"level": 0, "bytes": 1_000_000_000, "download_s": 5e-324}]}, "session.0"),
        # 8e303 Mbit/s passed although throughput_mbps is bounded by 10,000
        ({"session": [{"level": 0, "bytes": 1_000_000_000, "download_s": 1e-300}]}, "session.0"),
        ({"session": [{"level": 0, "bytes": 1_000_000_000, "download_s": 0.7}]}, "session.0"),
    ],
)
def test_every_derived_quantity_is_bounded(change, field):
    with pytest.raises(ValidationError) as error:
        BitrateRequest.model_validate({**GOOD_BITRATE, **change})
    locs = {".".join(map(str, e["loc"])) for e in error.value.errors()}
    assert any(loc == field or loc.startswith(field) for loc in locs), locs


def test_a_level_off_the_players_own_ladder_is_refused():
    body = {**GOOD_BITRATE, "ladder_kbps": [400, 800]}  # the example has level 2
    with pytest.raises(ValidationError, match=r"session\.1\.level"):
        BitrateRequest.model_validate(body)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"member_id": "7", "k": "10"}, "k"),
        ({"member_id": "7", "k": 10.0}, "k"),
        ({"member_id": "7", "k": True}, "k"),
        ({"member_id": 7}, "member_id"),
        ({"member_id": "a\x00b"}, "member_id"),
        ({"member_id": "a\nb"}, "member_id"),
        ({"member_id": "\x1b[31mred"}, "member_id"),
        ({"member_id": "x" * 10_000}, "member_id"),
        ({"member_id": "x" * 65}, "member_id"),
        ({"member_id": "has space"}, "member_id"),
        ({"member_id": "-leading"}, "member_id"),
    ],
)
def test_recommend_types_are_strict_and_member_ids_have_a_charset(body, field):
    with pytest.raises(ValidationError) as error:
        RecommendRequest.model_validate(body)
    assert field in {".".join(map(str, e["loc"])) for e in error.value.errors()}


@pytest.mark.parametrize("level", ["1", 1.0, True])
def test_bitrate_level_is_an_integer_strictly(level):
    session = [{"level": level, "throughput_mbps": 2.0, "download_s": 1.0}]
    with pytest.raises(ValidationError, match=r"session\.0\.level"):
        BitrateRequest.model_validate({**GOOD_BITRATE, "session": session})


def test_member_ids_of_every_allowed_kind_parse():
    for member_id in ("m000001", "7", "user@example.com", "a.b:c_d-e", "Z" * 64):
        assert RecommendRequest.model_validate({"member_id": member_id}).member_id == member_id


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"member_id": "a", "member_id": "b"}', "member_id: duplicate"),
        (b'{"member_id": "a", "k": 5, "k": 6}', "k: duplicate"),
        (b'{"member_id": "a", "context": {"country": "US", "country": "GB"}}', "country: dup"),
        (b'{"member_id": "a", "k": NaN}', "NaN"),
        (b'{"member_id": "a", "k": Infinity}', "NaN"),
        (b'{"member_id": "a", "k": 1' + b"0" * 5000 + b"}", "body"),
        (b"[" * 100_000 + b"]" * 100_000, "body"),
        (b"\xff\xfe{}", "body"),
        (b"{not json", "body"),
        (b"", "body"),
        (b"[]", "body"),
        (b'{"member_id": "SECRET-42", "k": "10"}', "k"),
    ],
)
def test_parse_body_refuses_and_names_without_echoing(raw, field):
    with pytest.raises(RequestError) as error:
        parse_body(RecommendRequest, raw)
    assert error.value.status == 400 and field in error.value.message
    assert "SECRET-42" not in error.value.message and '"10"' not in error.value.message


def test_an_unknown_field_is_named_only_when_it_is_a_plain_name():
    with pytest.raises(RequestError, match="debug: unknown field"):
        parse_body(RecommendRequest, b'{"member_id": "a", "debug": 1}')
    with pytest.raises(RequestError) as error:
        parse_body(RecommendRequest, b'{"member_id": "a", "m0042\\u001b[2J": 1}')
    assert "m0042" not in error.value.message and "unknown field" in error.value.message


@pytest.mark.parametrize(
    "content_type",
    [None, "", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x"],
)
def test_only_json_bodies_are_accepted(content_type):
    with pytest.raises(RequestError) as error:
        check_media_type(content_type)
    assert error.value.status == 415 and "Content-Type" in error.value.message
    check_media_type("application/json; charset=utf-8")
