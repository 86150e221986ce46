"""Runs the real KioskApp in this process (under the X display in $DISPLAY) and drives it; the UI tests
start it as a child process, since Kivy keeps global state (one app per process).

    python tests/kiosk_ui_driver.py screens --size 800x480 --out DIR --report FILE
    python tests/kiosk_ui_driver.py intents --report FILE
    python tests/kiosk_ui_driver.py thread --report FILE
    python tests/kiosk_ui_driver.py checker --report FILE

`screens`: every screen (and its variants) in French and English: layout checks, then a screenshot at
DIR/<lang>/<screen>.png. `intents`: touches through the window's mouse input (the path SDL gives a
touchscreen's touches), recording what reaches send_intent. `thread`: show() from another thread.
`checker`: a deliberately broken layout, to prove the layout checks see what they look for.
The report is JSON; the test process asserts on it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kiosk.hardware.printer import STATE_TEXT, PrinterState  # noqa: E402
from kiosk.session import notices, texts  # noqa: E402
from kiosk.session.model import (  # noqa: E402
    EnrolDraft,
    Intent,
    MemberView,
    RewardOption,
    Screen,
    StaffView,
    View,
    Words,
)
from kiosk.ui.app import KioskApp  # noqa: E402
from kiosk.ui.branding import Branding  # noqa: E402

Steps = Iterator[int]  # a script yields how many frames to let pass before it goes on

# -- realistic views (docs/contract.md's member: Camille, 384 points, Argent → Or missing 116) ---------

MEMBER = MemberView(
    code="7K3Q9PXA",
    display_name="Camille",
    balances={"points": 384, "stamps": 3, "cashback_cents": 250},
    totals={"spend_cents": 11050, "visits": 3, "purchases": 2},
    tier="Argent",
    tier_label=Words("Argent", "Silver"),
    next_tier="Or",
    next_tier_label=Words("Or", "Gold"),
    progress={"basis": "points", "current": 384, "target": 500, "missing": 116, "window_months": 12},
)
STALE_MEMBER = replace(MEMBER, stale=True, seen_at="2026-11-24T09:15:00.412345Z")
EFFECTS = (
    Words("+42 points pour votre achat de 42,50 €", "+42 points for your €42.50 purchase"),
    Words("+1 tampon : encore 7 avant votre café offert", "+1 stamp: 7 more to your free coffee"),
)
REWARDS = (
    RewardOption("cafe-offert", Words("Café offert", "Free coffee"), {"points": 80}, True),
    RewardOption("bon-5", Words("Bon de 5 €", "€5 voucher"), {"points": 300}, True),
    RewardOption(
        "panier-gourmand",
        Words("Panier gourmand", "Gourmet hamper"),
        {"points": 500},
        False,
        texts.shortfall_words({"points": 116}),
    ),
)
VOUCHER: dict[str, Any] = {  # the hub's voucher format (docs/contract.md)
    "code": "KKPP-86E0-3E57-YE30-J",
    "reward": "cafe-offert",
    "name": {"fr": "Café offert", "en": "Free coffee"},
    "value": {"kind": "free_product", "product": {"fr": "Un café au choix", "en": "A coffee of your choice"}},
    "issued": "2026-11-24T09:15:00.412345Z",
    "expires": "2027-02-22T23:59:59Z",
}
PAPER_OUT = Words(*STATE_TEXT[PrinterState.PAPER_OUT])
STAFF = StaffView(
    reader="ok: Virtual PCD 00 00",
    reader_text=Words("en service (Virtual PCD 00 00)", "working (Virtual PCD 00 00)"),
    printer="ready",
    printer_text=Words(*STATE_TEXT[PrinterState.READY]),
    last_voucher=True,
)


def scenarios() -> list[tuple[str, View]]:
    """(file name, view) for every Screen, plus the variants worth a look. French views; the driver
    shows each again in English."""
    on = View(online=True, queue=0)
    welcome = replace(on, screen=Screen.WELCOME, member=MEMBER, effects=EFFECTS, rewards=REWARDS)
    return [
        ("attract", replace(on, screen=Screen.ATTRACT)),
        ("attract-offline", View(screen=Screen.ATTRACT, online=False, queue=3)),
        ("lookup", replace(on, screen=Screen.LOOKUP)),
        ("welcome", welcome),
        ("welcome-stale", replace(welcome, online=False, queue=1, member=STALE_MEMBER, effects=())),
        ("enrol_offer", replace(on, screen=Screen.ENROL_OFFER)),
        ("enrol_offer-not-yet", replace(on, screen=Screen.ENROL_OFFER, enrolment_missing_cents=1250)),
        ("consents", replace(on, screen=Screen.CONSENTS)),
        ("consents-email-on", replace(on, screen=Screen.CONSENTS, draft=EnrolDraft(consent_email=True))),
        (
            "details",
            replace(
                on, screen=Screen.DETAILS, draft=EnrolDraft(first_name="Camille", email="camille@example.fr")
            ),
        ),
        ("enrolling", replace(on, screen=Screen.ENROLLING)),
        ("rewards", replace(welcome, screen=Screen.REWARDS, effects=())),
        (
            "rewards-offline",
            replace(
                welcome,
                screen=Screen.REWARDS,
                online=False,
                effects=(),
                rewards=tuple(replace(r, affordable=False, why_not=notices.REWARD_OFFLINE) for r in REWARDS),
            ),
        ),
        (
            "rewards-more",  # more than a page of cards: "More" turns to the next
            replace(
                welcome,
                screen=Screen.REWARDS,
                effects=(),
                rewards=(
                    *REWARDS,
                    RewardOption(
                        "baguette",
                        Words("Baguette offerte", "Free baguette"),
                        {"stamps": 10},
                        False,
                        texts.shortfall_words({"stamps": 7}),
                    ),
                    RewardOption("remise-10", Words("10 % de remise", "10% off"), {"points": 200}, True),
                ),
            ),
        ),
        ("confirm", replace(welcome, screen=Screen.CONFIRM, effects=(), chosen=REWARDS[0])),
        ("redeeming", replace(welcome, screen=Screen.REDEEMING, effects=(), chosen=REWARDS[0])),
        ("printing", replace(welcome, screen=Screen.PRINTING, effects=(), voucher=VOUCHER)),
        ("done", replace(welcome, screen=Screen.DONE, effects=(), voucher=VOUCHER, print_problem=PAPER_OUT)),
        ("done-printed", replace(welcome, screen=Screen.DONE, effects=(), voucher=VOUCHER)),
        ("message", replace(on, screen=Screen.MESSAGE, message=notices.REDEEM_OFFLINE)),
        ("staff_pin", replace(on, screen=Screen.STAFF_PIN, staff=replace(STAFF, pin_attempts_left=4))),
        (
            "staff_pin-locked",
            replace(on, screen=Screen.STAFF_PIN, staff=replace(STAFF, pin_attempts_left=0, locked_until=1e9)),
        ),
        ("staff", replace(on, screen=Screen.STAFF, staff=STAFF)),
        (
            "staff-offline",
            replace(
                on,
                screen=Screen.STAFF,
                online=False,
                queue=3,
                staff=replace(STAFF, printer="paper_out", printer_text=PAPER_OUT),
                message=notices.STAFF_REPRINTING,
            ),
        ),
        ("staff_amount", replace(on, screen=Screen.STAFF_AMOUNT, staff=STAFF)),
        ("staff_tap", replace(on, screen=Screen.STAFF_TAP, staff=replace(STAFF, amount_cents=1250))),
        (
            "staff_result",
            replace(
                on,
                screen=Screen.STAFF_RESULT,
                member=MEMBER,
                effects=(Words("+12 points pour l'achat de 12,50 €", "+12 points for the €12.50 purchase"),),
                staff=replace(STAFF, amount_cents=1250),
            ),
        ),
    ]


# -- driving the app ---------------------------------------------------------------------------------


class Driver:
    def __init__(self, size: tuple[int, int], script: Callable[[Driver], Steps], branding: Branding) -> None:
        self.intents: list[Intent] = []
        self.report: dict[str, Any] = {"errors": []}
        self.app = KioskApp(branding, self.intents.append, size=size, on_ready=self._ready)
        self._script = script(self)
        self._wait = 0

    def run(self) -> dict[str, Any]:
        self.app.run()
        return self.report

    def _ready(self) -> None:
        from kivy.clock import Clock

        Clock.schedule_interval(self._step, 0)

    def _step(self, _dt: float) -> bool | None:
        if self._wait > 0:
            self._wait -= 1
            return None
        try:
            self._wait = next(self._script)
        except StopIteration:
            self.app.stop()
            return False
        except Exception:
            self.report["errors"].append(traceback.format_exc())
            self.app.stop()
            return False
        return None

    # helpers for scripts

    @property
    def window(self) -> Any:
        from kivy.core.window import Window

        return Window

    def find(self, name: str) -> Any:
        from kivy.uix.screenmanager import Screen as KivyScreen

        from kiosk.ui.layout_check import walk

        found = [
            w
            for w, _ in walk(self.app.root)
            if getattr(w, "name", None) == name and not isinstance(w, KivyScreen)
        ]
        if len(found) != 1:
            raise LookupError(
                f"{len(found)} widgets named {name!r} on {self.app.view and self.app.view.screen}"
            )
        return found[0]

    def touch(self, name: str, *, down: bool = True, up: bool = True) -> Steps:
        """Press (and release) at the widget's centre through the window's mouse input, one frame each."""
        widget = self.find(name)
        x, y = widget.to_window(*widget.center)
        height = self.window.system_size[1]
        if down:
            self.window.dispatch("on_mouse_down", x, height - y, "left", [])
            yield 1
        if up:
            self.window.dispatch("on_mouse_up", x, height - y, "left", [])
            yield 1

    def show(self, view: View) -> Steps:
        self.app.show(view)
        yield 3  # layout, text fitting and a drawn frame


def screens_script(out: Path, langs: tuple[str, ...]) -> Callable[[Driver], Steps]:
    from kivy.uix.label import Label

    from kiosk.ui.layout_check import check, shrunk, walk

    def script(d: Driver) -> Steps:
        size = tuple(int(v) for v in d.window.size)
        d.report.update(problems=[], shrunk=[], shots=[], show_ms=[], texts={})
        yield 2
        for lang in langs:
            for name, view in scenarios():
                started = time.perf_counter()
                d.app.show(replace(view, lang=lang))  # type: ignore[arg-type]
                d.report["show_ms"].append((time.perf_counter() - started) * 1000)
                yield 1
                where = f"{name} {size[0]}x{size[1]} {lang}"
                started = time.perf_counter()
                d.report["problems"] += [f"{where}: {p}" for p in check(d.app.root, size)]
                d.report.setdefault("check_ms", []).append((time.perf_counter() - started) * 1000)
                d.report["shrunk"] += [f"{where}: {p}" for p in shrunk(d.app.root)]
                started = time.perf_counter()
                shot = d.app.screenshot(out / lang / f"{name}.png")
                d.report.setdefault("shot_ms", []).append((time.perf_counter() - started) * 1000)
                d.report["shots"].append(str(shot))
                d.report["texts"][f"{lang}/{name}"] = [
                    w.text for w, _ in walk(d.app.root) if isinstance(w, Label) and w.text
                ]
        d.report["show_ms_median"] = statistics.median(d.report["show_ms"])

    return script


def intents_script(d: Driver) -> Steps:
    from kivy.base import EventLoop

    d.report["providers"] = [type(p).__name__ for p in EventLoop.input_providers]
    views = dict(scenarios())
    steps: list[dict[str, Any]] = []
    d.report["steps"] = steps

    def record(label: str) -> None:
        steps.append({"after": label, "intents": [repr(i) for i in d.intents]})
        d.intents.clear()

    yield from d.show(views["attract"])
    yield from d.touch("lang-en")
    record("attract: EN")
    yield from d.touch("staff-corner")  # a short tap on the hidden corner: nothing
    yield from d.touch("staff-corner", up=False)
    deadline = time.monotonic() + 10
    while not d.intents and time.monotonic() < deadline:
        yield 1
    yield from d.touch("staff-corner", down=False)
    record("attract: corner tapped, then held")

    yield from d.show(views["rewards"])
    yield from d.touch("reward-panier-gourmand")  # unaffordable: nothing
    yield from d.touch("reward-cafe-offert")
    record("rewards: unaffordable card, then an affordable one")

    yield from d.show(views["rewards-more"])
    yield from d.touch("next")  # the next page of cards (the screen's own paging, no intent)
    yield from d.touch("reward-remise-10")
    record("rewards: next page, a card there")

    yield from d.show(views["confirm"])
    yield from d.touch("confirm")
    record("confirm")

    yield from d.show(views["staff_pin"])
    for key in "1234":
        yield from d.touch(f"pad-{key}")
    d.report["pin_display"] = d.find("pin-display").text
    yield from d.touch("pad-ok")
    record("PIN pad 1 2 3 4 OK")

    yield from d.show(views["staff"])
    yield from d.touch("record-purchase")
    for key in "1250":
        yield from d.touch(f"pad-{key}")
    d.report["amount_display"] = d.find("amount-display").text
    yield from d.touch("pad-ok")
    record("staff: record a purchase, 1 2 5 0 OK")

    yield from d.show(replace(views["details"], draft=EnrolDraft()))
    yield from d.touch("field-first_name")
    for key in ("key-z", "key-o", "key-é"):
        yield from d.touch(key)
    yield from d.touch("field-email")
    for key in ("key-z", "key-o", "key-e", "key-@", "key-x", "key-.", "key-f", "key-r"):
        yield from d.touch(key)
    yield from d.touch("key-back")
    yield from d.touch("key-r")
    yield from d.touch("continue")
    record("details: Zoé, zoe@x.fr on the AZERTY keyboard, continue")

    yield from d.show(views["attract"])  # a new sign-up, in English: the form starts empty
    yield from d.show(replace(views["details"], lang="en", draft=EnrolDraft()))
    for key in ("key-shift", "key-s", "key-a", "key-m"):  # shift on a first name already capitalised: stays S
        yield from d.touch(key)
    yield from d.touch("field-phone")
    for key in ("key-0", "key-6", "key-1", "key-2"):
        yield from d.touch(key)
    yield from d.touch("continue")
    record("details (en): Sam on the QWERTY keyboard, phone 0612, continue")


def thread_script(d: Driver) -> Steps:
    views = dict(scenarios())
    yield from d.show(views["attract"])
    outcome: dict[str, str] = {}

    def off_main() -> None:
        try:
            d.app.show(views["welcome"])
            outcome["result"] = "accepted"
        except Exception as exc:
            outcome["result"] = f"{type(exc).__name__}: {exc}"

    worker = threading.Thread(target=off_main, name="not-the-ui")
    worker.start()
    worker.join()
    d.report["off_thread"] = outcome.get("result")
    d.report["screen_after"] = d.app.view.screen.value if d.app.view else None
    yield from d.show(views["welcome"])
    d.report["screen_on_main"] = d.app.view.screen.value if d.app.view else None
    renders = d.app.renders
    d.app.show(views["welcome"])  # the same view again: nothing rebuilt
    d.report["rerender_same_view"] = d.app.renders - renders
    # a figure for the record (not asserted): CPU used by an idle screen over 2 s
    cpu, wall = time.process_time(), time.monotonic()
    while time.monotonic() - wall < 2.0:
        yield 1
    d.report["idle_cpu_percent"] = 100 * (time.process_time() - cpu) / (time.monotonic() - wall)


def checker_script(d: Driver) -> Steps:
    """A screen with one fault of each kind, each in its own named widget."""
    from kivy.uix.floatlayout import FloatLayout

    from kiosk.ui.layout_check import check
    from kiosk.ui.widgets import Tap, Text

    yield from d.show(dict(scenarios())["attract"])
    bad = FloatLayout()
    bad.add_widget(
        Tap("x", None, bg="#1F4E79", size_hint=(None, None), size=(30, 30), pos=(10, 10), name="tiny")
    )
    bad.add_widget(
        Tap("a", None, bg="#1F4E79", size_hint=(None, None), size=(100, 80), pos=(100, 100), name="left-one")
    )
    bad.add_widget(
        Tap("b", None, bg="#1F4E79", size_hint=(None, None), size=(100, 80), pos=(150, 120), name="right-one")
    )
    bad.add_widget(
        Tap(
            "far", None, bg="#1F4E79", size_hint=(None, None), size=(100, 80), pos=(2000, 100), name="outside"
        )
    )
    bad.add_widget(
        Text(
            "word " * 200,
            colour="#111111",
            bg="#FFFFFF",
            size_hint=(None, None),
            size=(120, 40),
            pos=(300, 300),
            name="crammed",
        )
    )
    bad.add_widget(
        Text(
            "grey",
            colour="#777777",
            bg="#888888",
            size_hint=(None, None),
            size=(200, 60),
            pos=(500, 300),
            name="faint",
        )
    )
    screen = d.app.root.current_screen
    screen.clear_widgets()
    screen.add_widget(bad)
    yield 3
    d.report["problems"] = check(d.app.root, tuple(d.window.size))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("screens", "intents", "thread", "checker"))
    parser.add_argument("--size", default="800x480")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--langs", default="fr,en")
    parser.add_argument("--logo", type=Path)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    branding = Branding("Boulangerie Martin", logo=args.logo)
    scripts: dict[str, Callable[[Driver], Steps]] = {
        "screens": lambda d: screens_script(args.out, tuple(args.langs.split(",")))(d),
        "intents": intents_script,
        "thread": thread_script,
        "checker": checker_script,
    }
    started = time.perf_counter()
    report = Driver((width, height), scripts[args.mode], branding).run()
    report["seconds"] = time.perf_counter() - started
    report["window"] = [width, height]
    args.report.write_text(json.dumps(report, indent=1, default=lambda o: asdict(o)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
