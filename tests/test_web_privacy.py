"""Privacy in real Chromium against a real hub: consent history, export (JSON download), erasure.

After an erasure no personal value of the member is left anywhere in the SQLite file or its WAL (raw
bytes, after a checkpoint), the ledger's totals are unchanged and `fidelio-hub check` passes.
"""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from playwright.sync_api import Browser, Page, expect

from hub.app import check_hub
from hub.config import HubPaths
from tests.web_browser import french_page, login, shot
from tests.web_harness import WebHub


@pytest.fixture
def page(browser: Browser, hub: WebHub):
    with french_page(browser, hub.url, accept_downloads=True) as page:
        yield page


def raw_ledger_bytes(hub: WebHub) -> bytes:
    """The database file and its WAL as bytes, after a checkpoint (what a disk image would show)."""
    ledger = HubPaths(hub.data).ledger
    conn = sqlite3.connect(str(ledger))
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    wal = ledger.with_name(ledger.name + "-wal")
    return ledger.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_consent_history_shows_every_change_with_time_policy_and_source(page: Page, hub: WebHub):
    seed = hub.seed  # type: ignore[attr-defined]
    code = seed["camille"]["code"]
    login(page, "alice", f"/members/{code}")  # staff may record what a member says at the counter
    expect(page.locator("#privacy")).to_have_count(0)  # the history and the privacy tools are managers'
    page.click("#consent-email")  # Camille withdraws her e-mail consent
    expect(page.locator("#done")).to_have_text("Consentement enregistré.")
    expect(page.locator(".consent[data-channel=email]")).to_contain_text("refusé le")
    page.context.clear_cookies()
    login(page, "marc", f"/members/{code}")
    rows = page.locator("#consent-history tbody tr")
    expect(rows).to_have_count(3)
    texts = rows.all_inner_texts()
    assert "E-mail\taccepté\tv1\tkiosk:comptoir" in texts[0]
    assert "SMS\trefusé ou retiré\tv1\tkiosk:comptoir" in texts[1]
    assert "E-mail\trefusé ou retiré\tv1\tweb:alice" in texts[2]
    assert re.match(r"\d\d/\d\d/\d{4} \d\d:\d\d", texts[2])
    shot(page, "privacy-consents")
    with hub.db() as db:
        audited = db.execute(
            "SELECT actor, detail FROM audit_log WHERE action = 'member.consent' AND target = ?", (code,)
        ).fetchall()
    assert audited == [("staff:alice", '{"channel": "email", "granted": false, "policy_version": "1"}')]


def test_staff_can_neither_export_nor_erase(page: Page, hub: WebHub):
    code = hub.seed["camelia"]["code"]  # type: ignore[attr-defined]
    login(page, "alice", f"/members/{code}")
    csrf = page.locator("input[name=csrf]").first.input_value()
    assert page.request.get(f"/members/{code}/export").status == 403
    refused = page.request.post(
        f"/members/{code}/erase", form={"reason": "test", "confirm": code, "csrf": csrf}
    )
    assert refused.status == 403
    with hub.db() as db:
        assert db.execute("SELECT first_name FROM members WHERE code = ?", (code,)).fetchone() == ("Camélia",)


def test_export_then_erase_leaves_no_personal_value_in_the_file_and_the_ledger_sound(page: Page, hub: WebHub):
    eloise = hub.seed["eloise"]  # type: ignore[attr-defined]
    code = eloise["code"]
    # what she gave, her search keys (folded name, phone in digits) and her card
    personal = [eloise["email"], eloise["phone"], "0788990011", eloise["first_name"], "eloise", eloise["card"],
                eloise["birth_date"]]  # fmt: skip
    before = raw_ledger_bytes(hub)
    assert all(value.encode() in before for value in personal)  # they were there
    with hub.db() as db:
        accounts = "points, stamps, cashback_cents, spend_cents, visits, purchases"
        totals_before = db.execute(f"SELECT {accounts} FROM members WHERE code = ?", (code,)).fetchone()
        postings_before = db.execute("SELECT COUNT(*), SUM(delta) FROM postings").fetchone()

    login(page, "marc", f"/members/{code}")
    with page.expect_download() as download:
        page.click("#export")
    exported = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert download.value.suggested_filename == f"fidelio-membre-{code}.json"
    assert exported["member"]["email"] == eloise["email"] and exported["member"]["first_name"] == "Éloïse"
    assert exported["cards"][0]["token"] == eloise["card"]
    assert {c["channel"] for c in exported["consents"]} == {"email", "sms"}
    assert [e["type"] for e in exported["events"]] == ["enrol"]
    assert sum(p["delta"] for p in exported["postings"] if p["account"] == "points") == totals_before[0]

    page.fill("#erase-form input[name=reason]", "demande de la personne, courrier du 3 mars")
    page.fill("#erase-form input[name=confirm]", "WRONGCOD")
    page.click("#erase-form button")
    expect(page.locator("#error")).to_contain_text("rien n'a été effacé")
    page.fill("#erase-form input[name=reason]", "demande de la personne, courrier du 3 mars")
    page.fill("#erase-form input[name=confirm]", code.lower())
    shot(page, "privacy-erase-form")
    page.click("#erase-form button")
    expect(page.locator("#gone")).to_have_attribute("data-state", "erased")
    expect(page.locator("h1")).to_contain_text("Membre effacé")
    shot(page, "privacy-erased")

    page.goto("/members?q=Élo")
    expect(page.locator(".notice")).to_contain_text("Aucun membre")
    for query in (code, eloise["email"], "07 88 99", eloise["card"]):
        page.goto(f"/members?q={query}")
        expect(page.locator("#hits")).to_have_count(0)

    after = raw_ledger_bytes(hub)
    left = [value for value in personal if value.encode() in after]
    assert left == [], f"personal values still in the ledger file: {left}"
    assert check_hub(hub.data) == []
    with hub.db() as db:
        assert (
            db.execute(f"SELECT {accounts} FROM members WHERE code = ?", (code,)).fetchone() == totals_before
        )
        assert db.execute("SELECT COUNT(*), SUM(delta) FROM postings").fetchone() == postings_before
        audit = db.execute(
            "SELECT actor, detail FROM audit_log WHERE action = 'member.erase' AND target = ?", (code,)
        ).fetchall()
        exports = db.execute("SELECT actor FROM audit_log WHERE action = 'member.export'").fetchall()
    assert exports == [("staff:marc",)]
    assert len(audit) == 1 and audit[0][0] == "staff:marc"
    assert json.loads(audit[0][1])["reason"] == "demande de la personne, courrier du 3 mars"
    # The card no longer belongs to anyone: at a kiosk it is an unknown card.
    reply = hub.harness.kiosk("borne-2").request("tap", eloise["card"])
    assert reply["ok"] is False and reply["error"]["code"] == "unknown_card"
