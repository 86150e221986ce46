"""The kiosk's Kivy screens, run for real on Xvfb (Mesa's llvmpipe), each app in a child process
(tests/kiosk_ui_driver.py): every screen at six sizes in both languages with layout checks and a
screenshot in test-artifacts/screens/, touches through the window's input reaching send_intent, and
show() refused off the UI thread."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from kiosk.session.model import (
    ChooseReward,
    Confirm,
    DetailsDone,
    Screen,
    SetLanguage,
    StaffAmount,
    StaffPin,
    StaffRequest,
)
from tests.xvfb import xvfb_server

REPO = Path(__file__).resolve().parents[1]
DRIVER = REPO / "tests" / "kiosk_ui_driver.py"
ARTIFACTS = REPO / "test-artifacts" / "screens"
SIZES = ["800x480", "1024x600", "1280x800", "480x800", "600x1024", "800x1280"]
PRIMARY = (0x1F, 0x4E, 0x79)  # Branding's default primary: the attract screen's background
WARNING = (0x8E, 0x1B, 0x1B)  # the offline banner


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with xvfb_server() as value:
        yield value


@pytest.fixture(scope="module")
def logo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A shop logo as a shop would give one: a PNG with transparency."""
    path = tmp_path_factory.mktemp("brand") / "logo.png"
    image = Image.new("RGBA", (240, 120), (0, 0, 0, 0))
    for x in range(240):
        for y in range(120):
            if (x - 120) ** 2 / 110**2 + (y - 60) ** 2 / 50**2 <= 1:
                image.putpixel((x, y), (0xF2, 0xA9, 0x00, 255))
    image.save(path)
    return path


def drive(display: str, tmp: Path, mode: str, *args: str, timeout: float = 150) -> dict[str, Any]:
    """Run the driver in a child process (one Kivy app per process) and return its JSON report."""
    report = tmp / f"{mode}.json"
    env = {
        **os.environ,
        "DISPLAY": display,
        "KIVY_HOME": str(tmp / "kivy-home"),
        "TZ": "Europe/Paris",  # the shop's clock: the hub's 09:15Z is shown as 10:15
    }
    done = subprocess.run(
        [sys.executable, str(DRIVER), mode, "--report", str(report), *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0 and report.exists(), (
        f"driver {mode} failed ({done.returncode}):\n{done.stderr[-4000:]}"
    )
    result = json.loads(report.read_text())
    assert not result["errors"], "\n".join(result["errors"])
    return result


def colour_share(path: Path, colour: tuple[int, int, int]) -> float:
    """The share of the picture's pixels that are exactly `colour`."""
    image = Image.open(path).convert("RGB")
    pixels = image.width * image.height
    return sum(n for n, c in image.getcolors(pixels) if c == colour) / pixels


@pytest.mark.parametrize("size", SIZES)
def test_every_screen_lays_out_at_every_size(display: str, tmp_path: Path, logo: Path, size: str) -> None:
    out = ARTIFACTS / size
    report = drive(display, tmp_path, "screens", "--size", size, "--out", str(out), "--logo", str(logo))

    assert report["problems"] == [], "layout problems:\n" + "\n".join(report["problems"])
    width, height = (int(v) for v in size.split("x"))
    shots = [Path(p) for p in report["shots"]]
    shown = {p.stem.split("-")[0] for p in shots}
    assert shown == {s.value for s in Screen}, (
        f"screens without a screenshot: { ({s.value for s in Screen} - shown) }"
    )
    for lang in ("fr", "en"):
        for screen in Screen:
            assert (out / lang / f"{screen.value}.png").exists()
    for shot in shots:
        with Image.open(shot) as image:
            assert image.size == (width, height), shot
            assert len(image.convert("RGB").getcolors(width * height) or ()) > 8, f"{shot} looks blank"

    # the shop's colours on the attract screen, the offline banner only when offline
    assert colour_share(out / "fr" / "attract.png", PRIMARY) > 0.5
    assert colour_share(out / "fr" / "attract.png", WARNING) == 0
    assert colour_share(out / "fr" / "attract-offline.png", WARNING) > 0.02
    # gettext end to end: each language's own words on screen
    texts = report["texts"]
    assert "Posez votre carte de fidélité sur le lecteur" in texts["fr/attract"]
    assert "Tap your loyalty card on the reader" in texts["en/attract"]
    assert "Plus que 116 points pour le statut Or" in texts["fr/welcome"]
    assert "116 more points to Gold" in texts["en/welcome"]
    assert "Dernier solde connu, du 24/11 à 10:15" in texts["fr/welcome-stale"]
    assert "Last known balance, from 24/11 at 10:15" in texts["en/welcome-stale"]
    assert any("Il vous manque 116 points" in t for t in texts["fr/rewards"])
    assert any("Plus de papier" in t for t in texts["fr/done"])
    assert any("3 demandes en attente" in t for t in texts["fr/staff-offline"])
    for key, lines in texts.items():
        if not key.split("/")[1].startswith("staff"):
            assert {"FR", "EN"} <= set(lines), f"{key}: no language switch"


def test_layout_checks_catch_each_fault(display: str, tmp_path: Path) -> None:
    """The checks above would fail: on a screen built with one fault of each kind, each is named."""
    problems = drive(display, tmp_path, "checker")["problems"]

    def reported(name: str, words: str) -> bool:
        return any(p.startswith(name) and words in p for p in problems)

    assert reported("tiny", "touch target 30×30 px"), problems
    assert any("left-one" in p and "right-one" in p and "overlap" in p for p in problems), problems
    assert reported("outside", "outside the"), problems
    assert reported("crammed", "text clipped"), problems
    assert reported("faint", "contrast 1.3:1"), problems
    assert len(problems) == 5, problems


def test_touches_send_the_right_intents_once_each(display: str, tmp_path: Path) -> None:
    report = drive(display, tmp_path, "intents")

    assert report["providers"] == ["MouseMotionEventProvider"]  # one input provider: no double touches
    steps = {s["after"]: s["intents"] for s in report["steps"]}
    expected = {
        "attract: EN": [SetLanguage("en")],
        "attract: corner tapped, then held": [StaffRequest()],
        "rewards: unaffordable card, then an affordable one": [ChooseReward("cafe-offert")],
        "rewards: next page, a card there": [ChooseReward("remise-10")],
        "confirm": [Confirm()],
        "PIN pad 1 2 3 4 OK": [StaffPin("1234")],
        "staff: record a purchase, 1 2 5 0 OK": [StaffAmount(1250)],
        "details: Zoé, zoe@x.fr on the AZERTY keyboard, continue": [
            DetailsDone(first_name="Zoé", email="zoe@x.fr")
        ],
        "details (en): Sam on the QWERTY keyboard, phone 0612, continue": [
            DetailsDone(first_name="Sam", phone="0612")
        ],
    }
    assert list(steps) == list(expected)
    for step, intents in expected.items():
        assert steps[step] == [repr(i) for i in intents], step
    assert report["pin_display"] == "● ● ● ●"  # digits masked
    assert report["amount_display"] == "12,50\u00a0€"  # the € kept on the line of its amount


def test_show_off_the_ui_thread_is_refused(display: str, tmp_path: Path) -> None:
    report = drive(display, tmp_path, "thread")

    assert report["off_thread"].startswith("WrongThread: KioskApp.show called from thread 'not-the-ui'")
    assert report["screen_after"] == "attract"  # the refused view was not shown
    assert report["screen_on_main"] == "welcome"
    assert report["rerender_same_view"] == 0  # an unchanged view rebuilds nothing
