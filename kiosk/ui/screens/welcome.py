"""WELCOME: hello, the balances with their unit words, the tier and a gauge to the next one, what this
visit earned, and (hub unreachable) the last known balance marked as such."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.session import texts
from kiosk.session.model import Finish, Screen, ShowRewards, View
from kiosk.ui.chrome import Ctx, action_row, page, paragraph, primary, secondary
from kiosk.ui.formatting import balance_texts, progress_ratio, progress_text, stale_text
from kiosk.ui.widgets import Box, Gauge, Text, spacer


class WelcomePart:
    screens = (Screen.WELCOME,)

    def enter(self, view: View) -> None:
        pass

    def build(self, ctx: Ctx) -> Widget:
        t, view, _ = ctx.theme, ctx.view, ctx.tr
        lang, member = view.lang, view.member
        body = Box(orientation="vertical", spacing=t.gap, name="welcome")
        body.add_widget(
            paragraph(
                ctx,
                texts.greeting(member)(lang) if member is not None else _("Hello!"),
                size=t.title,
                bold=True,
                halign="left",
                size_hint_y=0.7,
                name="greeting",
            )
        )
        if member is not None and member.stale:
            strip = Box(size_hint_y=0.45, bg=t.notice, radius=t.px(8), name="stale")
            strip.padding = (t.px(12), 0)
            strip.add_widget(
                Text(stale_text(member, lang), colour=t.text, font_size=t.body, bold=True, name="stale-text")
            )
            body.add_widget(strip)
        content = Box(
            orientation="vertical" if t.portrait else "horizontal",
            spacing=t.px(16),
            size_hint_y=3,
            name="content",
        )
        if member is not None:
            content.add_widget(self._status(ctx))
        if view.effects:
            content.add_widget(self._effects(ctx))
        body.add_widget(content)
        buttons = [secondary(ctx, _("Done"), ctx.do(Finish()), "finish")]
        if member is not None:
            buttons.append(primary(ctx, _("My rewards"), ctx.do(ShowRewards()), "show-rewards"))
        body.add_widget(action_row(ctx, *buttons))
        return page(ctx, body)

    def _status(self, ctx: Ctx) -> Widget:
        """Balances, then the tier and its gauge: side by side when they have the width to themselves."""
        t, view = ctx.theme, ctx.view
        member, lang = view.member, view.lang
        assert member is not None
        wide = not t.portrait and not view.effects
        box = Box(
            orientation="horizontal" if wide else "vertical",
            spacing=t.px(16),
            bg=t.surface,
            radius=t.px(12),
            name="status",
        )
        box.padding = (t.px(14), t.px(8))
        balances = Box(orientation="vertical", spacing=t.px(4), size_hint_y=1 if wide else 3, name="balances")
        for name, line in balance_texts(member, lang):
            balances.add_widget(
                Text(
                    line,
                    colour=t.text,
                    font_size=t.title if name == "points" else t.large,
                    bold=name == "points",
                    halign="left",
                    size_hint_y=1.3 if name == "points" else 1,
                    name=f"balance-{name}",
                )
            )
        box.add_widget(balances)
        tier = Box(orientation="vertical", spacing=t.px(4), size_hint_y=1 if wide else 2.6, name="tier-box")
        tier.add_widget(
            Text(
                texts.tier_words(member)(lang),
                colour=t.text,
                font_size=t.large,
                bold=wide,
                halign="left",
                name="tier",
            )
        )
        ratio = progress_ratio(member.progress)
        if ratio is not None:
            gauge_row = Box(size_hint_y=0.6, name="gauge-row")
            gauge_row.padding = (0, t.px(6))
            gauge_row.add_widget(Gauge(ratio, track=t.secondary, fill=t.accent, name="gauge"))
            tier.add_widget(gauge_row)
        tier.add_widget(
            Text(
                progress_text(member, lang), colour=t.muted, font_size=t.body, halign="left", name="progress"
            )
        )
        if wide:
            tier.add_widget(spacer(size_hint_y=0.8))
        box.add_widget(tier)
        return box

    def _effects(self, ctx: Ctx) -> Widget:
        t, view, _ = ctx.theme, ctx.view, ctx.tr
        box = Box(orientation="vertical", spacing=t.px(4), bg=t.surface, radius=t.px(12), name="effects")
        box.padding = (t.px(14), t.px(8))
        box.add_widget(
            Text(
                _("This visit"),
                colour=t.text,
                font_size=t.large,
                bold=True,
                halign="left",
                name="effects-title",
            )
        )
        for i, effect in enumerate(view.effects):
            box.add_widget(
                Text(
                    "• " + effect(view.lang),
                    colour=t.text,
                    font_size=t.body,
                    halign="left",
                    name=f"effect-{i}",
                )
            )
        if len(view.effects) < 3:
            box.add_widget(spacer(size_hint_y=3 - len(view.effects)))
        return box
