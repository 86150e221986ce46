"""Guessing is throttled, in the browser: passwords (per account and per address) and voucher codes.

A hub of its own: the throttles it trips would otherwise slow the other web tests down."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, expect

from hub.codes import new_voucher_code
from tests.web_browser import chromium, shot
from tests.web_harness import PASSWORDS, running_web_hub


@pytest.fixture(scope="module")
def hub():
    with running_web_hub() as web_hub:
        yield web_hub


@pytest.fixture
def page(hub):
    with chromium() as browser:
        context = browser.new_context(base_url=hub.url, viewport={"width": 1200, "height": 700})
        yield context.new_page()
        context.close()


def test_guessing_voucher_codes_at_the_till_is_throttled(page: Page):
    page.goto("/login?next=/till")
    page.fill("input[name=name]", "alice")
    page.fill("input[name=password]", PASSWORDS["alice"])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/till$"))
    for _ in range(5):  # five unknown codes are typing mistakes; more is guessing
        page.fill("#code", new_voucher_code(os.urandom(10)))
        page.press("#code", "Enter")
        expect(page.locator("#result")).to_have_attribute("data-status", "unknown")
    page.fill("#code", new_voucher_code(os.urandom(10)))
    page.press("#code", "Enter")
    expect(page.locator("#result")).to_have_attribute("data-status", "unknown")  # the 6th is looked up, then…
    page.fill("#code", new_voucher_code(os.urandom(10)))
    page.press("#code", "Enter")  # …the 7th waits
    expect(page.locator(".notice.bad")).to_contain_text("Trop de codes inconnus. Réessayez dans")
    expect(page.locator("#result")).to_have_count(0)
    shot(page, "till-throttled")


def test_password_guessing_is_throttled_even_for_the_right_password(page: Page, hub):
    page.goto("/login")
    for attempt in range(3):
        page.fill("input[name=name]", "marc")
        page.fill("input[name=password]", f"guess-number-{attempt}")
        page.click("button[type=submit]")
        expect(page.locator(".notice.bad")).to_have_text("Identifiant ou mot de passe incorrect.")
    page.fill("input[name=name]", "marc")
    page.fill("input[name=password]", "guess-number-3")
    page.click("button[type=submit]")  # the 4th failure starts the wait (2 s, then 4, 8, …)
    page.fill("input[name=name]", "marc")
    page.fill("input[name=password]", PASSWORDS["marc"])
    page.click("button[type=submit]")
    expect(page.locator(".notice.bad")).to_contain_text("Trop d'essais. Réessayez dans")
    expect(page).to_have_url(re.compile(r"/login$"))
    shot(page, "login-throttled")
    # The address is throttled too: another account from the same place waits as well.
    page.fill("input[name=name]", "ada")
    page.fill("input[name=password]", PASSWORDS["ada"])
    page.click("button[type=submit]")
    expect(page.locator(".notice.bad")).to_contain_text("Trop d'essais")
    with hub.db() as db:
        actions = [
            r[0] for r in db.execute("SELECT action FROM audit_log WHERE actor = 'staff:marc' ORDER BY seq")
        ]
    assert actions.count("login.failed") == 4 and "login.throttled" in actions and "login.ok" not in actions
