"""First boot's message, full screen (Kivy on SDL2; KMS/DRM on the kiosk): French first, then English.

Big plain text on the shop's default colours: red band for an error, blue for information. The
watchdog is fed from Kivy's main loop like the kiosk app's (kiosk/watchdog.py).
"""

from __future__ import annotations

import os

from fidelio.appliance.status import Status

ERROR = (0.70, 0.11, 0.11, 1)
INFO = (0.12, 0.31, 0.47, 1)


def message_markup(status: Status) -> str:
    """The screen's text as Kivy markup (its own characters escaped)."""
    from kivy.utils import escape_markup

    parts = [f"[b]{escape_markup(status.title_fr)}[/b]", "", f"[b]{escape_markup(status.title_en)}[/b]"]
    if status.details:
        parts += ["", *(escape_markup(line) for line in status.details)]
    return "\n".join(parts)


def show_message(status: Status, size: tuple[int, int] = (800, 480)) -> int:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from kivy.config import Config

    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "fullscreen", "auto" if os.environ.get("SDL_VIDEODRIVER") == "kmsdrm" else "0")
    Config.set("kivy", "exit_on_escape", "0")
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.graphics import Color, Rectangle
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.label import Label

    from kiosk.watchdog import start_kiosk_watchdog

    class MessageApp(App):
        title = "Fidelio"

        def build(self) -> BoxLayout:
            root = BoxLayout(orientation="vertical", padding=24, spacing=12)
            with root.canvas.before:
                Color(*(INFO if status.ok else ERROR))
                band = Rectangle()
                Color(1, 1, 1, 1)
                page = Rectangle()

            def layout(*_args: object) -> None:
                band.pos, band.size = (root.x, root.top - 16), (root.width, 16)
                page.pos, page.size = root.pos, (root.width, root.height - 16)

            root.bind(pos=layout, size=layout)
            label = Label(
                text=message_markup(status), markup=True, color=(0.1, 0.1, 0.1, 1), font_size="22sp",
                halign="left", valign="middle",
            )  # fmt: skip
            label.bind(size=lambda widget, value: setattr(widget, "text_size", value))
            root.add_widget(label)
            return root

        def on_start(self) -> None:
            start_kiosk_watchdog(Clock.schedule_interval, status="message shown")

    MessageApp().run()
    return 0
