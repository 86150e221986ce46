"""ATTRACT: the shop's name, colours and logo, "tap your card", the FR/EN switch, and the hidden staff
corner (hold the top-left corner for 3 s)."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.session.model import Screen, StaffRequest, View
from kiosk.ui.chrome import Ctx, lang_switch, offline_banner
from kiosk.ui.widgets import Box, HoldCorner, Picture, Text, spacer

STAFF_HOLD_SECONDS = 3.0


class AttractPart:
    screens = (Screen.ATTRACT,)

    def enter(self, view: View) -> None:
        pass

    def build(self, ctx: Ctx) -> Widget:
        t, _ = ctx.theme, ctx.tr
        b = t.branding
        root = Box(orientation="vertical", bg=t.primary, name="attract")
        top = Box(orientation="horizontal", size_hint_y=None, height=t.header, name="top")
        top.padding = (0, 0, t.px(8), 0)
        top.add_widget(
            HoldCorner(
                STAFF_HOLD_SECONDS,
                ctx.do(StaffRequest()),
                size_hint_x=None,
                width=t.px(96),
                name="staff-corner",
            )
        )
        top.add_widget(spacer())
        top.add_widget(lang_switch(ctx))
        root.add_widget(top)
        banner = offline_banner(ctx)
        if banner is not None:
            root.add_widget(banner)
        middle = Box(orientation="vertical", spacing=t.gap, name="middle")
        middle.padding = (t.px(24), t.px(8), t.px(24), t.px(24))
        if b.logo is not None:
            middle.add_widget(Picture(source=str(b.logo), size_hint_y=0.9, name="logo"))
        middle.add_widget(
            Text(
                b.shop_name,
                colour=t.on_primary,
                font_size=t.huge,
                bold=True,
                size_hint_y=0.8,
                name="shop-name",
            )
        )
        middle.add_widget(
            Text(
                _("Tap your loyalty card on the reader"),
                colour=t.on_primary,
                font_size=t.title,
                size_hint_y=0.8,
                name="tap-prompt",
            )
        )
        card = Box(size_hint_y=0.5, bg=t.accent, radius=t.px(14), name="join-strip")
        card.padding = (t.px(16), t.px(4))
        card.add_widget(
            Text(
                _("Not a member yet? Tap your card to join."),
                colour=t.on_accent,
                font_size=t.body,
                name="join-hint",
            )
        )
        middle.add_widget(card)
        root.add_widget(middle)
        return root
