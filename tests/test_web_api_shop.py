"""The HTTP API for a web shop against a real hub: earn (a purchase for a member by code, once per
Idempotency-Key) and burn (a reward redeemed for a member: the balance pays, a voucher is issued, valid at
the till and over the API), through the same ledger code as the kiosks' MQTT requests; scopes enforced."""

from __future__ import annotations

import httpx
import pytest

from hub.app import check_hub
from tests.web_harness import WebHub, running_web_hub, seed_members


@pytest.fixture(scope="module")
def hub():
    with running_web_hub() as web_hub:
        web_hub.seed = seed_members(web_hub)  # type: ignore[attr-defined]
        web_hub.add_key("boutique-en-ligne", ["lookup", "purchase", "redeem", "vouchers"])
        web_hub.add_key("caisse", ["lookup", "purchase", "vouchers"])
        yield web_hub


def client(hub: WebHub, key: str) -> httpx.Client:
    return httpx.Client(base_url=f"{hub.url}/api/v1", headers={"Authorization": f"Bearer {hub.keys[key]}"},
                        timeout=20)  # fmt: skip


def balance(hub: WebHub, code: str) -> int:
    with hub.db() as db:
        return db.execute("SELECT points FROM members WHERE code = ?", (code,)).fetchone()[0]


def test_earn_then_burn_for_a_member_by_code(hub: WebHub):
    code = hub.seed["eloise"]["code"]  # type: ignore[attr-defined]
    with client(hub, "boutique-en-ligne") as shop:
        rewards = shop.get("/rewards").json()
        bon = next(r for r in rewards if r["id"] == "bon-5")
        assert bon["cost"] == {"points": 80} and bon["name"]["fr"] == "Bon de 5 €"
        earned = shop.post("/purchases", json={"amount_cents": 15_000, "member": code},
                           headers={"Idempotency-Key": "commande-77"})  # fmt: skip
        assert earned.status_code == 201, earned.text
        points = earned.json()["member"]["balances"]["points"]
        assert points >= 150 and balance(hub, code) == points

        first = shop.post(f"/members/{code}/redeem", json={"reward": "bon-5"},
                          headers={"Idempotency-Key": "panier-77-bon"})  # fmt: skip
        again = shop.post(f"/members/{code}/redeem", json={"reward": "bon-5"},
                          headers={"Idempotency-Key": "panier-77-bon"})  # fmt: skip
        assert first.status_code == again.status_code == 201, first.text
        assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
        out = first.json()
        assert out["member"]["balances"]["points"] == points - 80 == balance(hub, code)
        voucher = out["voucher"]
        assert voucher["reward"] == "bon-5" and voucher["value"] == {
            "kind": "amount_off",
            "amount_cents": 500,
        }
        checked = shop.get(f"/vouchers/{voucher['code']}").json()
        assert checked["status"] == "valid" and checked["member"] == code

        reused = shop.post(f"/members/{code}/redeem", json={"reward": "cafe-offert"},
                           headers={"Idempotency-Key": "panier-77-bon"})  # fmt: skip
        assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    with hub.db() as db:
        events = db.execute("SELECT kiosk, type, ok FROM events WHERE id = ?", (out["id"],)).fetchall()
        postings = db.execute(
            "SELECT p.account, p.delta, p.rule FROM postings p JOIN events e ON e.seq = p.event_seq "
            "WHERE e.id = ?",
            (out["id"],),
        ).fetchall()
    assert events == [("api:boutique-en-ligne", "redeem", 1)]
    assert ("points", -80) in [(a, d) for a, d, _ in postings]
    assert check_hub(hub.data) == []


def test_burn_refusals_say_why_and_change_nothing(hub: WebHub):
    code = hub.seed["camelia"]["code"]  # type: ignore[attr-defined]
    before = balance(hub, code)
    with client(hub, "boutique-en-ligne") as shop:
        poor = shop.post(f"/members/{code}/redeem", json={"reward": "remise-10"},
                         headers={"Idempotency-Key": "pauvre-1"})  # fmt: skip
        unknown = shop.post(f"/members/{code}/redeem", json={"reward": "yacht"},
                            headers={"Idempotency-Key": "yacht-1"})  # fmt: skip
        ghost = shop.post("/members/ZZZZZZZZ/redeem", json={"reward": "bon-5"},
                          headers={"Idempotency-Key": "fantome-1"})  # fmt: skip
        no_key = shop.post(f"/members/{code}/redeem", json={"reward": "bon-5"})
    assert poor.status_code == 409 and poor.json()["error"]["code"] == "insufficient_balance"
    assert poor.json()["error"]["fr"] and poor.json()["error"]["en"]
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_reward"
    assert ghost.status_code == 404 and ghost.json()["error"]["code"] == "unknown_member"
    assert no_key.status_code == 422 and no_key.json()["error"]["code"] == "malformed"
    assert balance(hub, code) == before


def test_a_key_without_the_redeem_scope_cannot_burn(hub: WebHub):
    code = hub.seed["camille"]["code"]  # type: ignore[attr-defined]
    before = balance(hub, code)
    with client(hub, "caisse") as pos:
        r = pos.post(f"/members/{code}/redeem", json={"reward": "cafe-offert"},
                     headers={"Idempotency-Key": "interdit-1"})  # fmt: skip
    assert (
        r.status_code == 403
        and r.json()["error"]["code"] == "forbidden"
        and "redeem" in r.json()["error"]["en"]
    )
    assert balance(hub, code) == before
