"""Segments and their CSV export per channel, against a real hub: the page in Chromium, and a
hypothesis-generated mix of members and consent changes through the real export endpoint — a member
without that channel's consent (their latest choice) never appears."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playwright.sync_api import Browser, Page, expect

from fidelio.contract import Request, uuid7
from hub.ledger.privacy import erase_member, record_consent
from hub.ledger.schema import transaction
from hub.ledger.segments import csv_cell
from tests.web_browser import french_page, shot
from tests.web_harness import PASSWORDS, WebHub


@contextmanager
def logged_in(hub: WebHub, name: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hub.url, timeout=20) as client:
        form = client.get("/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        r = client.post("/login", data={"name": name, "password": PASSWORDS[name], "csrf": token})
        assert r.status_code == 303
        yield client


def exported(client: httpx.Client, channel: str, **segment: str) -> list[dict[str, str]]:
    r = client.get("/segments/export.csv", params={"channel": channel, **segment})
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


def test_the_segments_page_counts_and_exports_only_consenting_members(browser_page: Page, hub: WebHub):
    page = browser_page
    seed = hub.seed  # type: ignore[attr-defined]
    page.goto("/login?next=/segments")
    page.fill("input[name=name]", "marc")
    page.fill("input[name=password]", PASSWORDS["marc"])
    page.click("button[type=submit]")
    expect(page.locator("#segment")).to_have_attribute("data-key", "all")
    # Camille said yes to e-mail, Éloïse to SMS, Camélia to neither (seed_members).
    expect(page.locator("#count-members")).to_have_text("3")
    expect(page.locator("#count-email")).to_have_text("1")
    expect(page.locator("#count-sms")).to_have_text("1")
    page.click("text=RFM : nouveaux")
    expect(page.locator("#segment")).to_have_attribute("data-key", "rfm:new")
    with page.expect_download() as download:
        page.click("#export-email")
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert [(r["code"], r["prenom"], r["email"]) for r in rows] == [
        (seed["camille"]["code"], "Camille", "camille@example.fr")
    ]
    page.click("text=Anniversaire ce mois-ci")
    expect(page.locator("#segment h2")).to_have_text("Anniversaire ce mois-ci")
    shot(page, "segments")
    page.click("text=English")
    expect(page.locator("h1")).to_have_text("Segments and campaigns")
    with hub.db() as db:
        audited = db.execute(
            "SELECT actor, target, detail FROM audit_log WHERE action = 'segment.export'"
        ).fetchall()
    assert audited[-1] == ("staff:marc", "rfm:new", '{"channel": "email", "rows": 1}')


def test_staff_cannot_see_segments_nor_export(hub: WebHub):
    with logged_in(hub, "alice") as alice:
        assert alice.get("/segments").status_code == 403
        assert alice.get("/segments/export.csv", params={"channel": "email"}).status_code == 403


def test_csv_cells_never_start_a_formula():
    assert csv_cell('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell("+33 6 12 34 56 78") == "+33 6 12 34 56 78"  # a phone stays dialable
    assert csv_cell("Zoé") == "Zoé" and csv_cell(None) == ""


member_spec = st.fixed_dictionaries({
    "email": st.booleans(),
    "phone": st.booleans(),
    "consents": st.fixed_dictionaries({"email": st.booleans(), "sms": st.booleans()}),
    # later changes, in order: (channel, granted)
    "changes": st.lists(st.tuples(st.sampled_from(["email", "sms"]), st.booleans()), max_size=3),
    "erased": st.booleans(),
})  # fmt: skip


class Model:
    """What the test knows about every member it made: their addresses and latest consents."""

    def __init__(self) -> None:
        self.members: dict[str, dict] = {}
        self.n = 0


@pytest.fixture(scope="module")
def model() -> Model:
    return Model()


@pytest.fixture(scope="module")
def manager(hub: WebHub):
    with logged_in(hub, "marc") as client:
        yield client


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(member_spec, min_size=1, max_size=6))
def test_no_member_without_the_channels_consent_is_ever_exported(hub: WebHub, model: Model, manager: httpx.Client,
                                                                 specs: list[dict]):  # fmt: skip
    service = hub.harness.service
    assert service is not None
    made = []
    for spec in specs:
        model.n += 1
        body = {"first_name": f"Membre{model.n}", "consents": spec["consents"]}
        if spec["email"]:
            body["email"] = f"m{model.n}@example.org"
        if spec["phone"]:
            body["phone"] = f"06 00 00 {model.n // 100:02d} {model.n % 100:02d}"
        made.append((Request(1, uuid7(), "enrol", "comptoir", f"pcsc:0F{model.n:06X}", None, body), spec))
    applied = service.submit_requests([req for req, _ in made]).result(20)
    for (_req, spec), result in zip(made, applied, strict=True):
        reply = json.loads(result.reply)
        assert reply["ok"], reply
        code = reply["member"]["code"]
        latest = dict(spec["consents"])
        for channel, granted in spec["changes"]:
            latest[channel] = granted
        model.members[code] = {**spec, "latest": latest}

    def job(ledger):
        with transaction(ledger.conn):
            cur = ledger.conn.cursor()
            for code, m in model.members.items():
                if m.get("done"):
                    continue
                mid = cur.execute("SELECT id FROM members WHERE code = ?", (code,)).fetchone()[0]
                for channel, granted in m["changes"]:
                    record_consent(cur, mid, channel, granted, datetime.now(UTC), "2", "web:test")
                if m["erased"]:
                    erase_member(cur, mid, datetime.now(UTC))
                m["done"] = True

    service.submit(job).result(20)
    for channel, field in (("email", "email"), ("sms", "phone")):
        got = {row["code"] for row in exported(manager, channel)}
        expected = {code for code, m in model.members.items()
                    if m["latest"][channel] and m[field] and not m["erased"]}  # fmt: skip
        made_here = got & set(model.members)
        assert made_here == expected
        for row in exported(manager, channel, kind="rfm", value="new"):  # a narrower segment: a subset
            assert row["code"] in got


@pytest.fixture
def browser_page(browser: Browser, hub: WebHub):
    with french_page(browser, hub.url, height=800, accept_downloads=True) as page:
        yield page
