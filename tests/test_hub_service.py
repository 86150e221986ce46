"""The hub service through the real Mosquitto broker, as kiosks see it (TLS, per-kiosk users)."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

import pytest

from fidelio.contract import ContractError, ErrorCode, dumps, new_request, parse_request
from fidelio.mqttlink import publish_properties
from hub.app import check_hub
from tests.support import HubHarness, running_hub

PROGRAM = Path(__file__).parent / "programs" / "full.toml"
NO = {"email": False, "sms": False}


@pytest.fixture(scope="module")
def hub():
    with running_hub(PROGRAM) as harness:
        yield harness


def _retained(client, topic: str, timeout: float = 5) -> dict:
    got: dict = {}
    ready = threading.Event()

    def on_msg(_c, _u, msg):
        got.update(json.loads(msg.payload))
        ready.set()

    client.client.message_callback_add(topic, on_msg)
    client.client.subscribe(topic, qos=1)
    assert ready.wait(timeout), f"nothing retained on {topic}"
    client.client.message_callback_remove(topic)
    client.client.unsubscribe(topic)
    return got


def test_every_request_type_and_business_error_over_mqtt(hub: HubHarness):
    k = hub.kiosk("comptoir")
    card = "pcsc:04AA0001"
    assert k.request("tap", card)["error"]["code"] == "unknown_card"
    enrolled = k.request("enrol", card, {"first_name": "Inès", "consents": {"email": True, "sms": True}})
    assert enrolled["ok"] and enrolled["member"]["display_name"] == "Inès"
    assert k.request("enrol", card, {"consents": NO})["error"]["code"] == "already_enrolled"
    assert k.request("tap", card)["member"]["totals"]["visits"] == 1
    bought = k.request("purchase", card, {"amount_cents": 15_000})
    assert bought["ok"] and bought["member"]["totals"]["spend_cents"] == 15_000
    assert k.request("redeem", card, {"reward": "nope"})["error"]["code"] == "unknown_reward"
    assert k.request("redeem", card, {"reward": "vip"})["error"]["code"] == "reward_unavailable"
    assert bought["member"]["balances"]["cashback_cents"] == 300  # 2 % of 150 €
    kitty = [k.request("redeem", card, {"reward": "kitty"}) for _ in range(4)]
    assert [r["ok"] for r in kitty] == [True, True, True, False]
    assert kitty[3]["error"]["code"] == "insufficient_balance"
    voucher = k.request("redeem", card, {"reward": "bon-5"})["voucher"]
    assert len(voucher["code"].replace("-", "")) == 17
    referral = {"consents": NO, "referrer": "ZZZZZZZZ"}
    assert k.request("enrol", "pcsc:04AA00F1", referral)["error"]["code"] == "unknown_referrer"
    other = hub.kiosk("autre-borne")
    reused = new_request("tap", "comptoir", card)
    assert k.call(reused)["ok"]
    stolen = {**reused.to_json(), "kiosk": "autre-borne"}  # another kiosk replays comptoir's id
    assert _raw_call(other, stolen)["error"]["code"] == "duplicate_id"
    for err in (ErrorCode.UNSUPPORTED_VERSION, ErrorCode.KIOSK_MISMATCH, ErrorCode.MALFORMED):
        raw = new_request("tap", "comptoir", card).to_json()
        if err is ErrorCode.UNSUPPORTED_VERSION:
            raw["v"] = 2
        elif err is ErrorCode.KIOSK_MISMATCH:
            raw["kiosk"] = "autre"
        else:
            raw["body"] = "x"
        reply = _raw_call(k, raw)
        assert reply["ok"] is False and reply["error"]["code"] == err.value
        assert reply["error"]["fr"] and reply["error"]["en"]


def _raw_call(client, raw: dict | bytes, timeout: float = 5) -> dict:
    """Publish a raw payload as the kiosk and wait for the reply carrying its id."""
    rid = raw["id"] if isinstance(raw, dict) else json.loads(raw)["id"]
    payload = dumps(raw) if isinstance(raw, dict) else raw
    from kiosk.simple_client import _Pending

    pending = _Pending()
    with client._lock:
        client._pending[rid] = pending
    client.client.publish(
        client.topics.request(client.prov.kiosk), payload, qos=1, properties=publish_properties(rid)
    )
    assert pending.done.wait(timeout), "no reply"
    return pending.reply


def test_kiosk_clock_in_1970_or_2099_changes_nothing(hub: HubHarness):
    k = hub.kiosk("horloge")
    card = "pcsc:04AA0002"
    k.request("enrol", card, {"consents": NO})
    replies = []
    for sent_at in ("1970-01-01T00:00:00Z", "2099-12-31T23:59:59Z"):
        raw = new_request("purchase", "horloge", card, {"amount_cents": 1000}).to_json()
        raw["sent_at"] = sent_at
        replies.append(_raw_call(k, raw))
    assert all(r["ok"] for r in replies)
    assert replies[0]["at"][:4] == replies[1]["at"][:4] == time.strftime("%Y", time.gmtime())
    points = [r["member"]["balances"]["points"] for r in replies]
    assert points[1] - points[0] == 10  # the same purchase earns the same, whatever the kiosk's clock


def test_retained_status_and_program(hub: HubHarness):
    k = hub.kiosk("ecran")
    status = _retained(k, k.topics.hub_status)
    assert status["state"] == "online" and status["program_version"] >= 1
    program = _retained(k, k.topics.hub_program)
    assert {r["id"] for r in program["rewards"]} >= {"cafe", "bon-5", "vip"}
    cafe = next(r for r in program["rewards"] if r["id"] == "cafe")
    assert cafe["cost"] == {"stamps": 5} and cafe["name"]["fr"] == "Café offert"


def test_two_kiosks_race_600_redemptions_on_one_member(hub: HubHarness):
    a, b = hub.kiosk("race-a"), hub.kiosk("race-b")
    card = "pcsc:04AA0003"
    a.request("enrol", card, {"consents": NO})
    bought = a.request("purchase", card, {"amount_cents": 2_000_000})
    balance = bought["member"]["balances"]["points"]
    affordable = balance // 100
    assert 100 < affordable < 600, balance
    pendings = []
    for _i in range(300):
        for client in (a, b):
            pendings.append(client.send(new_request("redeem", client.prov.kiosk, card, {"reward": "bon-5"})))
    for p in pendings:
        assert p.done.wait(30), "a redemption stayed unanswered"
    ok = [p.reply for p in pendings if p.reply["ok"]]
    refused = [p.reply for p in pendings if not p.reply["ok"]]
    assert len(ok) == affordable
    assert {r["error"]["code"] for r in refused} == {"insufficient_balance"}
    assert min(r["member"]["balances"]["points"] for r in ok) == balance - 100 * affordable >= 0
    assert len({r["voucher"]["code"] for r in ok}) == affordable
    assert check_hub(hub.data) == []


def _fuzz_payloads(kiosk: str, n: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    types = ["tap", "enrol", "purchase", "redeem", "refund", None, 7]
    out = []
    for i in range(n):
        raw = new_request("tap", kiosk, f"pcsc:{rng.getrandbits(32):08X}").to_json()
        raw["type"] = rng.choice(types)
        choice = i % 12
        if choice == 0:
            raw["v"] = rng.choice([0, 2, 99, "1", None, 1.0, True])
        elif choice == 1:
            raw["kiosk"] = rng.choice(["other", "", 5, None])
        elif choice == 2:
            raw["body"] = rng.choice(
                [None, [], "x", {"amount_cents": -5}, {"amount_cents": 1e9}, {"reward": 3}]
            )
        elif choice == 3:
            raw["card"] = rng.choice(["", "pcsc:zz", "x" * 300, None, "PCSC:04AB"])
        elif choice == 4:
            data = dumps(raw)
            out.append(data[: rng.randrange(len(data))])
            continue
        elif choice == 5:
            data = bytearray(dumps(raw))
            for _ in range(rng.randint(1, 6)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            out.append(bytes(data))
            continue
        elif choice == 6:
            raw["pad"] = "é" * rng.randint(9000, 20000)  # over 16 KiB once encoded
        elif choice == 7:
            out.append(rng.randbytes(rng.randint(0, 64)))
            continue
        elif choice == 8:
            raw["body"] = {"consents": rng.choice([None, {}, {"email": "yes", "sms": True}])}
            raw["type"] = "enrol"
        elif choice == 9:
            out.append(b"\xff" + dumps(raw))
            continue
        elif choice == 10:
            out.append(json.dumps(raw).encode()[:-1] + b"}}}")
            continue
        out.append(dumps(raw))
    return out


def test_fuzzed_payloads_never_stop_the_hub_and_every_answer_is_explained(hub: HubHarness):
    k = hub.kiosk("fuzz")
    payloads = _fuzz_payloads("fuzz", 10_000)
    expected_answers = 0
    expected_codes: dict[str, str | None] = {}
    for p in payloads:
        try:
            req = parse_request(p, "fuzz")
            expected_answers += 1
            expected_codes[req.id] = None
        except ContractError as exc:
            if exc.request_id is not None:
                expected_answers += 1
                expected_codes[exc.request_id] = exc.code.value
    assert expected_answers > 5_000
    answers: list[dict] = []
    done = threading.Event()

    def on_reply(_c, _u, msg):
        answers.append(json.loads(msg.payload))
        if len(answers) >= expected_answers:
            done.set()

    k.client.message_callback_add(k.topics.reply("fuzz"), on_reply)
    for p in payloads:
        k.client.publish(k.topics.request("fuzz"), p, qos=1)
    assert done.wait(120), f"{len(answers)} answers of {expected_answers}"
    known = {c.value for c in ErrorCode}
    for a in answers:
        code = expected_codes[a["id"]]
        if code is None:  # a mutation that stayed valid: a business answer
            assert a["ok"] or a["error"]["code"] in known
        else:
            assert a["ok"] is False and a["error"]["code"] == code and a["error"]["fr"] and a["error"]["en"]
    k.client.message_callback_remove(k.topics.reply("fuzz"))
    assert hub.service is not None and hub.service._writer.is_alive()
    assert k.request("tap", "pcsc:04FFFFFF")["error"]["code"] == "unknown_card"  # still serving
    assert hub.service.counters["rejected_malformed"] > 1000
