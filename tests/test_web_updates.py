"""The updates page in real Chromium against a real hub: the hub's version, bundles uploaded through the
browser (a forged one refused with its reason), a version deployed and cancelled (both audited), what
each kiosk runs (its retained status) and its last report (sent to `/updates/v1/report` with the kiosk's
own credentials), in French and in English; staff and managers get 403."""

from __future__ import annotations

import json
from importlib.metadata import version as installed_version

import httpx
import pytest
from playwright.sync_api import Page, expect

from fidelio.contract import dumps
from fidelio.update.keys import key_id
from tests.support import wait_until
from tests.test_hub_updates import Release, forged, make_release, trust_keys
from tests.web_browser import login, shot
from tests.web_harness import WebHub, running_web_hub

GOOD = "fidelio-0.2.0-py3.11-linux_aarch64.fidelio"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    return make_release(tmp_path_factory.mktemp("release"))


@pytest.fixture(scope="module")
def hub(release: Release):
    with running_web_hub() as web_hub:
        trust_keys(web_hub.data, release.keys)
        yield web_hub


def audited(hub: WebHub) -> list[tuple[str, str, str, dict | None]]:
    with hub.db() as db:
        rows = db.execute(
            "SELECT actor, action, target, detail FROM audit_log WHERE action LIKE 'update.%' ORDER BY seq"
        ).fetchall()
    return [(a, b, c, json.loads(d) if d else None) for a, b, c, d in rows]


def test_staff_and_managers_get_403(page: Page, hub: WebHub):
    for name in ("alice", "marc"):
        login(page, name, "/till")
        expect(page.locator("nav a[href='/updates']")).to_have_count(0)
        assert page.request.get("/updates").status == 403
        csrf = page.locator("input[name=csrf]").first.input_value()
        for path, form in (("/updates/deploy", {"version": "0.2.0"}), ("/updates/cancel", {}),
                           ("/updates/remove", {"file": GOOD})):  # fmt: skip
            assert page.request.post(path, form={"csrf": csrf, **form}).status == 403
        page.context.clear_cookies()
    assert audited(hub) == []


def test_upload_deploy_see_the_kiosks_and_cancel(page: Page, hub: WebHub, release: Release, tmp_path):
    comptoir = hub.harness.kiosk("comptoir")
    status = comptoir.topics.kiosk_status("comptoir")
    comptoir.client.publish(status, dumps({"state": "online", "queue": 0, "version": "0.1.0"}), qos=1,
                            retain=True).wait_for_publish(5)  # fmt: skip
    board = hub.harness.service.kiosks  # type: ignore[union-attr]
    assert wait_until(
        lambda: board.snapshot().get("comptoir", {}).get("status", {}).get("version") == "0.1.0"
    )
    terrasse = hub.harness.provision("terrasse")
    report = {"running": "0.1.0", "result": {"state": "rolled_back", "version": "0.2.0", "code": "health_check",
              "fr": "l'écran ne s'est pas affiché", "en": "the screen did not come up",
              "at": "2026-12-01T10:00:00+01:00"}}  # fmt: skip
    sent = httpx.post(
        f"{hub.url}/updates/v1/report", json=report, auth=(terrasse.username, terrasse.password)
    )
    assert sent.status_code == 200, sent.text

    hub_state = hub.data.parent / "fidelio" / "update.json"  # the hub device's own updater (/data/fidelio)
    hub_state.parent.mkdir()
    hub_state.write_text(json.dumps({"last": {"state": "failed", "version": "0.1.9", "code": "disk",
                                              "fr": "disque plein", "en": "disk full", "at": "2026-11-30T03:00:00Z"}}))  # fmt: skip

    login(page, "ada", "/updates", exact=True)
    expect(page.locator("#hub-last")).to_contain_text("échec de la mise à jour vers 0.1.9 : disque plein")
    expect(page.locator("nav a[href='/updates']")).to_have_class("on")
    expect(page.locator("#hub-version")).to_have_text(installed_version("fidelio"))
    expect(page.locator("#how")).to_contain_text("toutes les heures")
    expect(page.locator("#target")).to_contain_text("aucune")
    expect(page.locator("#deploy-form")).to_have_count(0)

    fake = forged(release.bundle("0.2.0"), tmp_path / "forged" / GOOD)
    page.set_input_files("#import-form input[name=upload]", str(fake))
    page.click("#import-form button")
    expect(page.locator("#error")).to_have_text(
        "Paquet refusé : Mise à jour refusée : elle n'est pas signée par une clé de confiance"
    )
    expect(page.locator("#bundles")).to_have_count(0)

    page.set_input_files("#import-form input[name=upload]", str(release.bundle("0.2.0")))
    page.click("#import-form button")
    expect(page.locator("#done")).to_have_text(f"Paquet importé : {GOOD}")
    row = page.locator(f"#bundles tr[data-file='{GOOD}']")
    expect(row).to_contain_text("linux_aarch64")
    expect(row).to_contain_text("3.11")
    expect(row.locator("td").nth(4)).to_have_text(key_id(release.private.public_key()))
    assert (hub.data / "updates" / "bundles" / GOOD).read_bytes()[:100]

    page.select_option("#deploy-form select[name=version]", "0.2.0")
    page.check("#deploy-form input[name=allow_downgrade]")
    page.click("#deploy-form button")
    expect(page.locator("#done")).to_contain_text("Version 0.2.0 déployée")
    expect(page.locator("#target")).to_have_attribute("data-version", "0.2.0")
    expect(page.locator("#downgrade-allowed")).to_be_visible()
    expect(page.locator("#target")).to_contain_text("staff:ada")
    expect(row.locator(".remove-form")).to_have_count(0)  # the deployed version's bundle stays
    csrf = page.locator("#cancel-form input[name=csrf]").input_value()
    assert (
        page.request.post("/updates/remove", form={"csrf": csrf, "file": GOOD, "confirm": "yes"}).status
        == 409
    )

    kiosks = page.locator("#update-kiosks")
    expect(kiosks.locator("tr[data-kiosk=comptoir]")).to_have_attribute("data-version", "0.1.0")
    expect(kiosks.locator("tr[data-kiosk=comptoir] td.report")).to_have_text("aucun rapport pour l'instant")
    expect(kiosks.locator("tr[data-kiosk=terrasse] td.report")).to_have_text(
        "version 0.2.0 essayée puis annulée d'elle-même : l'écran ne s'est pas affiché"
    )
    shot(page, "updates")

    page.click("text=English")
    expect(page.locator("h1")).to_have_text("Software updates")
    expect(page.locator("#how")).to_contain_text("every hour")
    expect(page.locator("#hub-last")).to_contain_text("update to 0.1.9 failed: disk full")
    expect(kiosks.locator("tr[data-kiosk=terrasse] td.report")).to_have_text(
        "version 0.2.0 tried, then rolled back by itself: the screen did not come up"
    )
    shot(page, "updates-en")

    page.click("#cancel-form button")
    expect(page.locator("#done")).to_have_text(
        "Deployment of version 0.2.0 cancelled: the devices keep what they have."
    )
    expect(page.locator("#target")).to_contain_text("none")
    assert page.request.post("/updates/cancel", form={"csrf": "forged"}).status == 403  # CSRF like the others
    assert (
        page.request.post("/updates/remove", form={"csrf": "forged", "file": GOOD, "confirm": "yes"}).status
        == 403
    )
    unsure = page.request.post("/updates/remove", form={"csrf": csrf, "file": GOOD})
    assert (
        unsure.status == 422
        and "beside the button to remove" in unsure.text()
        and (hub.data / "updates/bundles" / GOOD).exists()
    )
    expect(row.locator(".remove-form button")).to_have_text("Remove")
    row.locator(".remove-form button").click()  # the box not ticked: the browser does not send it
    expect(page.locator("#done")).to_contain_text("cancelled")
    row.locator(".remove-form input[name=confirm]").check()
    shot(page, "updates-remove")
    row.locator(".remove-form button").click()  # not deployed any more: it may go
    expect(page.locator("#done")).to_have_text(f"Bundle removed: {GOOD}")
    expect(page.locator("#bundles")).to_have_count(0)
    assert not (hub.data / "updates" / "bundles" / GOOD).exists()
    assert (
        page.request.post(
            "/updates/remove", form={"csrf": csrf, "file": "../config.toml", "confirm": "yes"}
        ).status
        == 404
    )

    assert audited(hub) == [
        ("staff:ada", "update.import_refused", f"upload:{GOOD}",
         {"code": "untrusted", "reason": "Update refused: it is not signed by a trusted key"}),
        ("staff:ada", "update.import", GOOD, audited(hub)[1][3]),
        ("staff:ada", "update.deploy", "0.2.0", {"allow_downgrade": True}),
        ("staff:ada", "update.cancel", "0.2.0", None),
        ("staff:ada", "update.remove", GOOD, None),
    ]  # fmt: skip
    assert audited(hub)[1][3]["already"] is False and audited(hub)[1][3]["key_id"] == key_id(
        release.private.public_key()
    )
