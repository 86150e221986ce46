"""One module per screen or group of screens; `PARTS` says which part draws each `Screen`.

Parts are imported when first needed (`Parts.get`), so the kiosk imports only the attract screen's module
before its first frame; `Parts.load_all()` brings in the rest once that frame is on screen. `all_parts()`
imports every part (tests, checks).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from kiosk.session.model import Screen

if TYPE_CHECKING:
    from kiosk.ui.chrome import ScreenPart

#: Screen → (module under kiosk.ui.screens, class). One instance per class: a part may keep what is
#: being typed across the screens it draws.
PARTS: dict[Screen, tuple[str, str]] = {
    Screen.ATTRACT: ("attract", "AttractPart"),
    Screen.LOOKUP: ("message", "WaitingPart"),
    Screen.ENROLLING: ("message", "WaitingPart"),
    Screen.REDEEMING: ("message", "WaitingPart"),
    Screen.MESSAGE: ("message", "MessagePart"),
    Screen.WELCOME: ("welcome", "WelcomePart"),
    Screen.ENROL_OFFER: ("enrol_offer", "EnrolOfferPart"),
    Screen.CONSENTS: ("consents", "ConsentsPart"),
    Screen.DETAILS: ("details", "DetailsPart"),
    Screen.REWARDS: ("rewards", "RewardsPart"),
    Screen.CONFIRM: ("rewards", "ConfirmPart"),
    Screen.PRINTING: ("voucher", "VoucherPart"),
    Screen.DONE: ("voucher", "VoucherPart"),
    Screen.STAFF_PIN: ("staff_keypads", "StaffPinPart"),
    Screen.STAFF_AMOUNT: ("staff_keypads", "StaffAmountPart"),
    Screen.STAFF: ("staff", "StaffMenuPart"),
    Screen.STAFF_TAP: ("staff", "StaffTapPart"),
    Screen.STAFF_RESULT: ("staff", "StaffResultPart"),
}


class Parts:
    """The part for each screen, made on first use (and kept: it may hold what is being typed)."""

    def __init__(self) -> None:
        self._made: dict[tuple[str, str], ScreenPart] = {}

    def get(self, screen: Screen) -> ScreenPart:
        key = PARTS[screen]
        part = self._made.get(key)
        if part is None:
            module, name = key
            part = getattr(importlib.import_module(f"{__name__}.{module}"), name)()
            assert screen in part.screens, f"{name} does not draw {screen}"
            self._made[key] = part
        return part

    def load_all(self) -> None:
        for screen in Screen:
            self.get(screen)


def all_parts() -> list[ScreenPart]:
    parts = Parts()
    parts.load_all()
    return list({id(p): p for p in (parts.get(s) for s in Screen)}.values())
