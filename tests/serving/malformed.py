"""A generated matrix of malformed requests per endpoint, for the services' fuzz test.

Each case is ``(name, headers, raw body, what the error must name, values it must not echo)``.
Cases come from crossing every field with wrong types, coercible look-alikes (``"10"``,
``10.0``, ``true``), out-of-range and non-finite numbers and hostile strings, over two
otherwise valid bases; plus raw bodies (wrong content types, duplicate keys, NaN
literals, broken or hostile JSON). Values carry the marker ``ZQX`` or are distinctive
numbers, so an echo is easy to spot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from reelops.serving.schemas import EXAMPLE_BITRATE

JSON = {"content-type": "application/json"}
MARK = "ZQX"
HOSTILE_STRINGS = [
    f"{MARK}\x00nul",
    f"{MARK}\nnewline",
    f"{MARK}\r\ncrlf",
    f"\x1b[31m{MARK}ansi",
    f"{MARK}" + "x" * 10_000,
    f"{MARK}" + "y" * 62,  # 65 characters
    f"{MARK} space",
    f"-{MARK}",
    f"{MARK}/slash",
    f"{MARK}é",
    f"{MARK}\u202ertl",
    "",
]
NOT_AN_INT = ["10", 10.0, True, False, None, [], {}, "ten", 10.5, 1e300]
NOT_A_NUMBER = ["2.5", True, None, [], {}, f"{MARK}"]


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes
    names: str  # the field (or "body" / "Content-Type") the error must name
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))
    secrets: tuple[str, ...] = ()  # text that must not come back


def _dump(body: Any) -> bytes:
    return json.dumps(body, allow_nan=True).encode()


def _secrets(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) and MARK in value:
        return (MARK,)
    if isinstance(value, float) and abs(value) >= 1e6:
        return (repr(value), json.dumps(value))
    return ()


def _field_cases(endpoint: str, bases: list[dict], fields: dict[str, list]) -> list[Case]:
    """Every bad value of every (dotted) field, on every base."""
    cases = []
    for b, base in enumerate(bases):
        for dotted, values in fields.items():
            for v, value in enumerate(values):
                body = json.loads(json.dumps(base))
                target, *path = dotted.split(".")
                holder = body
                parts = [target, *path]
                for part in parts[:-1]:
                    holder = holder[int(part)] if isinstance(holder, list) else holder[part]
                last = parts[-1]
                if isinstance(holder, list):
                    holder[int(last)] = value
                else:
                    holder[last] = value
                name = f"{endpoint}:{dotted}={v}/base{b}"
                cases.append(Case(name, _dump(body), dotted.split(".")[0], secrets=_secrets(value)))
    return cases


def _raw_cases(endpoint: str, good: dict, key: str) -> list[Case]:
    text = json.dumps(good)
    duplicated = text[:-1] + f', "{key}": ' + json.dumps(good[key]) + "}"
    form = "&".join(f"{k}={v}" for k, v in good.items() if not isinstance(v, dict | list))
    cases = [
        Case(
            f"{endpoint}:text/plain", text.encode(), "Content-Type", {"content-type": "text/plain"}
        ),
        Case(
            f"{endpoint}:form",
            form.encode(),
            "Content-Type",
            {"content-type": "application/x-www-form-urlencoded"},
        ),
        Case(
            f"{endpoint}:multipart",
            b'--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n'
            + text.encode()
            + b"\r\n--b--",
            "Content-Type",
            {"content-type": "multipart/form-data; boundary=b"},
        ),
        Case(f"{endpoint}:no-type", text.encode(), "Content-Type", {}),
        Case(f"{endpoint}:xml", b"<a/>", "Content-Type", {"content-type": "application/xml"}),
        Case(f"{endpoint}:json-ish", text.encode(), "Content-Type", {"content-type": "json"}),
        Case(f"{endpoint}:duplicate", duplicated.encode(), key),
        Case(f"{endpoint}:nan", text[:-1].encode() + b', "zz": NaN}', "NaN"),
        Case(f"{endpoint}:infinity", text[:-1].encode() + b', "zz": -Infinity}', "NaN"),
        Case(f"{endpoint}:broken", text[:-3].encode(), "body"),
        Case(f"{endpoint}:empty", b"", "body"),
        Case(f"{endpoint}:null", b"null", "body"),
        Case(f"{endpoint}:array", b"[]", "body"),
        Case(f"{endpoint}:string", b'"ZQX"', "body", secrets=(MARK,)),
        Case(f"{endpoint}:number", b"98765.4321", "body", secrets=("98765",)),
        Case(f"{endpoint}:huge-int", b'{"zz": 1' + b"0" * 5000 + b"}", "body"),
        Case(f"{endpoint}:deep", b"[" * 50_000 + b"]" * 50_000, "body"),
        Case(f"{endpoint}:latin1", b'{"zz": "\xe9\xff"}', "body"),
        Case(f"{endpoint}:bom", b"\xef\xbb\xbf" + text.encode(), "body"),
        Case(f"{endpoint}:unknown", text[:-1].encode() + b', "debug": true}', "debug"),
        Case(
            f"{endpoint}:unknown-hostile",
            text[:-1].encode() + b', "ZQX\\u001b[2J": 1}',
            "unknown field",
            secrets=(MARK,),
        ),
    ]
    return cases


def recommend_cases() -> list[Case]:
    bases = [
        {"member_id": "m000001", "k": 10, "context": {"country": "US", "device": "tv"}},
        {"member_id": "m000002", "k": 3, "context": {}},
        {"member_id": "user@example.com", "k": 100, "context": {"device": "mobile"}},
    ]
    fields = {
        "member_id": [*HOSTILE_STRINGS, 7, 98765.4321, True, None, [], {}],
        "k": [*NOT_AN_INT, 0, 101, -1, 123456789],
        "context": [f"{MARK}", [], 5, None],
        "context.country": [f"{MARK}", "us", 1, True, []],
        "context.device": [f"{MARK}", 3, [], {}],
    }
    cases = _field_cases("recommend", bases, fields)
    cases += [
        Case("recommend:missing", _dump({"k": 5}), "member_id"),
        Case("recommend:context-extra", _dump({**bases[0], "context": {"zz": 1}}), "context"),
    ]
    return cases + _raw_cases("recommend", bases[0], "member_id")


def bitrate_cases() -> list[Case]:
    good = dict(EXAMPLE_BITRATE)
    own = {**good, "ladder_kbps": [300, 750, 1200], "chunk_index": 4}
    bases = [good, own]
    chunk_fields = {
        "session.0.level": [*NOT_AN_INT, -1, 20, 999999],
        "session.0.download_s": [*NOT_A_NUMBER, 0, -1.0, 601, 1e308],
        "session.0.throughput_mbps": [*NOT_A_NUMBER, 0, -2.5, 10_001, 1e17],
        "session.2.bytes": [*NOT_A_NUMBER, 0, 950000.5, 1e9, 2_000_000_000],
    }
    fields = {
        **chunk_fields,
        "session": [[], f"{MARK}", {}, None, [f"{MARK}"], [None], [1]],
        "buffer_s": [*NOT_A_NUMBER, -1, 601, 1e300],
        "device": [f"{MARK}", 1, None, []],
        "country": [f"{MARK}", 1, []],
        "connection": [f"{MARK}", 2, {}],
        "chunk_index": [v for v in NOT_AN_INT if v is not None] + [-1, 100_001],
        "ladder_kbps": [
            [1e17, 2e17],
            [800, 400],
            [300],
            [0, 300],
            [-300, 300],
            [300, 300],
            list(range(1, 23)),
            ["300", "750"],
            [True, 2],
            [300, None],
            f"{MARK}",
            {},
        ],
    }
    cases = _field_cases("bitrate", bases, fields)
    derived = [
        # ZeroDivisionError / infinite throughput from bytes and a denormal time
        {"level": 0, "bytes": 1_000_000_000, "download_s": 5e-324},
        {"level": 0, "bytes": 1_000_000_000, "download_s": 1e-300},  # 8e303 Mbit/s
        {"level": 0, "bytes": 1_000_000_000, "download_s": 0.5},  # 16,000 Mbit/s
        {"level": 0, "download_s": 1.0},  # neither measure
        {"level": 0, "download_s": 1.0, "throughput_mbps": 2, "zz": 1},
    ]
    for i, chunk in enumerate(derived):
        cases.append(Case(f"bitrate:derived{i}", _dump({**good, "session": [chunk]}), "session"))
    cases += [
        # levels [19, 2] on the model's 6-level ladder: the 400 used to echo them
        Case(
            "bitrate:level-off-model-ladder",
            _dump({**good, "session": [{**good["session"][0], "level": 19}, good["session"][1]]}),
            "level",
            secrets=("[19, 2]",),
        ),
        Case(
            "bitrate:level-off-own-ladder",
            _dump({**own, "session": [{**good["session"][0], "level": 5}]}),
            "level",
        ),
        Case("bitrate:long-session", _dump({**good, "session": good["session"] * 334}), "session"),
        Case(
            "bitrate:missing-device",
            _dump({k: v for k, v in good.items() if k != "device"}),
            "device",
        ),
    ]
    return cases + _raw_cases("bitrate", good, "buffer_s")
