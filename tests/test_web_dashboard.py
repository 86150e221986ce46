"""The dashboard in real Chromium against a real hub: the figures match the ledger, the charts are
drawn by the vendored Chart.js from the same numbers, staff are refused."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from hub.ledger.kpis import last_months
from tests.web_browser import french_page, login, shot
from tests.web_harness import WebHub, running_web_hub, seed_members


@pytest.fixture(scope="module")
def hub():
    with running_web_hub() as web_hub:
        web_hub.seed = seed_members(web_hub)  # type: ignore[attr-defined]
        key = web_hub.add_key("caisse", ["purchase"])
        with httpx.Client(
            base_url=f"{web_hub.url}/api/v1", headers={"Authorization": f"Bearer {key}"}
        ) as api:
            for n, cents in enumerate((990, 2000)):  # two baskets of non-members, told by the POS
                r = api.post(
                    "/purchases", json={"amount_cents": cents}, headers={"Idempotency-Key": f"anon-{n}"}
                )
                assert r.status_code == 201
        yield web_hub


@pytest.fixture
def page(browser: Browser, hub: WebHub):
    with french_page(browser, hub.url, width=1280, height=900) as page:
        yield page


def test_the_dashboard_shows_the_ledgers_figures_and_draws_them(page: Page, hub: WebHub):
    with hub.db() as db:
        points, kitty = db.execute("SELECT SUM(points), SUM(cashback_cents) FROM members").fetchone()
    login(page, "marc", "/dashboard", exact=True)
    expect(page.locator("#kpi-members")).to_have_text("3")
    expect(page.locator("#kpi-active")).to_have_text("100,0 % · 100,0 %")  # all three came this month
    expect(page.locator("#kpi-frequency")).to_have_text("1,0")  # Camille's one visit
    expect(page.locator("#kpi-basket")).to_have_text("120,00 € · 14,95 €")  # members vs (9,90 + 20,00) / 2
    expect(page.locator("#kpi-annual")).to_have_text("40,00 €")  # 120 € over 3 members
    expect(page.locator("#kpi-vouchers")).to_have_text("2 · 0")
    expect(page.locator("#kpi-liability")).to_have_text(f"{points} points")
    expect(page.locator("#kpi-kitty")).to_contain_text(f"{kitty // 100},{kitty % 100:02d} €")
    for chart in ("members", "basket", "vouchers", "spend"):
        expect(page.locator(f"#chart-{chart}")).to_have_attribute("data-drawn", "1")
    drawn = page.evaluate(
        "() => Chart.getChart('chart-basket').data.datasets.map(d => d.data[d.data.length - 1])"
    )
    assert drawn == [12_000, 1_495]  # this month's baskets, in cents, as the table shows them
    last = page.locator("#monthly tbody tr").last
    expect(last).to_contain_text(last_months(datetime.now(UTC))[-1].split("-")[1])
    expect(last).to_contain_text("120,00 €")
    shot(page, "dashboard")
    page.click("text=English")
    expect(page.locator("#kpi-basket")).to_have_text("120.00 € · 14.95 €")
    expect(page.locator("h1")).to_have_text("Dashboard")
    shot(page, "dashboard-en")


def test_staff_cannot_open_the_dashboard(page: Page, hub: WebHub):
    login(page, "alice", "/till", exact=True)
    expect(page.locator("nav")).not_to_contain_text("Tableau de bord")
    response = page.goto("/dashboard")
    assert response is not None and response.status == 403
