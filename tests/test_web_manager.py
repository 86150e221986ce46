"""Manager actions in real Chromium against a real hub: adjust a balance, replace a lost card (checked
with a real kiosk over MQTT), merge two members; staff are refused; the ledger stays sound."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from hub.app import check_hub
from tests.web_browser import login, shot
from tests.web_harness import WebHub, points


def test_staff_get_403_for_every_manager_action(page: Page, hub: WebHub):
    code = hub.seed["camille"]["code"]  # type: ignore[attr-defined]
    login(page, "alice", f"/members/{code}")
    expect(page.locator("#manage")).to_have_count(0)
    csrf = page.locator("input[name=csrf]").first.input_value()
    request_id = page.locator("input[name=request_id]").first.input_value()
    forms = {
        "adjust": {"account": "points", "delta": "+500", "reason": "cadeau"},
        "card": {"old_card": hub.seed["camille"]["card"], "new_card": "pcsc:0BAD0BAD", "reason": "perdue"},  # type: ignore[attr-defined]
        "merge": {"other": hub.seed["camelia"]["code"], "reason": "doublon", "confirm": "yes"},  # type: ignore[attr-defined]
    }
    before = points(hub, code)
    for action, form in forms.items():
        refused = page.request.post(
            f"/members/{code}/{action}", form={**form, "csrf": csrf, "request_id": request_id}
        )
        assert refused.status == 403, action
        assert "réservée au rôle « responsable »" in refused.text()
    assert points(hub, code) == before
    with hub.db() as db:
        assert db.execute("SELECT COUNT(*) FROM events WHERE kiosk LIKE 'web:%'").fetchone() == (0,)


def test_a_manager_adjusts_a_balance_with_a_reason_never_below_zero(page: Page, hub: WebHub):
    code = hub.seed["camille"]["code"]  # type: ignore[attr-defined]
    before = points(hub, code)
    login(page, "marc", f"/members/{code}")
    page.select_option("#adjust-form select[name=account]", "points")
    page.fill("#adjust-form input[name=delta]", "+50")
    page.fill("#adjust-form input[name=reason]", "geste commercial, ticket T-9")
    page.click("#adjust-form button")
    expect(page.locator("#done")).to_have_text("Solde ajusté.")
    expect(page.locator("[data-balance=points]")).to_have_text(f"{before + 50} points")
    history = page.locator("#history tbody tr").first
    expect(history).to_contain_text("Ajustement")
    expect(history).to_contain_text("web:marc")
    expect(history).to_contain_text("+50 points (ajustement manuel)")
    expect(history).to_contain_text("geste commercial, ticket T-9")

    page.fill("#adjust-form input[name=delta]", f"-{before + 51}")
    page.fill("#adjust-form input[name=reason]", "erreur de saisie")
    page.click("#adjust-form button")
    expect(page.locator("#error")).to_have_text("Refusé : le solde deviendrait négatif.")
    shot(page, "manager-adjust-refused")
    assert points(hub, code) == before + 50
    page.fill("#adjust-form input[name=delta]", "+5")
    page.fill("#adjust-form input[name=reason]", "")
    page.evaluate("document.querySelector('#adjust-form input[name=reason]').removeAttribute('required')")
    page.click("#adjust-form button")
    expect(page.locator("#error")).to_contain_text("Indiquez la raison")
    with hub.db() as db:
        rows = db.execute(
            "SELECT p.delta, p.rule, e.kiosk, e.type FROM postings p JOIN events e ON e.seq = p.event_seq "
            "WHERE p.rule = 'manual_adjustment'"
        ).fetchall()
        audited = db.execute("SELECT actor, detail FROM audit_log WHERE action = 'member.adjust'").fetchall()
    assert rows == [(50, "manual_adjustment", "web:marc", "adjust")]
    assert len(audited) == 1 and '"reason": "geste commercial, ticket T-9"' in audited[0][1]
    assert check_hub(hub.data) == []


def test_a_replaced_card_stops_working_at_a_kiosk_and_the_new_one_carries_the_balance(
    page: Page, hub: WebHub
):
    camille = hub.seed["camille"]  # type: ignore[attr-defined]
    kiosk = hub.harness.kiosk("borne-cartes")
    balance = kiosk.request("tap", camille["card"])["member"]["balances"]["points"]
    login(page, "marc", f"/members/{camille['code']}")
    page.select_option("#card-form select[name=old_card]", camille["card"])
    page.fill("#card-form input[name=new_card]", "pcsc:04ca0099")
    page.fill("#card-form input[name=reason]", "carte perdue")
    page.click("#card-form button")
    expect(page.locator("#done")).to_contain_text("Carte remplacée")
    expect(page.locator(".facts")).to_contain_text("pcsc:04CA0099")
    expect(page.locator(".facts")).not_to_contain_text(camille["card"])
    shot(page, "manager-card-replaced")

    old = kiosk.request("tap", camille["card"])
    assert old["ok"] is False and old["error"]["code"] == "unknown_card"
    new = kiosk.request("tap", "pcsc:04CA0099")
    assert new["ok"] and new["member"]["code"] == camille["code"]
    assert new["member"]["balances"]["points"] >= balance  # the same member, her balance with her
    camille["card"] = "pcsc:04CA0099"
    assert check_hub(hub.data) == []


def test_merging_two_members_sums_their_postings_into_the_kept_one(page: Page, hub: WebHub):
    kiosk = hub.harness.kiosk("borne-fusion")
    kept = kiosk.request(
        "enrol", "pcsc:0D000001", {"first_name": "Paul", "consents": {"email": False, "sms": False}}
    )
    other = kiosk.request(
        "enrol", "pcsc:0D000002", {"first_name": "Paul", "consents": {"email": False, "sms": False}}
    )
    assert kiosk.request("purchase", "pcsc:0D000001", {"amount_cents": 2_000})["ok"]
    assert kiosk.request("purchase", "pcsc:0D000002", {"amount_cents": 3_500})["ok"]
    kept_code, other_code = kept["member"]["code"], other["member"]["code"]
    with hub.db() as db:
        cols = "points, stamps, cashback_cents, spend_cents, visits, purchases"
        a = db.execute(f"SELECT {cols} FROM members WHERE code = ?", (kept_code,)).fetchone()
        b = db.execute(f"SELECT {cols} FROM members WHERE code = ?", (other_code,)).fetchone()

    login(page, "marc", f"/members/{kept_code}")
    page.fill("#merge-form input[name=other]", other_code.lower())
    page.fill("#merge-form input[name=reason]", "deux cartes pour la même personne")
    page.check("#merge-form input[name=confirm]")
    page.click("#merge-form button")
    expect(page.locator("#done")).to_have_text("Membres fusionnés.")
    expect(page.locator("#history tbody tr").first).to_contain_text("Fusion")
    expect(page.locator(".facts")).to_contain_text("pcsc:0D000002")
    shot(page, "manager-merged")
    with hub.db() as db:
        merged = db.execute(f"SELECT {cols} FROM members WHERE code = ?", (kept_code,)).fetchone()
        gone = db.execute(
            f"SELECT {cols}, merged_into IS NOT NULL FROM members WHERE code = ?", (other_code,)
        ).fetchone()
    assert merged == tuple(x + y for x, y in zip(a, b, strict=True))
    assert gone == (0, 0, 0, 0, 0, 0, 1)
    assert check_hub(hub.data) == []

    page.goto(f"/members/{other_code}")
    expect(page.locator("#gone")).to_have_attribute("data-state", "merged")
    page.click(f"#gone a:has-text('{kept_code}')")
    expect(page.locator("h1")).to_contain_text(kept_code)
    page.goto(f"/members?q={other_code}")
    expect(page.locator("#hits")).to_have_count(0)
    tapped = kiosk.request("tap", "pcsc:0D000002")  # the other card now opens the kept member
    assert tapped["ok"] and tapped["member"]["code"] == kept_code

    page.goto(f"/members/{kept_code}")
    page.click("text=English")
    expect(page.locator("#manage h2")).to_have_text("Management (manager)")
    expect(page.locator("#history tbody tr").nth(1)).to_contain_text("Merge")
    shot(page, "manager-en")
