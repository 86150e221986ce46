"""End to end, with every real part: the shop's Mosquitto (TLS, ACL), the real hub, the real kiosk built
as `fidelio-kiosk` builds it (outbox, cache, session, presenter), a card tapped on Debian's pcscd through
vsmartcard's virtual reader — headless in this process, and the Kivy app under Xvfb in a child process.
The welcome screen must show the balance the hub computed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w

from kiosk.app import KioskRuntime, build_kiosk
from kiosk.config import parse_kiosk_config
from kiosk.hardware.vpcd_card import VirtualCard
from kiosk.headless import HeadlessLoop
from kiosk.run import ViewWatch
from kiosk.session.model import Screen
from tests.support import PCSC_TEST_READER, REPO, HubHarness, Pcscd, wait_until
from tests.xvfb import xvfb_server

UID = "04C0FFEE112233"
CARD = f"pcsc:{UID}"
ARTIFACTS = REPO / "test-artifacts" / "e2e"


@pytest.fixture(scope="module")
def pcscd() -> Iterator[Pcscd]:
    subprocess.run(["pkill", "-x", "pcscd"], check=False)  # one pcscd only: ours
    time.sleep(0.5)
    daemon = Pcscd()
    daemon.start()
    yield daemon
    daemon.kill()


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with xvfb_server() as value:
        yield value


@pytest.fixture
def hub() -> Iterator[HubHarness]:
    harness = HubHarness()
    harness.start_broker()
    harness.start_service()
    yield harness
    harness.close()


def kiosk_file(hub: HubHarness, kiosk: str, storage: Path) -> Path:
    """The provisioning file `kiosk add` wrote, plus a PC/SC reader and the kiosk's storage."""
    hub.provision(kiosk)
    path = hub.root / f"{kiosk}.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    raw["hardware"] = {"readers": [{"kind": "pcsc", "reader_pattern": PCSC_TEST_READER, "poll_ms": 30}]}
    raw["storage"] = {"dir": str(storage)}
    raw["display"] = {"shop_name": "Boulangerie Martin"}
    path.write_bytes(tomli_w.dumps(raw).encode())
    return path


def member_on_the_hub(hub: HubHarness) -> dict:
    """Enrol the card and record a purchase from another kiosk: what the hub says the member has."""
    pos = hub.kiosk("caisse")
    assert pos.request("enrol", CARD, {"first_name": "Inès", "consents": {"email": False, "sms": False}})[
        "ok"
    ]
    reply = pos.request("purchase", CARD, {"amount_cents": 4250})
    assert reply["ok"]
    return reply["member"]


def test_headless_kiosk_tap_on_pcscd_shows_the_hubs_balance(pcscd, hub, tmp_path: Path):
    before = member_on_the_hub(hub)
    path = kiosk_file(hub, "comptoir", tmp_path / "kiosk")
    with open(path, "rb") as fh:
        runtime: KioskRuntime = build_kiosk(parse_kiosk_config(tomllib.load(fh), path))
    watch, loop = ViewWatch(), HeadlessLoop()
    runtime.presenter.render, runtime.presenter.wake = watch, loop.wake
    pump = threading.Thread(target=loop.run, args=(runtime.presenter.pump,), daemon=True)
    runtime.start()
    pump.start()
    try:
        assert watch.wait(lambda v: v.online, 15), "the kiosk never came online"
        card = VirtualCard(bytes.fromhex(UID))
        view = watch.wait(lambda v: v.screen == Screen.WELCOME and v.member is not None, 10)
        card.remove()
        assert view is not None, f"no welcome screen; last screen {watch.view.screen}"
        assert view.member is not None and not view.member.stale
        # what the hub computed, not the kiosk (the screen keeps the balances the program uses)
        assert view.member.balances["points"] == before["balances"]["points"] > 0
        assert view.member.totals["visits"] == before["totals"]["visits"] + 1  # this tap was a visit
        assert view.member.display_name == "Inès"
        assert wait_until(lambda: watch.view.queue == 0, 5)  # answered: out of the outbox
    finally:
        loop.stop()
        pump.join(5)
        runtime.stop()


def test_kivy_app_under_xvfb_tap_on_pcscd_shows_the_hubs_balance(pcscd, hub, tmp_path: Path, display: str):
    before = member_on_the_hub(hub)
    path = kiosk_file(hub, "comptoir", tmp_path / "kiosk")
    report, shot = tmp_path / "report.json", ARTIFACTS / "welcome-after-pcsc-tap.png"
    env = {**os.environ, "DISPLAY": display}
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "kiosk_e2e_driver.py"), str(path), str(report), str(shot)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert wait_until(lambda: report.exists() or proc.poll() is not None, 60), "the app did not start"
        assert proc.poll() is None, proc.stdout.read().decode(errors="replace") if proc.stdout else ""

        card = VirtualCard(bytes.fromhex(UID))
        assert wait_until(lambda: "texts" in json.loads(report.read_text() or "{}"), 30), "no welcome screen"
        card.remove()
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    result = json.loads(report.read_text())
    assert result["balances"]["points"] == before["balances"]["points"] > 0
    points = before["balances"]["points"]
    shown = " ".join(result["texts"])
    assert f"{points} points" in shown, shown  # the number the hub computed, drawn on the screen
    assert "Inès" in shown
    assert shot.exists() and shot.stat().st_size > 10_000
