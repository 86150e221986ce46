"""CONSENTS: the e-mail and SMS opt-ins, each off until the person turns it on, and the privacy notice
(what is kept, why, how to withdraw, that marketing needs each opt-in)."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.session.model import Back, ConsentsDone, Screen, SetConsent, View
from kiosk.ui.chrome import Ctx, action_row, page, paragraph, primary, secondary
from kiosk.ui.i18n import N_
from kiosk.ui.widgets import SYMBOL_FONT, Box, Tap

PRIVACY_NOTICE = N_(
    "We keep your card number, your purchases and points, and only the details you choose to give, to run "
    "your loyalty account. Nothing is sold or shared. Offers by e-mail or SMS are sent only if you turn "
    "that channel on here. You can withdraw a choice, or have your data erased, at any time at the till."
)


class ConsentsPart:
    screens = (Screen.CONSENTS,)

    def enter(self, view: View) -> None:
        pass

    def build(self, ctx: Ctx) -> Widget:
        t, view, _ = ctx.theme, ctx.view, ctx.tr
        draft = view.draft
        body = Box(orientation="vertical", spacing=t.gap, name="consents")
        body.add_widget(
            paragraph(
                ctx,
                _("Would you like our offers? Both are optional."),
                size=t.large,
                bold=True,
                size_hint_y=0.7,
                name="consents-title",
            )
        )
        toggles = Box(
            orientation="vertical" if t.portrait else "horizontal",
            spacing=t.px(12),
            size_hint_y=1.3 if t.portrait else 0.9,
            name="toggles",
        )
        toggles.add_widget(self._toggle(ctx, "email", draft.consent_email, _("Offers by e-mail")))
        toggles.add_widget(self._toggle(ctx, "sms", draft.consent_sms, _("Offers by SMS")))
        body.add_widget(toggles)
        body.add_widget(
            paragraph(
                ctx,
                _(PRIVACY_NOTICE),
                size=t.small,
                colour=t.muted,
                halign="left",
                size_hint_y=1.5,
                name="privacy-notice",
            )
        )
        body.add_widget(
            action_row(
                ctx,
                secondary(ctx, _("Back"), ctx.do(Back()), "back"),
                primary(ctx, _("Continue"), ctx.do(ConsentsDone()), "continue"),
            )
        )
        return page(ctx, body)

    def _toggle(self, ctx: Ctx, channel: str, on: bool, label: str) -> Tap:
        t, _ = ctx.theme, ctx.tr
        mark = "☑" if on else "☐"
        state = _("yes") if on else _("no")
        text = f"[font={SYMBOL_FONT}]{mark}[/font]  " + _("{label}: {state}").format(label=label, state=state)
        return Tap(
            text,
            ctx.do(SetConsent(channel, not on)),  # type: ignore[arg-type]
            bg=t.primary if on else t.surface,
            border=None if on else t.muted,
            radius=t.px(12),
            font_size=t.large,
            markup=True,
            name=f"consent-{channel}",
        )
