"""MESSAGE (an error or notice in plain words, with a button back) and the short waits: LOOKUP (a card
was read), ENROLLING, REDEEMING (the hub is asked)."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.session.model import Finish, Screen, View
from kiosk.ui.chrome import Ctx, action_row, page, paragraph, primary
from kiosk.ui.i18n import N_, Tr
from kiosk.ui.widgets import Box

_WAITING = {
    Screen.LOOKUP: (N_("One moment…"), N_("Reading your card")),
    Screen.ENROLLING: (N_("One moment…"), N_("Creating your membership")),
    Screen.REDEEMING: (N_("One moment…"), N_("Exchanging your reward")),
}


class WaitingPart:
    screens = tuple(_WAITING)

    def enter(self, view: View) -> None:
        pass

    def build(self, ctx: Ctx) -> Widget:
        t, _ = ctx.theme, ctx.tr
        title, line = _WAITING[ctx.view.screen]
        body = Box(orientation="vertical", spacing=t.gap, name="waiting")
        body.add_widget(paragraph(ctx, _(line), size=t.title, bold=True, name="waiting-title"))
        body.add_widget(paragraph(ctx, _(title), size=t.large, colour=t.muted, name="waiting-text"))
        return page(ctx, body)


class MessagePart:
    screens = (Screen.MESSAGE,)

    def enter(self, view: View) -> None:
        pass

    def build(self, ctx: Ctx) -> Widget:
        t, view = ctx.theme, ctx.view
        _ = Tr(view.lang)
        body = Box(orientation="vertical", spacing=t.gap, name="message")
        text = (
            view.message(view.lang)
            if view.message is not None
            else _("Something went wrong. Please try again.")
        )
        body.add_widget(paragraph(ctx, text, size=t.title, name="message-text"))
        body.add_widget(action_row(ctx, primary(ctx, _("OK"), ctx.do(Finish()), "ok")))
        return page(ctx, body)
