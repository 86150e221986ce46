"""The few widgets every screen is made of: boxes with a background, text that always fits its box,
buttons (a whole card can be one), a progress gauge, a picture and the hidden hold-to-open corner.

Every widget carries a `name` ("lang-en", "reward-cafe", "key-a") so layout checks can say which one is
wrong and tests can find what to touch.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.image import Image as CoreImage
from kivy.graphics import Color, Line, RoundedRectangle
from kivy.graphics.texture import Texture
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.ui.branding import rgba, shade, text_on

KIVY_FONTS = Path(__import__("kivy").__file__).resolve().parent / "data" / "fonts"
TEXT_FONT = "Roboto"
BOLD_FONT = str(KIVY_FONTS / "Roboto-Bold.ttf")
SYMBOL_FONT = str(KIVY_FONTS / "DejaVuSans.ttf")  # ⌫ ⇧ ✓ ● (Roboto has none of them); ships with Kivy


def _paint(
    widget: Widget, bg: str | None, radius: float, border: str | None = None, inset: float = 0
) -> None:
    """Draw a rounded background (and an optional border) that follows the widget; `inset` leaves a
    margin inside the widget (keyboard keys touch each other, their faces do not)."""
    if bg is None and border is None:
        return

    def box() -> tuple[tuple[float, float], tuple[float, float]]:
        return (widget.x + inset, widget.y + inset), (
            max(0, widget.width - 2 * inset),
            max(0, widget.height - 2 * inset),
        )

    pos, size = box()
    with widget.canvas.before:
        widget._bg_color = Color(*rgba(bg or "#000000", 1.0 if bg else 0.0))
        widget._bg_rect = RoundedRectangle(pos=pos, size=size, radius=[radius])
        if border is not None:
            widget._border_color = Color(*rgba(border))
            widget._border = Line(rounded_rectangle=_outline(pos, size, radius), width=2)

    def follow(*_: Any) -> None:
        pos, size = box()
        widget._bg_rect.pos = pos
        widget._bg_rect.size = size
        if border is not None:
            widget._border.rounded_rectangle = _outline(pos, size, radius)

    widget.bind(pos=follow, size=follow)


def _outline(pos: tuple[float, float], size: tuple[float, float], radius: float) -> tuple[float, ...]:
    w, h = max(size[0], 4.0), max(size[1], 4.0)
    return (pos[0], pos[1], w, h, max(1.0, min(radius, w / 2 - 1, h / 2 - 1)))


class Box(BoxLayout):
    """A BoxLayout with an optional background colour."""

    name = StringProperty("")

    def __init__(self, bg: str | None = None, radius: float = 0, border: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.bg = bg
        _paint(self, bg, radius, border)


class Grid(GridLayout):
    name = StringProperty("")

    def __init__(self, bg: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.bg = bg
        _paint(self, bg, 0)


_GLUE = re.compile(r" (?=[€:;!?»%])|(?<=«) ")


def keep_together(text: str) -> str:
    """No line break before "€" or French punctuation (« 42,50 € », « Bonjour ! »): no-break spaces."""
    return _GLUE.sub("\u00a0", text)


class Text(Label):
    """A label that wraps within its box and shrinks its type until the text fits (down to `min_font`).

    `base_font` is the size it wants; what it got is `font_size`. Vertical centring comes from Kivy
    drawing the texture at the widget's centre (text_size height stays None so texture_size is the
    text's real extent, which the layout checks compare with the box)."""

    name = StringProperty("")
    base_font = NumericProperty(20)
    min_font = NumericProperty(11)

    def __init__(self, text: str = "", *, colour: str = "#111111", bg: str | None = None, **kwargs: Any):
        kwargs.setdefault("halign", "center")
        kwargs.setdefault("valign", "middle")
        kwargs.setdefault("font_name", TEXT_FONT)
        if "font_size" in kwargs:
            kwargs["base_font"] = kwargs.pop("font_size")
        kwargs.setdefault("min_font", min(kwargs.get("base_font", 20), 11))
        super().__init__(text=text, color=rgba(colour), disabled_color=rgba(colour), **kwargs)
        self.fg = colour
        if not hasattr(self, "bg"):  # a Tap has set and paints its own
            self.bg = bg
            _paint(self, bg, 0)
        self._refit = Clock.create_trigger(self.fit, -1)
        self.bind(size=self._refit, text=self._refit, base_font=self._refit, padding=self._refit)
        self._refit()

    def fit(self, *_: Any) -> None:
        glued = keep_together(self.text)
        if glued != self.text:
            self.text = glued  # fits again, once, on the text change
            return
        if self._settling():
            self._refit()  # after that layout, even if it leaves this text's size as it is
            return
        pad_l, _pad_t, pad_r, _pad_b = self.padding
        width = max(1.0, self.width - pad_l - pad_r)
        self.text_size = (width, None)
        size = float(self.base_font)
        while True:
            self.font_size = size
            tw, th = self._extent()
            if (tw <= self.width + 0.5 and th <= self.height + 0.5) or size <= self.min_font:
                break
            size = max(float(self.min_font), size * 0.9)
        self.texture_update()

    def _settling(self) -> bool:
        """A layout above this text is about to size it (again): a fit now would be thrown away, and a
        screen being built sizes its boxes from the outside in, a level per pass (0×0, 14×0, 72×8, …)."""
        node = self.parent
        while node is not None and node.parent is not node:  # the window is its own parent
            trigger = getattr(node, "_trigger_layout", None)
            if trigger is not None and trigger.is_triggered:
                return True
            node = node.parent
        return False

    def _extent(self) -> tuple[float, float]:
        """The size the text's texture would have at the current font size: laid out, not made.

        What `texture_update` would report as `texture_size` (Kivy's first pass), without creating a GL
        texture for every size tried: on a screen of 25 texts that is ~200 textures, 50-70 ms per screen
        under software GL. Markup texts (whose colour Kivy adds only while making the texture) are made."""
        core = self._label
        if self.markup or not core.text:
            self.texture_update()
            return tuple(self.texture_size)
        core.resolve_font_name()
        width, height = core.render()
        return (width, height) if width > 1 and height > 1 else (1.0, 1.0)


class Tap(ButtonBehavior, Text):
    """A button: text (markup allowed) on a rounded colour, darker while pressed; `on_tap()` on release.

    Disabled taps ignore touches and keep their own colours (Kivy would fade them to unreadable)."""

    def __init__(
        self,
        text: str,
        on_tap: Callable[[], None] | None,
        *,
        bg: str,
        fg: str | None = None,
        radius: float = 10,
        border: str | None = None,
        inset: float = 0,
        **kwargs: Any,
    ):
        self.bg = bg
        fg = fg or text_on(bg)
        super().__init__(text=text, colour=fg, **kwargs)
        self._on_tap = on_tap
        _paint(self, bg, radius, border, inset)
        self.bind(state=self._pressed)

    def _pressed(self, _widget: Widget, state: str) -> None:
        self._bg_color.rgba = rgba(shade(self.bg, 0.8) if state == "down" else self.bg)

    def on_release(self) -> None:
        if self._on_tap is not None:
            self._on_tap()


class Card(ButtonBehavior, BoxLayout):
    """A button made of several texts (a reward: name, price, state; a form field: caption, value), each
    fitting on its own; darker while pressed, `on_tap()` on release. Disabled: ignores touches."""

    name = StringProperty("")

    def __init__(
        self,
        on_tap: Callable[[], None] | None,
        *,
        bg: str,
        radius: float = 12,
        border: str | None = None,
        **kwargs: Any,
    ):
        kwargs.setdefault("orientation", "vertical")
        super().__init__(**kwargs)
        self.bg = bg
        self._on_tap = on_tap
        _paint(self, bg, radius, border)
        self.bind(state=self._pressed)

    def _pressed(self, _widget: Widget, state: str) -> None:
        self._bg_color.rgba = rgba(shade(self.bg, 0.8) if state == "down" else self.bg)

    def on_release(self) -> None:
        if self._on_tap is not None:
            self._on_tap()


class Gauge(Widget):
    """A progress bar: `ratio` 0..1 of the track filled (drawing only: the figures are integers)."""

    name = StringProperty("")

    def __init__(self, ratio: float, *, track: str, fill: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.ratio = max(0.0, min(1.0, ratio))
        self.bg = track
        with self.canvas:
            Color(*rgba(track))
            self._track = RoundedRectangle()
            Color(*rgba(fill))
            self._fill = RoundedRectangle()
        self.bind(pos=self._draw, size=self._draw)

    def _draw(self, *_: Any) -> None:
        radius = [self.height / 2]
        self._track.pos, self._track.size, self._track.radius = self.pos, self.size, radius
        width = self.width * self.ratio
        self._fill.pos, self._fill.size = (
            self.pos,
            (max(width, self.height if self.ratio else 0), self.height),
        )
        self._fill.radius = radius


class Picture(Image):
    """A logo or the voucher preview, scaled to fit its box without distortion."""

    name = StringProperty("")

    def __init__(self, *, texture: Texture | None = None, source: str | None = None, **kwargs: Any):
        kwargs.setdefault("fit_mode", "contain")
        if source is not None:
            kwargs["source"] = source
        super().__init__(**kwargs)
        self.bg = None
        if texture is not None:
            self.texture = texture


def png_texture(png: bytes) -> Texture:
    return CoreImage(io.BytesIO(png), ext="png").texture


class HoldCorner(Widget):
    """An invisible area that calls `on_hold()` once it has been held for `seconds` (staff access).

    Letting go, or sliding out of it, before then does nothing."""

    name = StringProperty("")

    def __init__(self, seconds: float, on_hold: Callable[[], None], **kwargs: Any):
        super().__init__(**kwargs)
        self.bg = None
        self.seconds = seconds
        self._on_hold = on_hold
        self._pending: Any = None

    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return False
        touch.grab(self)
        self._cancel()
        self._pending = Clock.schedule_once(self._fire, self.seconds)
        return True

    def on_touch_move(self, touch: Any) -> bool:
        if touch.grab_current is not self:
            return False
        if not self.collide_point(*touch.pos):
            self._cancel()
        return True

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is not self:
            return False
        touch.ungrab(self)
        self._cancel()
        return True

    def _cancel(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def _fire(self, _dt: float) -> None:
        self._pending = None
        self._on_hold()


def spacer(**kwargs: Any) -> Widget:
    widget = Widget(**kwargs)
    widget.bg = None
    return widget
