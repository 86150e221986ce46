"""DETAILS: optional first name, e-mail, phone and birthday, typed on the docked on-screen keyboard
(AZERTY in French, QWERTY in English, a numeric pad for the phone and the date). Touch a field to type
in it. What is typed stays on this screen until "Continue" sends it all in one `DetailsDone`."""

from __future__ import annotations

from kivy.uix.widget import Widget
from kivy.utils import escape_markup

from kiosk.session.model import Back, Screen, View
from kiosk.ui.branding import rgba
from kiosk.ui.chrome import Ctx, page, paragraph, primary, secondary
from kiosk.ui.formatting import birth_date_shown
from kiosk.ui.forms import FIELDS, DetailsState
from kiosk.ui.keyboard import Keyboard
from kiosk.ui.keys import Page
from kiosk.ui.widgets import Box, Card, Grid, Text


class DetailsPart:
    screens = (Screen.DETAILS,)

    def __init__(self) -> None:
        self.state = DetailsState()
        self._ctx: Ctx | None = None
        self._fields: dict[str, tuple[Card, Text]] = {}
        self._error: Text | None = None
        self._keyboard: Keyboard | None = None

    def enter(self, view: View) -> None:
        self.state = DetailsState.from_view(view)

    def build(self, ctx: Ctx) -> Widget:
        self._ctx = ctx
        t, _ = ctx.theme, ctx.tr
        body = Box(orientation="vertical" if t.portrait else "horizontal", spacing=t.gap, name="details")
        left = Box(orientation="vertical", spacing=t.px(6), size_hint_x=0.74, name="details-form")
        grid = Grid(cols=1 if t.portrait else 2, spacing=t.px(8), name="fields")
        self._fields = {}
        for name, caption, _page, _limit in FIELDS:
            card = Card(
                lambda n=name: self._focus(n),
                bg=t.surface,
                border=t.muted,
                radius=t.px(8),
                padding=(t.px(12), t.px(2)),
                name=f"field-{name}",
            )
            card.add_widget(
                Text(
                    _(caption),
                    colour=t.muted,
                    font_size=t.small,
                    halign="left",
                    size_hint_y=0.7,
                    name=f"caption-{name}",
                )
            )
            value = Text(
                "", colour=t.text, font_size=t.large, halign="left", markup=True, name=f"value-{name}"
            )
            card.add_widget(value)
            self._fields[name] = (card, value)
            grid.add_widget(card)
        left.add_widget(grid)
        self._error = paragraph(
            ctx,
            "",
            size=t.body,
            colour=t.why_not,
            bold=True,
            size_hint_y=None,
            height=t.px(30),
            name="details-error",
        )
        left.add_widget(self._error)
        body.add_widget(left)
        actions = Box(
            orientation="horizontal" if t.portrait else "vertical",
            spacing=t.px(12),
            size_hint=(1, None) if t.portrait else (0.26, 1),
            height=t.target,
            name="details-actions",
        )
        actions.add_widget(secondary(ctx, _("Back"), ctx.do(Back()), "back"))
        actions.add_widget(primary(ctx, _("Continue"), self._done, "continue"))
        body.add_widget(actions)
        root = page(ctx, body, title=_("Your details (optional)"))
        self._keyboard = Keyboard(
            t,
            ctx.view.lang,
            on_type=self._type,
            on_back=self._back,
            page=self._page(),
            size_hint_y=None,
            height=4 * t.key,
        )
        root.add_widget(self._keyboard)
        self._refresh()
        return root

    # -- local editing (no view round trip for each key) --------------------------------------------

    def _page(self) -> Page:
        return next(p for n, _c, p, _l in FIELDS if n == self.state.focus)

    def _focus(self, name: str) -> None:
        self.state.focus = name
        if self._keyboard is not None:
            self._keyboard.set_page(self._page())
        self._refresh()

    def _type(self, text: str) -> None:
        self.state.type(text)
        self._refresh()

    def _back(self) -> None:
        self.state.back()
        self._refresh()

    def _done(self) -> None:
        intent = self.state.result()
        if intent is None:
            self._focus(self.state.focus)
            return
        assert self._ctx is not None
        self._ctx.send(intent)

    def _refresh(self) -> None:
        ctx = self._ctx
        if ctx is None:
            return
        t, _ = ctx.theme, ctx.tr
        optional = escape_markup(_("optional"))
        for name, _caption, _page, _limit in FIELDS:
            value = self.state.values[name]
            shown = escape_markup(birth_date_shown(value) if name == "birth_date" else value)
            focused = name == self.state.focus
            card, label = self._fields[name]
            if focused:
                label.text = f"{shown}[color={t.primary}]|[/color]"
            else:
                label.text = shown or f"[color={t.muted}]{optional}[/color]"
            card._border_color.rgba = rgba(t.primary if focused else t.muted)
            card._border.width = 2.5 if focused else 1.2
        if self._error is not None:
            self._error.text = _(self.state.error) if self.state.error else ""
