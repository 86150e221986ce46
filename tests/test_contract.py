"""The wire contract: parsing, validation, error codes (no I/O)."""

import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fidelio.contract import (
    MAX_PAYLOAD_BYTES,
    ContractError,
    ErrorCode,
    Topics,
    dumps,
    error_reply,
    new_request,
    parse_request,
    parse_request_topic,
    uuid7,
)
from fidelio.contract.errors import ERROR_TEXTS


def payload(**over):
    base = new_request("tap", "k1", "pcsc:04A1B2C3").to_json()
    base.update(over)
    return dumps(base)


def payload_ascii(**over):
    """JSON with \\u escapes, as a client with ensure_ascii would send it."""
    base = new_request("tap", "k1", "pcsc:04A1B2C3").to_json()
    base.update(over)
    return json.dumps(base).encode()


def test_round_trip_of_each_type():
    bodies = {
        "tap": {},
        "purchase": {"amount_cents": 1240, "receipt": "T-1"},
        "redeem": {"reward": "cafe"},
        "enrol": {"first_name": "Zoé", "consents": {"email": True, "sms": False}, "birth_date": "1990-02-28"},
    }
    for type_, body in bodies.items():
        req = new_request(type_, "k1", "pcsc:04A1B2C3", body)
        parsed = parse_request(dumps(req.to_json()), "k1")
        assert parsed == req


def test_uuid7_is_version_7_and_time_ordered():
    a, b = uuid7(now_ms=1_700_000_000_000), uuid7(now_ms=1_700_000_000_001)
    assert uuid.UUID(a).version == 7 and uuid.UUID(a).variant == uuid.RFC_4122
    assert a < b


@pytest.mark.parametrize(
    ("raw", "code", "has_id"),
    [
        (b"\xff\xfe", ErrorCode.MALFORMED, False),
        (b"{not json", ErrorCode.MALFORMED, False),
        (b"[1,2]", ErrorCode.MALFORMED, False),
        (payload(id="nope"), ErrorCode.MALFORMED, False),
        (payload(v=2), ErrorCode.UNSUPPORTED_VERSION, True),
        (payload(v="1"), ErrorCode.MALFORMED, True),
        (payload(v=True), ErrorCode.MALFORMED, True),
        (payload(type="refund"), ErrorCode.MALFORMED, True),
        (payload(kiosk="k2"), ErrorCode.KIOSK_MISMATCH, True),
        (payload(card="04A1B2C3"), ErrorCode.MALFORMED, True),
        (payload(card="pcsc:04a1b2c3"), ErrorCode.MALFORMED, True),
        (payload(body=[]), ErrorCode.MALFORMED, True),
        (payload(type="purchase", body={"amount_cents": 0}), ErrorCode.MALFORMED, True),
        (payload(type="purchase", body={"amount_cents": 12.5}), ErrorCode.MALFORMED, True),
        (payload(type="purchase", body={"amount_cents": True}), ErrorCode.MALFORMED, True),
        (payload(type="redeem", body={}), ErrorCode.MALFORMED, True),
        (payload(type="enrol", body={"consents": {"email": True}}), ErrorCode.MALFORMED, True),
        (payload(type="enrol", body={"consents": {"email": 1, "sms": 0}}), ErrorCode.MALFORMED, True),
        (
            payload(
                type="enrol", body={"consents": {"email": True, "sms": True}, "birth_date": "1990-02-30"}
            ),
            ErrorCode.MALFORMED,
            True,
        ),
        (
            payload(type="enrol", body={"consents": {"email": True, "sms": True}, "email": "x"}),
            ErrorCode.MALFORMED,
            True,
        ),
        (payload(padding="x" * MAX_PAYLOAD_BYTES), ErrorCode.MALFORMED, True),
        (payload_ascii(sent_at="\ud800"), ErrorCode.MALFORMED, True),  # a lone surrogate no store can keep
        (
            payload(
                type="enrol", body={"consents": {"email": True, "sms": True}, "birth_date": "2020-W01-1"}
            ),
            ErrorCode.MALFORMED,
            True,
        ),
    ],
)
def test_bad_requests_get_a_code_and_the_id_when_readable(raw, code, has_id):
    with pytest.raises(ContractError) as info:
        parse_request(raw, "k1")
    assert info.value.code == code
    assert (info.value.request_id is not None) == has_id


def test_unknown_fields_are_ignored_for_forward_compatibility():
    data = json.loads(payload(extra={"x": 1}))
    data["body"] = {"future": True}
    assert parse_request(dumps(data), "k1").body == {}


def test_every_error_code_has_both_languages():
    for code in ErrorCode:
        fr, en = ERROR_TEXTS[code]
        assert fr and en and fr != en
        reply = error_reply("id", "2026-01-01T00:00:00.000000Z", code)
        assert reply["error"]["code"] == code.value and reply["error"]["fr"] == fr


def test_topics_and_request_topic_parsing():
    t = Topics("shop-1")
    assert t.request("k1") == "fidelio/v1/shop-1/kiosk/k1/request"
    assert parse_request_topic(t.request("k1"), "shop-1") == "k1"
    assert parse_request_topic(t.reply("k1"), "shop-1") is None
    assert parse_request_topic("fidelio/v1/other/kiosk/k1/request", "shop-1") is None
    assert parse_request_topic("fidelio/v1/shop-1/kiosk/K#/request", "shop-1") is None


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_fuzz_parse_never_raises_anything_but_contract_errors(raw):
    try:
        parse_request(raw, "k1")
    except ContractError as exc:
        assert exc.code in ErrorCode
