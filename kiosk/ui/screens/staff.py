"""STAFF (the menu: queue, hub, reader and printer state; record a purchase, reprint the last voucher,
exit), STAFF_TAP ("the customer taps their card" for that amount) and STAFF_RESULT (what it earned)."""

from __future__ import annotations

from kivy.uix.widget import Widget
from kivy.utils import escape_markup

from kiosk.session.model import Back, Screen, StaffExit, StaffReprint, View
from kiosk.ui.chrome import Ctx, action_row, secondary, staff_page
from kiosk.ui.formatting import balance_texts, money
from kiosk.ui.screens.staff_keypads import AmountEntry
from kiosk.ui.widgets import Box, Tap, Text


class StaffMenuPart:
    screens = (Screen.STAFF,)

    def __init__(self) -> None:
        self.amount: AmountEntry | None = None  # "Record a purchase" opens the keypad on this screen

    def enter(self, view: View) -> None:
        self.amount = None

    def build(self, ctx: Ctx) -> Widget:
        if self.amount is not None:
            return self.amount.build(ctx, self._close_amount(ctx))
        t, view, _ = ctx.theme, ctx.view, ctx.tr
        staff = view.staff
        body = Box(
            orientation="vertical" if t.portrait else "horizontal", spacing=t.px(16), name="staff-menu"
        )
        status = Box(
            orientation="vertical",
            spacing=t.px(4),
            bg=t.staff_surface,
            size_hint=(1, 1) if t.portrait else (0.5, 1),
            name="staff-status",
        )
        status.padding = (t.px(14), t.px(8))
        hub = _("online") if view.online else _("offline")
        queue = _.ngettext("{n} request", "{n} requests", view.queue).format(n=view.queue)
        printer = staff.printer_text(view.lang) if staff.printer_text is not None else staff.printer
        rows = (
            (_("Hub"), hub),
            (_("Waiting to send"), queue),
            (
                _("Card reader"),
                staff.reader_text(view.lang) if staff.reader_text is not None else staff.reader,
            ),
            (_("Printer"), printer),
        )
        for i, (label, value) in enumerate(rows):
            line = _("{label}: {state}").format(
                label=f"[b]{escape_markup(label)}[/b]", state=escape_markup(value)
            )
            status.add_widget(
                Text(
                    line,
                    colour=t.staff_text,
                    font_size=t.body,
                    halign="left",
                    markup=True,
                    size_hint_y=1.6 if i == 3 else 1,
                    name=f"status-{i}",
                )
            )
        body.add_widget(status)
        buttons = Box(orientation="vertical", spacing=t.px(12), name="staff-actions")
        buttons.add_widget(
            Tap(
                _("Record a purchase"),
                self._open_amount(ctx),
                bg=t.staff_good,
                radius=t.px(12),
                font_size=t.large,
                bold=True,
                name="record-purchase",
            )
        )
        buttons.add_widget(
            Tap(
                _("Reprint the last voucher"),
                ctx.do(StaffReprint()) if staff.last_voucher else None,
                bg="#F3F5F7" if staff.last_voucher else "#5B6670",
                radius=t.px(12),
                font_size=t.large,
                disabled=not staff.last_voucher,
                name="reprint",
            )
        )
        buttons.add_widget(secondary(ctx, _("Exit staff mode"), ctx.do(StaffExit()), "exit"))
        body.add_widget(buttons)
        return staff_page(ctx, body, title=_("Staff mode"))

    def _open_amount(self, ctx: Ctx):  # type: ignore[no-untyped-def]
        def open_() -> None:
            self.amount = AmountEntry()
            if ctx.rebuild is not None:
                ctx.rebuild()

        return open_

    def _close_amount(self, ctx: Ctx):  # type: ignore[no-untyped-def]
        def close() -> None:
            self.amount = None
            if ctx.rebuild is not None:
                ctx.rebuild()

        return close


class StaffTapPart:
    screens = (Screen.STAFF_TAP,)

    def enter(self, view: View) -> None:
        pass

    def build(self, ctx: Ctx) -> Widget:
        t, view, _ = ctx.theme, ctx.view, ctx.tr
        body = Box(orientation="vertical", spacing=t.gap, name="staff-tap")
        amount = view.staff.amount_cents or 0
        body.add_widget(
            Text(
                money(amount, view.lang), colour=t.staff_text, font_size=t.huge, bold=True, name="tap-amount"
            )
        )
        body.add_widget(
            Text(
                _("Ask the customer to tap their card on the reader."),
                colour=t.staff_text,
                font_size=t.title,
                size_hint_y=1.2,
                name="tap-text",
            )
        )
        body.add_widget(action_row(ctx, secondary(ctx, _("Cancel"), ctx.do(Back()), "cancel")))
        return staff_page(ctx, body, title=_("Record a purchase"))


class StaffResultPart:
    screens = (Screen.STAFF_RESULT,)

    def enter(self, view: View) -> None:
        pass

    def build(self, ctx: Ctx) -> Widget:
        t, view, _ = ctx.theme, ctx.view, ctx.tr
        body = Box(orientation="vertical", spacing=t.gap, name="staff-result")
        member = view.member
        if member is not None:
            who = member.display_name or member.code
            balances = ", ".join(line for _k, line in balance_texts(member, view.lang))
            body.add_widget(
                Text(
                    f"{who} — {balances}",
                    colour=t.staff_text,
                    font_size=t.large,
                    bold=True,
                    name="result-member",
                )
            )
        for i, effect in enumerate(view.effects):
            body.add_widget(
                Text(
                    "• " + effect(view.lang), colour=t.staff_text, font_size=t.body, name=f"result-effect-{i}"
                )
            )
        if member is None and not view.effects and view.message is None:
            body.add_widget(
                Text(_("Purchase recorded."), colour=t.staff_text, font_size=t.large, name="result-text")
            )
        body.add_widget(
            action_row(
                ctx,
                secondary(ctx, _("Staff menu"), ctx.do(Back()), "menu"),
                secondary(ctx, _("Exit staff mode"), ctx.do(StaffExit()), "exit"),
            )
        )
        return staff_page(ctx, body, title=_("Purchase recorded") if member is not None else _("Purchase"))
