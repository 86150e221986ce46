"""The HTTP API /api/v1 against a real hub: scopes, idempotency, vouchers, errors, and schemathesis
exploring the OpenAPI document with 0 server errors."""

from __future__ import annotations

import os

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from hub.codes import new_voucher_code
from tests.web_harness import WebHub, running_web_hub, seed_members


@pytest.fixture(scope="module")
def hub():
    with running_web_hub() as web_hub:
        web_hub.seed = seed_members(web_hub)  # type: ignore[attr-defined]
        web_hub.add_key("pos", ["lookup", "purchase", "vouchers"])
        web_hub.add_key("kiosk-reader", ["lookup"])
        web_hub.add_key("fuzz", ["lookup", "purchase", "vouchers", "redeem"])
        yield web_hub


def client(hub: WebHub, key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {hub.keys[key]}"} if key else {}
    return httpx.Client(base_url=f"{hub.url}/api/v1", headers=headers, timeout=20)


def test_errors_are_json_in_french_and_english_with_stable_codes(hub: WebHub):
    with client(hub, None) as anonymous:
        r = anonymous.get("/members/lookup", params={"code": "AAAAAAAA"})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert r.json()["error"] == {"code": "unauthorized", "fr": "Clé d'API absente ou invalide.",
                                     "en": "Missing or invalid API key."}  # fmt: skip
    with client(hub, "pos") as pos:
        assert pos.get("/members/lookup").json()["error"]["code"] == "malformed"
        r = pos.get("/members/lookup", params={"card": "pcsc:0BADCAFE"})
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_card"
        assert pos.get("/nowhere").json()["error"]["code"] == "not_found"
        r = pos.post("/purchases", json={"amount_cents": -5}, headers={"Idempotency-Key": "neg"})
        assert r.status_code == 422 and r.json()["error"]["en"] == "The message is unreadable or incomplete."


def test_lookup_by_card_code_and_phone_gives_the_member_as_kiosks_see_it(hub: WebHub):
    seed = hub.seed  # type: ignore[attr-defined]
    with client(hub, "kiosk-reader") as c:
        by_card = c.get("/members/lookup", params={"card": seed["camille"]["card"]}).json()
        by_code = c.get("/members/lookup", params={"code": seed["camille"]["code"].lower()}).json()
        by_phone = c.get("/members/lookup", params={"phone": "+33 6 12 34 56 78"}).json()
    assert by_card == by_code == by_phone
    assert by_card["code"] == seed["camille"]["code"] and by_card["display_name"] == "Camille"
    assert by_card["balances"]["points"] >= 0 and by_card["tier"]["name"] == "Bronze"


def test_a_lookup_only_key_cannot_redeem_nor_buy(hub: WebHub):
    seed = hub.seed  # type: ignore[attr-defined]
    with client(hub, "kiosk-reader") as c:
        r = c.post(f"/vouchers/{seed['camille']['voucher2']}/redeem")
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        assert "vouchers" in r.json()["error"]["en"]
        r = c.post("/purchases", json={"amount_cents": 100}, headers={"Idempotency-Key": "x"})
        assert r.status_code == 403
    with hub.db() as db:
        assert db.execute(
            "SELECT used_at FROM vouchers WHERE code = ?", (seed["camille"]["voucher2"],)
        ).fetchone() == (None,)


def test_the_same_idempotency_key_twice_makes_one_purchase(hub: WebHub):
    seed = hub.seed  # type: ignore[attr-defined]
    body = {"amount_cents": 4250, "member": seed["eloise"]["code"], "receipt": "POS-1"}
    with client(hub, "pos") as c:
        first = c.post("/purchases", json=body, headers={"Idempotency-Key": "order-1001"})
        second = c.post("/purchases", json=body, headers={"Idempotency-Key": "order-1001"})
        other = c.post(
            "/purchases", json={**body, "amount_cents": 1}, headers={"Idempotency-Key": "order-1001"}
        )
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert first.json()["member"]["totals"]["spend_cents"] == 4250
    assert [e["kind"] for e in first.json()["effects"]][:1] == ["points"]
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    with hub.db() as db:
        events = db.execute("SELECT kiosk, type FROM events WHERE id = ?", (first.json()["id"],)).fetchall()
        spend = db.execute(
            "SELECT spend_cents FROM members WHERE code = ?", (seed["eloise"]["code"],)
        ).fetchone()
    assert events == [("api:pos", "purchase")] and spend == (4250,)


def test_anonymous_and_unknown_card_purchases_are_kept_for_the_kpis_and_earn_nothing(hub: WebHub):
    with client(hub, "pos") as c:
        anon = c.post("/purchases", json={"amount_cents": 990}, headers={"Idempotency-Key": "anon-1"}).json()
        card = c.post("/purchases", json={"amount_cents": 1500, "card": "pcsc:0A0B0C0D"},
                      headers={"Idempotency-Key": "card-1"}).json()  # fmt: skip
        ghost = c.post("/purchases", json={"amount_cents": 100, "member": "ZZZZZZZZ"},
                       headers={"Idempotency-Key": "ghost"})  # fmt: skip
    assert anon["member"] is None and anon["effects"] == []
    assert card["member"] is None and card["enrolment"]["offer"] is True
    assert ghost.status_code == 404 and ghost.json()["error"]["code"] == "unknown_member"
    with hub.db() as db:
        kept = db.execute("SELECT card, member_id, body FROM events WHERE id = ?", (anon["id"],)).fetchone()
        spent = db.execute("SELECT SUM(amount_cents) FROM card_spend WHERE card = 'pcsc:0A0B0C0D'").fetchone()
    assert kept == (None, None, '{"amount_cents": 990}') and spent == (1500,)


def test_check_then_redeem_a_voucher_once(hub: WebHub):
    seed = hub.seed  # type: ignore[attr-defined]
    code = seed["camille"]["voucher2"]
    with client(hub, "pos") as c:
        checked = c.get(f"/vouchers/{code.replace('-', '').lower()}")
        assert checked.status_code == 200 and checked.json()["status"] == "valid"
        assert checked.json()["name"] == {"fr": "Café offert", "en": "Free coffee"}
        redeemed = c.post(f"/vouchers/{code}/redeem")
        assert redeemed.status_code == 200 and redeemed.json()["status"] == "used"
        assert redeemed.json()["used_by"] == "api:pos"
        again = c.post(f"/vouchers/{code}/redeem")
        assert again.status_code == 409 and again.json()["error"]["code"] == "voucher_used"
        forged = c.get(f"/vouchers/{new_voucher_code(os.urandom(10))}")
        assert forged.status_code == 404 and forged.json()["error"]["code"] == "voucher_unknown"
        mistyped = c.get(f"/vouchers/{code[:-1]}{'0' if code[-1] != '0' else '1'}")
        assert mistyped.status_code == 422 and mistyped.json()["error"]["code"] == "voucher_mistyped"
    with hub.db() as db:
        assert db.execute("SELECT actor, action FROM audit_log WHERE target = ? AND action = 'voucher.use'",
                          (code,)).fetchall() == [("api:pos", "voucher.use"), ("api:pos", "voucher.use")]  # fmt: skip


def test_guessing_voucher_codes_is_throttled(hub: WebHub):
    hub.add_key("guesser", ["vouchers"])
    with client(hub, "guesser") as c:
        statuses = [c.get(f"/vouchers/{new_voucher_code(os.urandom(10))}").status_code for _ in range(7)]
        blocked = c.get(f"/vouchers/{new_voucher_code(os.urandom(10))}")
    assert statuses[:5] == [404] * 5 and 429 in statuses[5:]
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    assert blocked.json()["error"]["code"] == "throttled"


def test_the_openapi_document_describes_the_api(hub: WebHub):
    doc = httpx.get(f"{hub.url}/api/v1/openapi.json").json()
    assert set(doc["paths"]) == {
        "/members/lookup",
        "/members/{code}/redeem",
        "/rewards",
        "/purchases",
        "/vouchers/{code}",
        "/vouchers/{code}/redeem",
    }
    assert doc["servers"] == [{"url": "/api/v1"}]
    assert "HTTPBearer" in doc["components"]["securitySchemes"]
    params = {p["name"] for p in doc["paths"]["/purchases"]["post"]["parameters"]}
    assert "Idempotency-Key" in params


MAX_EXAMPLES = 40  # per operation and generation mode: bounded, a few seconds each


def test_schemathesis_finds_no_server_error_and_every_answer_matches_the_document(hub: WebHub):
    """Schemathesis generates requests from the OpenAPI document (valid and invalid ones) for every
    operation; every answer must be no 5xx, a documented status, the documented content type and body."""
    schema = schemathesis.openapi.from_url(f"{hub.url}/api/v1/openapi.json")
    auth = {"Authorization": f"Bearer {hub.keys['fuzz']}"}
    tried: dict[str, int] = {}
    for found in schema.get_all_operations():
        operation = found.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def explore(case) -> None:
            tried[case.operation.label] = tried.get(case.operation.label, 0) + 1
            case.call_and_validate(
                headers=auth,
                checks=[
                    checks.not_a_server_error,
                    checks.status_code_conformance,
                    checks.content_type_conformance,
                    checks.response_schema_conformance,
                ],
                timeout=20,
            )

        explore()
    assert len(tried) == 6 and min(tried.values()) >= 10, tried
