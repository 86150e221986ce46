"""Debian's chromium driven by Playwright's Python package (never a downloaded browser)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "web"


@contextmanager
def chromium() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "chromium missing: run scripts/setup.sh (Debian's chromium)"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot in test-artifacts/web/NAME.png, to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@contextmanager
def french_page(
    browser: Browser, base_url: str, width: int = 1200, height: int = 900, **options: Any
) -> Iterator[Page]:
    """A fresh browser context (no cookies: nobody logged in), French, at a staff desk's window size."""
    context = browser.new_context(
        base_url=base_url, viewport={"width": width, "height": height}, locale="fr-FR", **options
    )
    try:
        yield context.new_page()
    finally:
        context.close()


def login(page: Page, name: str, then: str = "/till", *, exact: bool = False) -> None:
    """Log in as a seeded staff account (tests.web_harness.PASSWORDS) and land on `then`."""
    from tests.web_harness import PASSWORDS

    page.goto(f"/login?next={then}")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(then) + ("$" if exact else r"(\?.*)?$")))
