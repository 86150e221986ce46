"""The staff pages in real Chromium against a real hub (broker, hub service, its single writer, web).

Members are made by a real kiosk over MQTT; the tests then work as staff would, through the browser.
Screenshots go to test-artifacts/web/.
"""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from hub.codes import new_voucher_code
from tests.web_browser import french_page, login, shot
from tests.web_harness import PASSWORDS, WebHub


@pytest.fixture
def page(browser: Browser, hub: WebHub):
    with french_page(browser, hub.url, width=1200, height=800) as page:
        yield page


def test_login_refuses_a_wrong_password_then_lets_the_right_one_in(page: Page, hub: WebHub):
    page.goto("/members")  # not logged in: the login form, which comes back here afterwards
    expect(page).to_have_url(re.compile(r"/login\?next=/members$"))
    expect(page.locator("h1")).to_have_text("Connexion")
    page.fill("input[name=name]", "alice")
    page.fill("input[name=password]", "not-her-password")
    page.click("button[type=submit]")
    expect(page.locator(".notice.bad")).to_have_text("Identifiant ou mot de passe incorrect.")
    shot(page, "login-refused")
    page.fill("input[name=password]", PASSWORDS["alice"])
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/members$"))
    expect(page.locator(".who .user")).to_contain_text("alice")
    session = next(c for c in page.context.cookies() if c["name"] == "fidelio-session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    with hub.db() as db:
        actions = [
            r[0] for r in db.execute("SELECT action FROM audit_log WHERE target = 'alice' ORDER BY seq")
        ]
    assert actions[-2:] == ["login.failed", "login.ok"]
    page.click("text=Se déconnecter")
    expect(page.locator(".notice")).to_have_text("Vous êtes déconnecté.")
    page.goto("/till")  # the session is over on the hub, not only in the browser
    expect(page).to_have_url(re.compile(r"/login"))


def test_search_finds_members_by_name_phone_email_card_and_code(page: Page, hub: WebHub):
    seed = hub.seed  # type: ignore[attr-defined]
    login(page, "alice", "/members", exact=True)

    def search(q: str) -> list[str]:
        page.fill("input[name=q]", q)
        page.press("input[name=q]", "Enter")
        page.wait_for_load_state()
        return page.locator("#hits tbody tr td:nth-child(2)").all_inner_texts()

    assert sorted(search("cam")) == ["Camille", "Camélia"]  # a prefix, accents and case ignored
    shot(page, "search-name")
    assert search("ELO") == ["Éloïse"]
    assert search("07 88 99") == ["Éloïse"]  # typed nationally, stored as +33 7 88 …
    assert search("camille@ex") == ["Camille"]
    assert search(seed["camelia"]["card"].lower()) == ["Camélia"]
    assert search(seed["eloise"]["code"]) == ["Éloïse"]
    assert search("zzzz-nobody") == []
    expect(page.locator(".notice")).to_contain_text("Aucun membre")


def test_member_page_shows_balances_tier_and_why_every_movement(page: Page, hub: WebHub):
    seed = hub.seed  # type: ignore[attr-defined]
    login(page, "alice", "/members", exact=True)
    page.fill("input[name=q]", "Camille")
    page.press("input[name=q]", "Enter")
    page.click(f"text={seed['camille']['code']}")
    expect(page.locator("h1")).to_contain_text("Camille")
    expect(page.locator("[data-balance=points]")).to_have_text("60 points")
    expect(page.locator("#tier")).to_have_text("Bronze")
    expect(page.locator(".tile.tier")).to_contain_text("Plus que 30,00 € pour le niveau Argent")
    history = page.locator("#history")
    expect(history).to_contain_text("Achat 120,00 €")
    expect(history).to_contain_text("+120 points (points de l'achat)")
    expect(history).to_contain_text("+30 points (bonus premier achat)")
    expect(history).to_contain_text("-80 points (échange : Bon de 5 €)")
    expect(history).to_contain_text("borne comptoir")
    expect(history).to_contain_text("+10 points (merci de votre inscription à la newsletter)")
    expect(page.locator(".card", has_text="Consentements")).to_contain_text("accepté le")
    shot(page, "member-page")


def test_voucher_at_the_till_good_then_used_forged_mistyped_expired(page: Page, hub: WebHub):
    seed = hub.seed  # type: ignore[attr-defined]
    login(page, "alice", "/till", exact=True)
    # A USB scanner types the code then Enter into the focused field.
    page.keyboard.type(seed["camille"]["voucher"].lower() + "\n")
    result = page.locator("#result")
    expect(result).to_have_attribute("data-status", "valid")
    expect(result).to_contain_text("Bon de 5 €")
    expect(result).to_contain_text("5,00 € de remise")
    shot(page, "till-valid")
    page.click("#use")
    expect(result).to_have_attribute("data-status", "done")
    expect(result).to_contain_text("Bon utilisé")
    expect(result).to_contain_text("par staff:alice")
    shot(page, "till-used-now")
    with hub.db() as db:
        used_by = db.execute(
            "SELECT used_by FROM vouchers WHERE code = ?", (seed["camille"]["voucher"],)
        ).fetchone()
        audited = db.execute(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'voucher.use' AND actor = 'staff:alice'"
        ).fetchone()
    assert used_by == ("staff:alice",) and audited == (1,)

    page.keyboard.type(seed["camille"]["voucher"] + "\n")  # the same voucher again
    expect(result).to_have_attribute("data-status", "used")
    expect(result).to_contain_text("Ce bon a déjà été utilisé.")
    expect(page.locator("#use")).to_have_count(0)
    shot(page, "till-already-used")

    page.fill("#code", new_voucher_code(os.urandom(10)))  # right shape and check character, never issued
    page.press("#code", "Enter")
    expect(result).to_have_attribute("data-status", "unknown")
    expect(result).to_contain_text("bon contrefait")
    shot(page, "till-forged")

    code = seed["camille"]["voucher2"]
    mistyped = code[:-3] + ("0" if code[-3] != "0" else "1") + code[-2:]
    page.fill("#code", mistyped)
    page.press("#code", "Enter")
    expect(result).to_have_attribute("data-status", "mistyped")
    expect(result).to_contain_text("caractère de contrôle")

    expired = new_voucher_code(os.urandom(10))
    hub.insert_expired_voucher(seed["camille"]["code"], expired)
    page.fill("#code", expired)
    page.press("#code", "Enter")
    expect(result).to_have_attribute("data-status", "expired")
    expect(result).to_contain_text("Ce bon a expiré.")
    expect(page.locator("#use")).to_have_count(0)
    shot(page, "till-expired")


def test_staff_cannot_reach_a_manager_page_and_a_manager_can(page: Page, hub: WebHub):
    login(page, "alice", "/till", exact=True)
    expect(page.locator("nav")).not_to_contain_text("Journal")
    response = page.goto("/audit")
    assert response is not None and response.status == 403
    expect(page.locator(".notice.bad")).to_contain_text("réservée au rôle « responsable »")
    shot(page, "forbidden")
    page.context.clear_cookies()
    login(page, "marc", "/audit", exact=True)
    expect(page.locator("#audit")).to_contain_text("voucher.use")
    expect(page.locator("#audit")).to_contain_text("127.0.0.1")
    shot(page, "audit-log")


def test_a_form_post_without_its_csrf_token_is_refused(page: Page, hub: WebHub):
    seed = hub.seed  # type: ignore[attr-defined]
    login(page, "alice", "/till", exact=True)
    code = seed["camille"]["voucher2"]
    # The session cookie is sent (same browser), but not the page's token: what a forged form does.
    for form in ({"code": code}, {"code": code, "csrf": "forged-token"}):
        refused = page.request.post("/till/use", form=form, max_redirects=0)
        assert refused.status == 403 and "jeton CSRF" in refused.text()
    with hub.db() as db:
        assert db.execute("SELECT used_at FROM vouchers WHERE code = ?", (code,)).fetchone() == (None,)
    login_refused = page.request.post("/login", form={"name": "alice", "password": PASSWORDS["alice"]})
    assert login_refused.status == 403  # the login form has its own token too


def test_purchase_from_the_member_page_is_recorded_once_even_if_sent_twice(page: Page, hub: WebHub):
    seed = hub.seed  # type: ignore[attr-defined]
    code = seed["camelia"]["code"]
    login(page, "alice", f"/members/{code}", exact=True)
    form = {
        "amount": "12,50",
        "receipt": "T-77",
        "csrf": page.locator("form[action$=purchase] input[name=csrf]").input_value(),
        "request_id": page.locator("input[name=request_id]").input_value(),
    }
    page.fill("input[name=amount]", "12,50")
    page.fill("input[name=receipt]", "T-77")
    page.click("form[action$=purchase] button")
    expect(page.locator(".notice.good")).to_have_text("Achat de 12,50 € enregistré.")
    again = page.request.post(f"/members/{code}/purchase", form=form)  # the same form sent a second time
    assert again.ok
    page.reload()
    expect(page.locator("#history")).to_contain_text("web:alice")
    expect(page.locator("#history")).to_contain_text("+12 points (points de l'achat)")
    shot(page, "member-purchase")
    with hub.db() as db:
        rows = db.execute("SELECT kiosk, body FROM events WHERE id = ?", (form["request_id"],)).fetchall()
        spend = db.execute("SELECT spend_cents FROM members WHERE code = ?", (code,)).fetchone()
    assert rows == [("web:alice", '{"amount_cents": 1250, "receipt": "T-77"}')] and spend == (1250,)


def test_every_page_switches_to_english_and_stays(page: Page, hub: WebHub):
    seed = hub.seed  # type: ignore[attr-defined]
    login(page, "alice", f"/members/{seed['camille']['code']}", exact=True)
    page.click("text=English")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#history")).to_contain_text("Purchase 120.00 €")
    expect(page.locator("#history")).to_contain_text("+30 points (first purchase bonus)")
    expect(page.locator(".tile.tier")).to_contain_text("30.00 € more for the Silver tier")
    shot(page, "member-page-en")
    page.goto("/till")
    expect(page.locator("h1")).to_have_text("Voucher at the till")
    page.keyboard.type(new_voucher_code(os.urandom(10)) + "\n")
    expect(page.locator("#result")).to_contain_text("No voucher has this code (forged?).")
    shot(page, "till-forged-en")
    page.click("text=Français")
    expect(page.locator("h1")).to_have_text("Bon d'achat à la caisse")
