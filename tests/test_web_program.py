"""The program page in real Chromium against a real hub: the program in words, an edit with an error
shown at its line (nothing saved), a preview computed by the same pure program code, a valid edit saved as
a new version that the running hub applies at once (a kiosk's next purchase, the retained hub/program
message, program.toml); managers view and preview but cannot save."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from hub.app import check_hub
from hub.config import HubPaths
from hub.ledger.state import MEMBER_COLUMNS, load_member
from hub.program import load_program
from hub.web.program_preview import preview, sample_member
from tests.web_browser import login, shot
from tests.web_harness import WebHub


def retained_program(hub: WebHub) -> dict:
    kiosk = hub.harness.kiosk(f"ecran-{len(hub.harness.clients)}")
    got: dict = {}
    ready = threading.Event()

    def on_msg(_c, _u, msg):
        got.update(json.loads(msg.payload))
        ready.set()

    topic = kiosk.topics.hub_program
    kiosk.client.message_callback_add(topic, on_msg)
    kiosk.client.subscribe(topic, qos=1)
    assert ready.wait(5), "nothing retained on hub/program"
    kiosk.client.message_callback_remove(topic)
    kiosk.client.unsubscribe(topic)
    return dict(got)


def program_count(hub: WebHub) -> int:
    with hub.db() as db:
        return db.execute("SELECT COUNT(*) FROM programs").fetchone()[0]


def test_managers_see_the_program_in_words_and_cannot_save(page: Page, hub: WebHub):
    login(page, "marc", "/program")
    expect(page.locator("#rules")).to_contain_text("1 point par euro dépensé")
    expect(page.locator("#rewards")).to_contain_text("Bon de 5 €")
    expect(page.locator("textarea[name=toml]")).to_have_attribute("readonly", "")
    expect(page.locator("#save-button")).to_have_count(0)
    expect(page.locator("#versions tr.on")).to_contain_text("en vigueur")
    source = page.locator("textarea[name=toml]").input_value()
    csrf = page.locator("input[name=csrf]").first.input_value()
    changed = source.replace("per_euro = 1", "per_euro = 3")
    refused = page.request.post("/program", form={"toml": changed, "action": "save", "csrf": csrf})
    assert refused.status == 403
    previewed = page.request.post("/program", form={"toml": changed, "action": "preview", "csrf": csrf})
    assert previewed.status == 200 and "Programme modifié" in previewed.text()
    assert program_count(hub) == 1


def test_an_edit_with_an_error_shows_it_at_its_line_and_saves_nothing(page: Page, hub: WebHub):
    login(page, "ada", "/program")
    source = page.locator("textarea[name=toml]").input_value()
    broken = source.replace("per_euro = 1", 'per_euro = "beaucoup"', 1)
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "beaucoup" in text)
    page.fill("textarea[name=toml]", broken)
    page.click("#save-button")
    expect(page.locator("#error")).to_contain_text(f"ligne {line}")
    expect(page.locator("#error .issues li").first).to_have_attribute("data-line", str(line))
    bad = page.locator("#excerpt li.bad")
    expect(bad).to_have_count(1)
    expect(bad).to_have_attribute("data-line", str(line))
    expect(bad.locator("code")).to_have_text('per_euro = "beaucoup"')
    expect(bad.locator("p.issue")).to_be_visible()
    expect(page.locator("textarea[name=toml]")).to_have_value(broken)  # the edit is not lost
    shot(page, "program-error-at-line")
    page.click("a.lang")
    page.goto("/program")
    page.fill("textarea[name=toml]", broken)
    page.click("#save-button")
    expect(page.locator("#error")).to_contain_text(f"line {line}")
    assert program_count(hub) == 1


def test_a_valid_edit_is_previewed_then_becomes_the_new_version_in_force(page: Page, hub: WebHub):
    camille = hub.seed["camille"]  # type: ignore[attr-defined]
    before = retained_program(hub)
    login(page, "ada", "/program")
    source = page.locator("textarea[name=toml]").input_value()
    edited = source.replace("per_euro = 1", "per_euro = 3", 1).replace(
        'name = "Boutique de démonstration"', 'name = "Boutique du test"', 1
    )
    assert edited.count("per_euro = 3") == 1 and "Boutique du test" in edited
    page.fill("textarea[name=toml]", edited)
    page.click("#preview-button")
    now = datetime.now(UTC)
    current = preview(load_program(source), sample_member(now), now)
    expected = preview(load_program(edited), sample_member(now), now)
    assert expected.purchase.changes["points"] > current.purchase.changes["points"]
    row = page.locator("#preview-table tr[data-event=purchase]")
    expect(row.locator("td.current [data-account=points]")).to_have_text(
        f"+{current.purchase.changes['points']} points"
    )
    expect(row.locator("td.candidate [data-account=points]")).to_have_text(
        f"+{expected.purchase.changes['points']} points"
    )
    shot(page, "program-preview")
    assert program_count(hub) == 1

    page.click("#save-button")
    expect(page.locator("#done")).to_have_text(
        "Nouveau programme enregistré (version 2), appliqué dès maintenant."
    )
    expect(page.locator("#versions tr.on")).to_have_attribute("data-version", "2")
    expect(page.locator("#rules")).to_contain_text("3 points par euro dépensé")
    shot(page, "program-saved")
    assert HubPaths(hub.data).program.read_text(encoding="utf-8") == edited
    with hub.db() as db:
        stored = db.execute("SELECT version, text FROM programs ORDER BY version").fetchall()
        audited = db.execute("SELECT detail FROM audit_log WHERE action = 'program.save'").fetchall()
    assert [v for v, _ in stored] == [1, 2] and stored[1][1] == edited
    assert len(audited) == 1 and '"version": 2' in audited[0][0]

    after = retained_program(hub)
    assert before["shop"] == "Boutique de démonstration" and after["shop"] == "Boutique du test"
    assert after["version"] == 2 and after["sha256"] != before["sha256"]

    kiosk = hub.harness.kiosk("borne-programme")
    bought = kiosk.request("purchase", camille["card"], {"amount_cents": 1000, "receipt": "T-PROG"})
    assert bought["ok"], bought
    with hub.db() as db:
        made = db.execute(
            "SELECT p.delta, p.program_version FROM postings p JOIN events e ON e.seq = p.event_seq "
            "WHERE e.id = ? AND p.account = 'points'",
            (bought["id"],),
        ).fetchall()
        older = db.execute("SELECT COUNT(*) FROM postings WHERE program_version = 1").fetchone()[0]
    assert made and all(version == 2 for _, version in made)
    assert sum(delta for delta, _ in made) >= 30  # 10 € at 3 points per euro (multipliers only add)
    assert older > 0  # past postings keep the version that made them
    assert check_hub(hub.data) == []

    page.goto("/program?version=1")
    expect(page.locator("textarea[name=toml]")).to_have_value(source)
    page.click("#save-button")  # back to the first text: the ledger knows it by its sha256
    expect(page.locator("#versions tr.on")).to_have_attribute("data-version", "1")
    assert program_count(hub) == 2


def test_the_preview_on_a_real_member_uses_their_state_in_the_ledger(page: Page, hub: WebHub):
    camille = hub.seed["camille"]  # type: ignore[attr-defined]
    login(page, "marc", "/program")
    source = page.locator("textarea[name=toml]").input_value()
    csrf = page.locator("input[name=csrf]").first.input_value()
    edited = source.replace("per_euro = 1", "per_euro = 4", 1)
    page.evaluate("document.querySelector('textarea[name=toml]').removeAttribute('readonly')")
    page.fill("textarea[name=toml]", edited)
    page.fill("input[name=member]", camille["code"].lower())
    page.click("#preview-button")
    now = datetime.now(UTC)
    with hub.db() as db:
        cur = db.cursor()
        row = cur.execute(
            f"SELECT {MEMBER_COLUMNS} FROM members WHERE code = ?", (camille["code"],)
        ).fetchone()
        expected = {
            name: preview(program, load_member(cur, row, program, now).state, now).purchase.changes["points"]
            for name, program in (("current", load_program(source)), ("candidate", load_program(edited)))
        }
    row_ = page.locator("#preview-table tr[data-event=purchase]")
    expect(row_.locator("td.current [data-account=points]")).to_have_text(f"+{expected['current']} points")
    expect(row_.locator("td.candidate [data-account=points]")).to_have_text(
        f"+{expected['candidate']} points"
    )
    expect(page.locator("#preview")).to_contain_text(camille["code"].lower())
    missing = page.request.post(
        "/program", form={"toml": edited, "action": "preview", "member": "ZZZZZZZZ", "csrf": csrf}
    )
    assert missing.status == 404 and "Aucun membre avec le code ZZZZZZZZ." in missing.text()
