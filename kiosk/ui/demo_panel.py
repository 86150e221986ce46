"""The demo's stand-in for a card reader: a strip of "tap this card" buttons under the kiosk's screen.

It is the simulated *device* (it calls the simulated reader, as a real card on a real reader would), not
a kiosk screen: the screens above it stay exactly what a shop's kiosk shows. Keys F1, F2, … tap too.
"""

from __future__ import annotations

from collections.abc import Callable

from kivy.core.window import Window
from kivy.graphics import Color, Rectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label

STRIP_HEIGHT = 64


def add_demo_panel(cards: dict[str, str], tap: Callable[[str], None]) -> BoxLayout:
    """Wrap the app's root with the strip; `cards` maps a button's label to the card token it taps."""
    root = Window.children[0]
    Window.remove_widget(root)
    frame = BoxLayout(orientation="vertical")
    frame.add_widget(root)
    strip = BoxLayout(size_hint_y=None, height=STRIP_HEIGHT, padding=8, spacing=8)
    with strip.canvas.before:
        Color(0.15, 0.15, 0.15, 1)
        background = Rectangle(pos=strip.pos, size=strip.size)
    strip.bind(
        pos=lambda w, _v: setattr(background, "pos", w.pos),
        size=lambda w, _v: setattr(background, "size", w.size),
    )
    strip.add_widget(
        Label(
            text="Démo — lecteur simulé / simulated reader :", color=(1, 1, 1, 1), size_hint_x=None, width=330
        )
    )
    tokens = list(cards.values())
    for n, (label, token) in enumerate(cards.items(), start=1):
        button = Button(text=f"F{n}  {label}", font_size="15sp")
        button.bind(on_release=lambda _b, t=token: tap(t))
        strip.add_widget(button)
    frame.add_widget(strip)
    Window.add_widget(frame)
    width, height = Window.size
    Window.size = (width, height + STRIP_HEIGHT)

    def on_key(
        _window: object, _key: int, _scancode: int, _text: object, _mods: object, *rest: object
    ) -> bool:
        keycode = _key
        f1 = 282  # SDL2's F1; F2… follow
        if f1 <= keycode < f1 + len(tokens):
            tap(tokens[keycode - f1])
            return True
        return False

    Window.bind(on_key_down=on_key)
    return frame
