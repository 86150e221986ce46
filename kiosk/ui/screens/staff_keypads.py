"""STAFF_PIN (the staff code, digits masked, attempts left, locked after too many) and STAFF_AMOUNT (a
purchase amount typed as cents: 1, 2, 5, 0 → 12,50 €)."""

from __future__ import annotations

from collections.abc import Callable

from kivy.uix.widget import Widget

from kiosk.session.model import Back, Screen, StaffAmount, StaffExit, StaffPin, View
from kiosk.ui.chrome import Ctx, secondary, staff_page
from kiosk.ui.formatting import MAX_AMOUNT_DIGITS, PIN_MAX_DIGITS, keypad_amount, keypad_push, money
from kiosk.ui.keypad import Keypad
from kiosk.ui.widgets import SYMBOL_FONT, TEXT_FONT, Box, Text


def _split(ctx: Ctx, left: Box, pad: Widget) -> Box:
    t = ctx.theme
    body = Box(orientation="vertical" if t.portrait else "horizontal", spacing=t.px(16), name="keypad-screen")
    left.size_hint = (1, 0.55) if t.portrait else (0.45, 1)
    body.add_widget(left)
    body.add_widget(pad)
    return body


class StaffPinPart:
    screens = (Screen.STAFF_PIN,)

    def __init__(self) -> None:
        self.digits = ""
        self._attempts: int | None = None
        self._ctx: Ctx | None = None

    def enter(self, view: View) -> None:
        self.digits = ""
        self._attempts = view.staff.pin_attempts_left

    def build(self, ctx: Ctx) -> Widget:
        self._ctx = ctx
        t, view, _ = ctx.theme, ctx.view, ctx.tr
        staff = view.staff
        if staff.pin_attempts_left != self._attempts:  # a wrong code came back: start again
            self.digits, self._attempts = "", staff.pin_attempts_left
        locked = staff.locked_until is not None
        left = Box(orientation="vertical", spacing=t.gap, name="pin-side")
        if locked:
            display, info = _("Too many wrong codes: the pad is locked for a while."), ""
        else:
            display = " ".join("●" for _d in self.digits) if self.digits else _("Type the staff code")
            tries = staff.pin_attempts_left
            info = _.ngettext("{n} attempt left", "{n} attempts left", tries).format(n=tries)
        masked = bool(self.digits) and not locked
        left.add_widget(
            Text(
                display,
                colour=t.staff_text,
                font_size=t.huge if masked else t.large,
                font_name=SYMBOL_FONT if masked else TEXT_FONT,
                bg=t.staff_surface,
                name="pin-display",
            )
        )
        left.add_widget(Text(info, colour=t.staff_text, font_size=t.body, name="pin-info"))
        left.add_widget(
            secondary(ctx, _("Cancel"), ctx.do(StaffExit()), "cancel", size_hint_y=None, height=t.target)
        )
        pad = Keypad(t, _, self._key, ok_enabled=bool(self.digits), enabled=not locked)
        return staff_page(ctx, _split(ctx, left, pad), title=_("Staff code"))

    def _key(self, key: str) -> None:
        ctx = self._ctx
        assert ctx is not None
        if key == "ok":
            pin, self.digits = self.digits, ""
            ctx.send(StaffPin(pin))
        else:
            self.digits = keypad_push(self.digits, key, PIN_MAX_DIGITS)
        if ctx.rebuild is not None:
            ctx.rebuild()


class AmountEntry:
    """The purchase amount keypad, typed as cents; `on_back` leaves it (an intent, or the staff menu)."""

    def __init__(self) -> None:
        self.digits = ""

    def build(self, ctx: Ctx, on_back: Callable[[], None]) -> Widget:
        t, view, _ = ctx.theme, ctx.view, ctx.tr
        left = Box(orientation="vertical", spacing=t.gap, name="amount-side")
        left.add_widget(
            Text(_("Amount paid by the customer"), colour=t.staff_text, font_size=t.body, name="amount-label")
        )
        left.add_widget(
            Text(
                money(keypad_amount(self.digits), view.lang),
                colour=t.staff_text,
                font_size=t.huge,
                bold=True,
                bg=t.staff_surface,
                name="amount-display",
            )
        )
        left.add_widget(secondary(ctx, _("Back"), on_back, "back", size_hint_y=None, height=t.target))
        pad = Keypad(t, _, lambda key: self._key(ctx, key), ok_enabled=keypad_amount(self.digits) > 0)
        return staff_page(ctx, _split(ctx, left, pad), title=_("Record a purchase"))

    def _key(self, ctx: Ctx, key: str) -> None:
        if key == "ok":
            ctx.send(StaffAmount(keypad_amount(self.digits)))
            return
        self.digits = keypad_push(self.digits, key, MAX_AMOUNT_DIGITS, leading_zero=False)
        if ctx.rebuild is not None:
            ctx.rebuild()


class StaffAmountPart:
    """The session never shows STAFF_AMOUNT (the amount is typed from the staff menu) but would treat it
    like STAFF: the same keypad."""

    screens = (Screen.STAFF_AMOUNT,)

    def __init__(self) -> None:
        self.entry = AmountEntry()

    def enter(self, view: View) -> None:
        self.entry = AmountEntry()

    def build(self, ctx: Ctx) -> Widget:
        return self.entry.build(ctx, ctx.do(Back()))
