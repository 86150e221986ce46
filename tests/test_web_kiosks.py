"""The kiosks page in real Chromium against a real hub and broker: states from the kiosks' retained
status messages, a kiosk added from the page (its file downloaded once, its QR code decodes to the
same file, a real kiosk connects with it) and revoked (it can no longer connect)."""

from __future__ import annotations

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from fidelio.contract import dumps
from kiosk.provisioning import load_provisioning
from kiosk.simple_client import HubUnreachable, SimpleHubClient
from tests.support import wait_until
from tests.web_browser import ARTIFACTS, french_page, login, shot
from tests.web_harness import WebHub, running_web_hub


@pytest.fixture(scope="module")
def hub():
    with running_web_hub() as web_hub:
        yield web_hub


@pytest.fixture
def page(browser: Browser, hub: WebHub):
    with french_page(browser, hub.url, accept_downloads=True) as page:
        yield page


def board(hub: WebHub) -> dict:
    assert hub.harness.service is not None
    return hub.harness.service.kiosks.snapshot()


def test_the_page_shows_what_each_kiosk_reports(page: Page, hub: WebHub):
    comptoir = hub.harness.kiosk("comptoir")
    terrasse = hub.harness.kiosk("terrasse")
    status = comptoir.topics.kiosk_status("comptoir")
    comptoir.client.publish(status, dumps({"state": "online", "queue": 3, "reader": "absent: pcsc; ok: hid", "printer": "paper_out"}),
                            qos=1, retain=True).wait_for_publish(5)  # fmt: skip
    terrasse.close()  # says "offline" (retained) and leaves
    assert wait_until(lambda: board(hub).get("comptoir", {}).get("status", {}).get("queue") == 3)
    assert wait_until(lambda: board(hub).get("terrasse", {}).get("status", {}).get("state") == "offline")
    login(page, "marc", "/kiosks", exact=True)  # a manager sees them, cannot add or revoke
    row = page.locator("tr[data-kiosk=comptoir]")
    expect(row).to_have_attribute("data-state", "online")
    expect(row).to_contain_text("en ligne")
    expect(row.locator("td").nth(2)).to_have_text("3")
    expect(row.locator("td.printer")).to_have_text("plus de papier")
    expect(row.locator("td.reader")).to_have_text("débranché (pcsc) ; en service (hid)")
    expect(row.locator("td.reader")).to_have_attribute("data-reader", "absent: pcsc; ok: hid")
    expect(page.locator("tr[data-kiosk=terrasse]")).to_contain_text("hors ligne")
    expect(page.locator("#add-kiosk")).to_have_count(0)
    expect(page.locator("button.revoke")).to_have_count(0)
    csrf = page.locator("input[name=csrf]").first.input_value()
    assert page.request.post("/kiosks", form={"kiosk": "intrus", "csrf": csrf}).status == 403
    assert page.request.post("/kiosks/comptoir/revoke", form={"csrf": csrf}).status == 403
    shot(page, "kiosks")


def test_an_admin_adds_a_kiosk_that_then_works_and_revokes_it(page: Page, hub: WebHub, tmp_path):
    login(page, "ada", "/kiosks", exact=True)
    page.fill("#add-kiosk input[name=kiosk]", "caisse-2")
    page.click("#add-kiosk button")
    expect(page.locator("#added")).to_have_attribute("data-kiosk", "caisse-2")
    expect(page.locator("tr[data-kiosk=caisse-2]")).to_contain_text("jamais connectée")
    shot(page, "kiosks-added")
    qr_png = ARTIFACTS / "kiosks-added-qr.png"
    page.locator("#provision-qr").screenshot(path=str(qr_png))
    with page.expect_download() as download:
        page.click("#provision")
    file = tmp_path / "caisse-2.toml"
    download.value.save_as(file)
    text = file.read_text(encoding="utf-8")
    assert 'kiosk = "caisse-2"' in text and "BEGIN CERTIFICATE" in text
    decoded = zxingcpp.read_barcodes(Image.open(qr_png))
    assert [d.text for d in decoded] == [text]  # the QR code holds the very same file
    again = page.request.get(page.locator("#provision").get_attribute("href") or "")
    assert again.status == 410  # offered once

    kiosk = SimpleHubClient(load_provisioning(file), "caisse-2-test")
    assert wait_until(lambda: _connects(kiosk), 10)
    reply = kiosk.request("tap", "pcsc:0C0FFEE0")
    assert reply["ok"] is False and reply["error"]["code"] == "unknown_card"  # the hub answers it
    kiosk.close()

    page.goto("/kiosks")
    page.click("tr[data-kiosk=caisse-2] button.revoke")
    expect(page.locator("#done")).to_contain_text("caisse-2 révoquée")
    expect(page.locator("tr[data-kiosk=caisse-2]")).to_have_attribute("data-state", "revoked")
    refused = SimpleHubClient(load_provisioning(file), "caisse-2-again")
    with pytest.raises(HubUnreachable):
        refused.connect(timeout=3)
    refused.client.loop_stop()
    with hub.db() as db:
        actions = [
            r[0] for r in db.execute("SELECT action FROM audit_log WHERE target = 'caisse-2' ORDER BY seq")
        ]
    assert actions == ["kiosk.add", "kiosk.provision_download", "kiosk.revoke"]


def _connects(kiosk: SimpleHubClient) -> bool:
    """The broker rereads its users on SIGHUP, asynchronously: try again until it knows the new one."""
    try:
        kiosk.connect(timeout=1)
        return True
    except HubUnreachable:
        kiosk.client.loop_stop()
        kiosk.client.disconnect()
        return False
