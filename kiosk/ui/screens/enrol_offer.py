"""ENROL_OFFER: an unknown card: join the programme? (or: not yet, N € more in purchases first)."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.session import texts
from kiosk.session.model import DeclineEnrol, Finish, Screen, StartEnrol, View
from kiosk.ui.chrome import Ctx, action_row, page, paragraph, primary, secondary
from kiosk.ui.widgets import Box


class EnrolOfferPart:
    screens = (Screen.ENROL_OFFER,)

    def enter(self, view: View) -> None:
        pass

    def build(self, ctx: Ctx) -> Widget:
        t, view, _ = ctx.theme, ctx.view, ctx.tr
        body = Box(orientation="vertical", spacing=t.gap, name="enrol-offer")
        body.add_widget(
            paragraph(
                ctx, _("This card is not a member card yet"), size=t.title, bold=True, name="offer-title"
            )
        )
        if view.enrolment_missing_cents is not None:
            text = texts.enrolment_missing_words(view.enrolment_missing_cents)(view.lang)
            body.add_widget(paragraph(ctx, text, size=t.large, size_hint_y=1.5, name="offer-text"))
            body.add_widget(action_row(ctx, primary(ctx, _("OK"), ctx.do(Finish()), "ok")))
        else:
            text = _(
                "Join {shop}'s loyalty programme: points on every purchase, then rewards. It takes a minute."
            ).format(shop=t.branding.shop_name)
            body.add_widget(paragraph(ctx, text, size=t.large, size_hint_y=1.5, name="offer-text"))
            body.add_widget(
                action_row(
                    ctx,
                    secondary(ctx, _("No, thanks"), ctx.do(DeclineEnrol()), "decline"),
                    primary(ctx, _("Join"), ctx.do(StartEnrol()), "join"),
                )
            )
        return page(ctx, body)
