"""What every screen shares: the header with the shop's name and the FR/EN switch, the offline banner, a
notice line, and the standard buttons. A screen part builds its body and wraps it in a page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from kivy.graphics.texture import Texture
from kivy.uix.widget import Widget

from kiosk.session.model import Intent, Screen, SetLanguage, View
from kiosk.ui.i18n import Tr
from kiosk.ui.theme import Theme
from kiosk.ui.widgets import Box, Tap, Text


@dataclass
class Ctx:
    """What a screen part builds from: the view, the theme for this window size, where intents go."""

    view: View
    theme: Theme
    send: Callable[[Intent], None]
    voucher_texture: Callable[[dict[str, Any]], Texture]
    rebuild: Callable[[], None] | None = None  # redraw this screen from the same view (local state changed)

    @property
    def tr(self) -> Tr:
        return Tr(self.view.lang)

    def do(self, intent: Intent) -> Callable[[], None]:
        """A button's action: send this intent."""
        return lambda: self.send(intent)


class ScreenPart(Protocol):
    """One screen (or a few alike): builds its widgets from a view; may keep what is being typed."""

    screens: tuple[Screen, ...]

    def enter(self, view: View) -> None:
        """The session just came to this screen (from another one): forget what was typed before."""

    def build(self, ctx: Ctx) -> Widget: ...


# -- buttons ----------------------------------------------------------------------------------------


def primary(ctx: Ctx, text: str, on_tap: Callable[[], None] | None, name: str, **kwargs: Any) -> Tap:
    t = ctx.theme
    kwargs.setdefault("font_size", t.large)
    return Tap(text, on_tap, bg=t.primary, name=name, radius=t.px(12), bold=True, **kwargs)


def secondary(ctx: Ctx, text: str, on_tap: Callable[[], None] | None, name: str, **kwargs: Any) -> Tap:
    t = ctx.theme
    kwargs.setdefault("font_size", t.large)
    return Tap(text, on_tap, bg=t.secondary, name=name, radius=t.px(12), **kwargs)


def action_row(ctx: Ctx, *buttons: Widget) -> Box:
    """A row of big buttons along the bottom (≥ 64 px high at 800×480)."""
    t = ctx.theme
    row = Box(
        orientation="horizontal",
        size_hint_y=None,
        height=t.target + t.px(8),
        spacing=t.px(16),
        name="actions",
    )
    row.padding = (0, t.px(4), 0, t.px(4))
    for button in buttons:
        row.add_widget(button)
    return row


# -- bars -------------------------------------------------------------------------------------------


def lang_switch(ctx: Ctx) -> Box:
    """FR | EN: the language shown is highlighted; either sends SetLanguage."""
    t = ctx.theme
    box = Box(
        orientation="horizontal",
        size_hint=(None, 1),
        width=2 * t.px(72) + t.px(6),
        spacing=t.px(6),
        name="lang",
    )
    for lang in ("fr", "en"):
        current = ctx.view.lang == lang
        box.add_widget(
            Tap(
                lang.upper(),
                ctx.do(SetLanguage(lang)),  # type: ignore[arg-type]
                bg=t.accent if current else t.surface,
                radius=0,
                font_size=t.body,
                bold=current,
                name=f"lang-{lang}",
            )
        )
    return box


def header(ctx: Ctx, title: str | None = None) -> Box:
    t = ctx.theme
    bar = Box(orientation="horizontal", size_hint_y=None, height=t.header, bg=t.primary, name="header")
    bar.padding = (t.px(16), 0, t.px(8), 0)
    bar.add_widget(
        Text(
            title or t.branding.shop_name,
            colour=t.on_primary,
            font_size=t.large,
            bold=True,
            halign="left",
            name="header-title",
        )
    )
    bar.add_widget(lang_switch(ctx))
    return bar


def offline_banner(ctx: Ctx, *, staff: bool = False) -> Box | None:
    view, t, _ = ctx.view, ctx.theme, ctx.tr
    if view.online:
        return None
    if staff:
        text = _.ngettext(
            "Hub unreachable: {n} request waiting to be sent",
            "Hub unreachable: {n} requests waiting to be sent",
            view.queue,
        ).format(n=view.queue)
    else:
        text = _("Offline: your points are kept and will be updated as soon as the connection is back.")
    bar = Box(size_hint_y=None, height=t.banner, bg=t.warning, name="offline-banner")
    bar.padding = (t.px(12), 0)
    bar.add_widget(Text(text, colour="#FFFFFF", font_size=t.body, bold=True, name="offline-text"))
    return bar


def notice(ctx: Ctx) -> Box | None:
    """`view.message` shown over a screen other than MESSAGE ("Rewards need the hub: try again soon")."""
    view, t = ctx.view, ctx.theme
    if view.message is None or view.screen == Screen.MESSAGE:
        return None
    bar = Box(size_hint_y=None, height=t.banner * 1.4, bg=t.notice, name="notice")
    bar.padding = (t.px(12), 0)
    bar.add_widget(Text(view.message(view.lang), colour=t.text, font_size=t.body, name="notice-text"))
    return bar


def page(ctx: Ctx, body: Widget, *, title: str | None = None) -> Box:
    """A customer screen: header (shop, FR/EN), offline banner, notice, then the body."""
    t = ctx.theme
    root = Box(orientation="vertical", bg=t.background, name="page")
    root.add_widget(header(ctx, title))
    for bar in (offline_banner(ctx), notice(ctx)):
        if bar is not None:
            root.add_widget(bar)
    frame = Box(orientation="vertical", name="body")
    frame.padding = (t.px(16), t.px(10), t.px(16), t.px(10))
    frame.add_widget(body)
    root.add_widget(frame)
    return root


def staff_page(ctx: Ctx, body: Widget, *, title: str) -> Box:
    """A staff screen: dark, with the hub's state and the queue when offline."""
    t = ctx.theme
    root = Box(orientation="vertical", bg=t.staff_background, name="staff-page")
    bar = Box(orientation="horizontal", size_hint_y=None, height=t.header, bg=t.staff_surface, name="header")
    bar.padding = (t.px(16), 0)
    bar.add_widget(
        Text(title, colour=t.staff_text, font_size=t.large, bold=True, halign="left", name="header-title")
    )
    root.add_widget(bar)
    for extra in (offline_banner(ctx, staff=True), notice(ctx)):
        if extra is not None:
            root.add_widget(extra)
    frame = Box(orientation="vertical", name="body")
    frame.padding = (t.px(16), t.px(10), t.px(16), t.px(10))
    frame.add_widget(body)
    root.add_widget(frame)
    return root


def paragraph(
    ctx: Ctx, text: str, *, size: float | None = None, colour: str | None = None, **kwargs: Any
) -> Text:
    t = ctx.theme
    return Text(text, colour=colour or t.text, font_size=size or t.body, **kwargs)
