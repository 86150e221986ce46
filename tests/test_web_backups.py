"""The backups page in real Chromium against a real hub: a backup on demand, download, the nightly run's
last result, restore (the change made since is gone, `check` passes, the replaced ledger is kept aside,
the admin stays logged in), a corrupt upload refused with its reason; staff and managers get 403."""

from __future__ import annotations

import sqlite3

from playwright.sync_api import Page, expect

from hub.app import check_hub
from hub.backup import backups_in
from hub.cli import main as hub_main
from hub.restore import check_candidate, replaced_dir
from tests.web_browser import login, shot
from tests.web_harness import WebHub, points


def test_staff_and_managers_get_403(page: Page, hub: WebHub):
    for name in ("alice", "marc"):
        login(page, name, "/till")
        expect(page.locator("nav a[href='/backups']")).to_have_count(0)
        assert page.request.get("/backups").status == 403
        csrf = page.locator("input[name=csrf]").first.input_value()
        assert page.request.post("/backups", form={"csrf": csrf}).status == 403
        page.context.clear_cookies()
    assert backups_in(hub.data / "backups") == []


def test_back_up_change_restore_the_change_is_gone(page: Page, hub: WebHub, tmp_path):
    camille = hub.seed["camille"]  # type: ignore[attr-defined]
    before = points(hub, camille["code"])
    login(page, "ada", "/backups")
    expect(page.locator("#last-run")).to_have_text("Pas encore exécutée sur ce hub.")
    page.click("#backup-now button")
    expect(page.locator("#done")).to_contain_text("Sauvegarde faite")
    rows = page.locator("#backups tbody tr")
    expect(rows).to_have_count(1)
    name = rows.first.get_attribute("data-backup")
    assert name and (hub.data / "backups" / name).is_file()
    assert int(rows.first.locator("[data-bytes]").get_attribute("data-bytes") or 0) > 10_000

    with page.expect_download() as info:
        rows.first.locator("a").click()
    downloaded = tmp_path / "downloaded.sqlite"
    info.value.save_as(downloaded)
    assert check_candidate(downloaded) > 0

    kiosk = hub.harness.kiosk("borne-apres")
    after = kiosk.request("purchase", camille["card"], {"amount_cents": 20_000, "receipt": "T-APRES"})
    assert after["ok"], after
    assert points(hub, camille["code"]) > before
    with hub.db() as db:
        events_after = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    page.goto("/backups")
    page.select_option("#restore-form select[name=name]", name)
    page.check("#restore-form input[name=confirm]")
    page.click("#restore-form button")
    expect(page.locator("#done")).to_have_text(f"Registre restauré depuis {name}.")  # still logged in
    shot(page, "backups-restored")

    assert points(hub, camille["code"]) == before
    with hub.db() as db:
        assert db.execute("SELECT COUNT(*) FROM events WHERE id = ?", (after["id"],)).fetchone() == (0,)
        audited = db.execute(
            "SELECT action FROM audit_log WHERE action LIKE 'backup.%' ORDER BY seq"
        ).fetchall()
        staff = db.execute("SELECT COUNT(*) FROM staff_users").fetchone()[0]
    assert audited == [("backup.create",), ("backup.download",), ("backup.restore",)]
    assert staff == 3
    assert check_hub(hub.data) == []
    aside = backups_in(replaced_dir(hub.data))
    assert len(aside) == 1
    with sqlite3.connect(aside[0]) as old:
        assert old.execute("SELECT COUNT(*) FROM events").fetchone()[0] == events_after
    # the hub keeps working on the restored ledger: the same purchase again is a new purchase
    again = kiosk.request("purchase", camille["card"], {"amount_cents": 20_000, "receipt": "T-APRES-2"})
    assert again["ok"], again
    assert points(hub, camille["code"]) > before
    assert check_hub(hub.data) == []


def test_a_corrupt_upload_is_refused_with_the_reason(page: Page, hub: WebHub, tmp_path):
    code = hub.seed["camille"]["code"]  # type: ignore[attr-defined]
    before = points(hub, code)
    login(page, "ada", "/backups")
    junk = tmp_path / "pas-une-base.sqlite"
    junk.write_bytes(b"SQLite format 3\x00" + b"\x13" * 8000)
    page.check("#restore-form input[name=confirm]")
    page.set_input_files("#restore-form input[name=upload]", str(junk))
    page.click("#restore-form button")
    expect(page.locator("#error")).to_contain_text(
        "Restauration refusée : Ce fichier n'est pas une base SQLite (ou elle est corrompue)."
    )
    shot(page, "backups-corrupt-refused")

    good = backups_in(hub.data / "backups")[-1]
    broken = tmp_path / "soldes-faux.sqlite"
    broken.write_bytes(good.read_bytes())
    with sqlite3.connect(broken) as db:
        db.execute("UPDATE members SET points = points + 1000 WHERE code = ?", (code,))
    page.check("#restore-form input[name=confirm]")
    page.set_input_files("#restore-form input[name=upload]", str(broken))
    page.click("#restore-form button")
    expect(page.locator("#error")).to_contain_text("ne passe pas la vérification")
    expect(page.locator("#error .faults")).to_contain_text(f"member {code}: points")
    other_size = tmp_path / "autre-page.sqlite"
    other_size.write_bytes(good.read_bytes())
    db = sqlite3.connect(other_size, isolation_level=None)
    db.execute("PRAGMA page_size = 16384")
    db.execute("VACUUM")
    db.close()
    assert check_candidate(other_size) > 0  # a sound ledger, but not one this hub can copy in
    page.check("#restore-form input[name=confirm]")
    page.set_input_files("#restore-form input[name=upload]", str(other_size))
    page.click("#restore-form button")
    expect(page.locator("#error")).to_contain_text("Taille de page 16384")
    assert points(hub, code) == before
    assert list(hub.data.glob("backups/.upload-*")) == []
    with hub.db() as db:
        refused = db.execute(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'backup.restore_refused'"
        ).fetchone()
    assert refused == (3,)


def test_the_nightly_runs_last_result_and_retention_are_shown(page: Page, hub: WebHub):
    assert hub_main(["--data", str(hub.data), "backup", "--keep", "14"]) == 0
    newest = backups_in(hub.data / "backups")[-1]
    login(page, "ada", "/backups")
    expect(page.locator("#last-run")).to_contain_text(f"réussie ({newest.name}")
    expect(page.locator("#nightly")).to_contain_text("garde les 14 dernières")
    page.click("a.lang")
    expect(page.locator("#last-run")).to_contain_text(f"succeeded ({newest.name}")
    expect(page.locator("#nightly")).to_contain_text("keeps the last 14")
