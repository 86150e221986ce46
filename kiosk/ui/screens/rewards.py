"""REWARDS: the catalogue as big cards, each affordable (touch it) or not (and why); CONFIRM: "exchange
80 points for a free coffee?"."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.session.model import Back, ChooseReward, Confirm, RewardOption, Screen, View
from kiosk.ui.branding import text_on
from kiosk.ui.chrome import Ctx, action_row, page, paragraph, primary, secondary
from kiosk.ui.formatting import balance_texts, cost_text
from kiosk.ui.widgets import Box, Card, Grid, Text

PER_PAGE = 3


class RewardsPart:
    screens = (Screen.REWARDS,)

    def __init__(self) -> None:
        self.page = 0
        self._ctx: Ctx | None = None

    def enter(self, view: View) -> None:
        self.page = 0

    def build(self, ctx: Ctx) -> Widget:
        self._ctx = ctx
        t, view, _ = ctx.theme, ctx.view, ctx.tr
        rewards = view.rewards
        pages = max(1, -(-len(rewards) // PER_PAGE))
        self.page = min(self.page, pages - 1)
        body = Box(orientation="vertical", spacing=t.gap, name="rewards")
        if view.member is not None:
            have = ", ".join(line for _k, line in balance_texts(view.member, view.lang))
            body.add_widget(
                paragraph(
                    ctx,
                    _("You have {balances}").format(balances=have),
                    size=t.large,
                    bold=True,
                    size_hint_y=0.22,
                    name="rewards-balance",
                )
            )
        cards = Grid(
            cols=1 if t.portrait else PER_PAGE,
            rows=PER_PAGE if t.portrait else 1,
            spacing=t.px(12),
            name="cards",
        )
        shown = rewards[self.page * PER_PAGE : (self.page + 1) * PER_PAGE]
        for reward in shown:
            cards.add_widget(self._card(ctx, reward))
        if not rewards:
            cards.add_widget(
                paragraph(ctx, _("No rewards in the catalogue yet."), size=t.large, name="no-rewards")
            )
        body.add_widget(cards)
        buttons = [secondary(ctx, _("Back"), ctx.do(Back()), "back")]
        if self.page > 0:
            buttons.append(secondary(ctx, _("Previous"), self._turn(-1), "previous"))
        if self.page < pages - 1:
            buttons.append(secondary(ctx, _("More"), self._turn(1), "next"))
        body.add_widget(action_row(ctx, *buttons))
        return page(ctx, body, title=_("Rewards"))

    def _turn(self, step: int):  # type: ignore[no-untyped-def]
        def turn() -> None:
            self.page += step
            ctx = self._ctx
            if ctx is not None and ctx.rebuild is not None:
                ctx.rebuild()

        return turn

    def _card(self, ctx: Ctx, reward: RewardOption) -> Card:
        t, lang, _ = ctx.theme, ctx.view.lang, ctx.tr
        bg = t.primary if reward.affordable else t.unavailable
        fg = text_on(bg)
        card = Card(
            ctx.do(ChooseReward(reward.id)) if reward.affordable else None,
            bg=bg,
            radius=t.px(14),
            disabled=not reward.affordable,
            padding=(t.px(10), t.px(8)),
            name=f"reward-{reward.id}",
        )
        card.add_widget(
            Text(
                reward.name(lang),
                colour=fg,
                font_size=t.title,
                bold=True,
                size_hint_y=1.3,
                name=f"reward-name-{reward.id}",
            )
        )
        card.add_widget(
            Text(cost_text(reward.cost, lang), colour=fg, font_size=t.large, name=f"reward-cost-{reward.id}")
        )
        if reward.affordable:
            state = Text(
                _("Choose"), colour=fg, font_size=t.large, bold=True, name=f"reward-state-{reward.id}"
            )
        else:
            why = reward.why_not(lang) if reward.why_not else _("Not available right now")
            state = Text(
                why,
                colour=t.why_not,
                font_size=t.body,
                bold=True,
                size_hint_y=1.2,
                name=f"reward-state-{reward.id}",
            )
        card.add_widget(state)
        return card


class ConfirmPart:
    screens = (Screen.CONFIRM,)

    def enter(self, view: View) -> None:
        pass

    def build(self, ctx: Ctx) -> Widget:
        t, view, _ = ctx.theme, ctx.view, ctx.tr
        body = Box(orientation="vertical", spacing=t.gap, name="confirm-body")
        chosen = view.chosen
        if chosen is not None:
            question = _("Exchange {cost} for “{reward}”?").format(
                cost=cost_text(chosen.cost, view.lang), reward=chosen.name(view.lang)
            )
        else:
            question = _("Exchange this reward?")
        body.add_widget(
            paragraph(ctx, question, size=t.title, bold=True, size_hint_y=1.4, name="confirm-question")
        )
        body.add_widget(
            paragraph(
                ctx,
                _("A voucher is printed right away. It can be used once, at the till."),
                size=t.large,
                colour=t.muted,
                name="confirm-text",
            )
        )
        body.add_widget(
            action_row(
                ctx,
                secondary(ctx, _("No"), ctx.do(Back()), "no"),
                primary(ctx, _("Yes, exchange"), ctx.do(Confirm()), "confirm"),
            )
        )
        return page(ctx, body)
