"""Requests and replies of the wire contract: parsing, validation and serialisation (DESIGN §3)."""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fidelio.contract.errors import ErrorCode, error_text

PROTOCOL_VERSION = 1
MAX_PAYLOAD_BYTES = 16 * 1024
#: Beyond this we do not even try to read the id of an oversize message.
_MAX_PARSE_BYTES = 1024 * 1024
REQUEST_TYPES = ("tap", "enrol", "purchase", "redeem")
MAX_AMOUNT_CENTS = 100_000_000  # one million euros: anything above is a typing error

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_CARD = re.compile(r"^[a-z][a-z0-9]{1,11}:(?:[0-9A-F]{2}){2,32}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 .-]{5,20}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class ContractError(Exception):
    """A request that breaks the contract. `request_id` is set when the id could be read."""

    def __init__(self, code: ErrorCode, detail: str, request_id: str | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.request_id = request_id


@dataclass(frozen=True)
class Request:
    v: int
    id: str
    type: str
    kiosk: str
    card: str
    sent_at: str | None
    body: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "v": self.v,
            "id": self.id,
            "type": self.type,
            "kiosk": self.kiosk,
            "card": self.card,
        }
        if self.sent_at is not None:
            out["sent_at"] = self.sent_at
        out["body"] = self.body
        return out


def uuid7(now_ms: int | None = None, rand: bytes | None = None) -> str:
    """A time-ordered UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then 74 random bits."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    rnd = int.from_bytes(os.urandom(10) if rand is None else rand, "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rnd >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rnd & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def new_request(
    type_: str, kiosk: str, card: str, body: dict[str, Any] | None = None, sent_at: str | None = None
) -> Request:
    return Request(PROTOCOL_VERSION, uuid7(), type_, kiosk, card, sent_at, dict(body or {}))


def dumps(obj: Any) -> bytes:
    """The one serialisation used on the wire: compact UTF-8 JSON."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def ok_reply(
    request_id: str,
    at: str,
    member: dict[str, Any],
    effects: list[dict[str, Any]],
    voucher: dict[str, Any] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "v": PROTOCOL_VERSION,
        "id": request_id,
        "ok": True,
        "at": at,
        "member": member,
        "effects": effects,
    }
    if voucher is not None:
        out["voucher"] = voucher
    return out


def error_reply(
    request_id: str | None,
    at: str,
    code: ErrorCode,
    detail: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    err: dict[str, Any] = {"code": str(code), **error_text(code)}
    if detail:
        err["detail"] = detail
    if extra:
        err.update(extra)
    return {"v": PROTOCOL_VERSION, "id": request_id, "ok": False, "at": at, "error": err}


def _fail(code: ErrorCode, detail: str, rid: str | None) -> ContractError:
    return ContractError(code, detail, rid)


def _opt_str(body: dict[str, Any], key: str, max_len: int, rid: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise _fail(ErrorCode.MALFORMED, f"body.{key} must be a string of at most {max_len} characters", rid)
    value = value.strip()
    return value or None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _validate_body(type_: str, body: dict[str, Any], rid: str) -> dict[str, Any]:
    """The body of each request type, normalised. Unknown body fields are ignored (forward compatible)."""
    if type_ == "tap":
        return {}
    if type_ == "purchase":
        amount = body.get("amount_cents")
        if not _is_int(amount) or not 0 < amount <= MAX_AMOUNT_CENTS:
            raise _fail(ErrorCode.MALFORMED, "body.amount_cents must be an integer > 0 (cents)", rid)
        out: dict[str, Any] = {"amount_cents": amount}
        receipt = _opt_str(body, "receipt", 64, rid)
        if receipt is not None:
            out["receipt"] = receipt
        return out
    if type_ == "redeem":
        reward = body.get("reward")
        if not isinstance(reward, str) or not 0 < len(reward) <= 64:
            raise _fail(ErrorCode.MALFORMED, "body.reward must be a reward id from the catalogue", rid)
        return {"reward": reward}
    # enrol
    out = {}
    first_name = _opt_str(body, "first_name", 50, rid)
    if first_name is not None:
        out["first_name"] = first_name
    email = _opt_str(body, "email", 254, rid)
    if email is not None:
        if not _EMAIL.match(email):
            raise _fail(ErrorCode.MALFORMED, "body.email is not an e-mail address", rid)
        out["email"] = email.lower()
    phone = _opt_str(body, "phone", 32, rid)
    if phone is not None:
        if not _PHONE.match(phone):
            raise _fail(ErrorCode.MALFORMED, "body.phone is not a phone number", rid)
        out["phone"] = phone
    birth = _opt_str(body, "birth_date", 10, rid)
    if birth is not None:
        try:
            born = date.fromisoformat(birth)
        except ValueError:
            born = None
        if born is None or not _DATE.match(birth) or born.year < 1900:
            raise _fail(ErrorCode.MALFORMED, "body.birth_date must be YYYY-MM-DD", rid)
        out["birth_date"] = birth
    consents = body.get("consents")
    if not isinstance(consents, dict) or not all(
        isinstance(consents.get(ch), bool) for ch in ("email", "sms")
    ):
        raise _fail(ErrorCode.MALFORMED, 'body.consents must be {"email": bool, "sms": bool}', rid)
    out["consents"] = {"email": consents["email"], "sms": consents["sms"]}
    referrer = _opt_str(body, "referrer", 32, rid)
    if referrer is not None:
        out["referrer"] = referrer.upper()
    return out


def validate_body(type_: str, body: dict[str, Any], request_id: str = "") -> dict[str, Any]:
    """The hub's own check of a request body, for a kiosk to refuse a bad field before sending it."""
    return _validate_body(type_, body, request_id)


def parse_request(payload: bytes, topic_kiosk: str) -> Request:
    """Parse and validate one request published on `kiosk/{topic_kiosk}/request`.

    Raises ContractError with the request id when it could be read, so the hub can answer it.
    """
    if len(payload) > _MAX_PARSE_BYTES:
        raise _fail(ErrorCode.MALFORMED, f"payload of {len(payload)} bytes is over {MAX_PAYLOAD_BYTES}", None)
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail(ErrorCode.MALFORMED, "payload is not valid UTF-8", None) from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise _fail(ErrorCode.MALFORMED, "payload is not JSON", None) from None
    if not isinstance(data, dict):
        raise _fail(ErrorCode.MALFORMED, "payload must be a JSON object", None)
    rid = data.get("id")
    if not isinstance(rid, str) or not _UUID.match(rid):
        raise _fail(ErrorCode.MALFORMED, "id must be a lower-case UUID", None)
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise _fail(ErrorCode.MALFORMED, f"payload of {len(payload)} bytes is over {MAX_PAYLOAD_BYTES}", rid)
    try:  # JSON escapes can smuggle lone surrogates ("\ud800") that no UTF-8 store can keep
        dumps(data)
    except UnicodeEncodeError:
        raise _fail(ErrorCode.MALFORMED, "text with an unpaired surrogate (\\uD800-\\uDFFF)", rid) from None
    v = data.get("v")
    if not _is_int(v):
        raise _fail(ErrorCode.MALFORMED, "v must be an integer", rid)
    if v != PROTOCOL_VERSION:
        raise _fail(ErrorCode.UNSUPPORTED_VERSION, f"v={v}; this hub speaks v={PROTOCOL_VERSION}", rid)
    type_ = data.get("type")
    if type_ not in REQUEST_TYPES:
        raise _fail(ErrorCode.MALFORMED, f"type must be one of {', '.join(REQUEST_TYPES)}", rid)
    kiosk = data.get("kiosk")
    if not isinstance(kiosk, str):
        raise _fail(ErrorCode.MALFORMED, "kiosk must be a string", rid)
    if kiosk != topic_kiosk:
        raise _fail(
            ErrorCode.KIOSK_MISMATCH, f"kiosk {kiosk!r} published on the topic of {topic_kiosk!r}", rid
        )
    card = data.get("card")
    if not isinstance(card, str) or not _CARD.match(card):
        raise _fail(ErrorCode.MALFORMED, "card must be '<reader kind>:<UID hex, upper case>'", rid)
    sent_at = data.get("sent_at")
    if sent_at is not None and (not isinstance(sent_at, str) or len(sent_at) > 64):
        raise _fail(ErrorCode.MALFORMED, "sent_at must be an ISO 8601 string", rid)
    body = data.get("body", {})
    if not isinstance(body, dict):
        raise _fail(ErrorCode.MALFORMED, "body must be a JSON object", rid)
    return Request(v, rid, type_, kiosk, card, sent_at, _validate_body(type_, body, rid))
