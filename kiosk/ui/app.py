"""The kiosk's Kivy app: one ScreenManager, a screen per `Screen`, redrawn from each `View`.

The presenter (the lead's) owns the devices and the hub; it calls `show(view)` on the main thread and
receives intents through `send_intent`. Nothing here talks to a device.

Input: exactly one Kivy input provider, the mouse provider fed by SDL2. SDL turns a touchscreen's touches
into mouse events (on X11, Wayland and KMS/DRM alike), so a touch is one press. Kivy's default Linux
configuration also probes /dev/input (`probesysfs` → mtdev/hidinput), which sees the same finger a
second time (the classic double tap on a Raspberry Pi): it is removed, and so is the SDL2 finger
provider Kivy adds by itself (on Linux it never receives anything). Right-click multitouch emulation
(the red dots) is off.

Wiring (the composition root's job)::

    app = KioskApp(branding, presenter.post, size=(800, 480), fullscreen=True,
                   on_ready=lambda: Clock.schedule_interval(lambda _dt: presenter.pump(), 0.1))
    presenter.render = app.show          # pump() runs on Kivy's clock: the UI thread
    app.run()                            # on the main thread
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.config import Config
from kivy.graphics.texture import Texture
from kivy.uix.screenmanager import NoTransition, ScreenManager
from kivy.uix.screenmanager import Screen as KivyScreen

from kiosk.hardware.png_render import render_png
from kiosk.hardware.voucher_layout import voucher_layout
from kiosk.session.model import Intent, Screen, View
from kiosk.ui.branding import Branding, rgba
from kiosk.ui.chrome import Ctx, ScreenPart
from kiosk.ui.screens import all_parts
from kiosk.ui.theme import Theme
from kiosk.ui.widgets import png_texture

INPUT_PROVIDER = ("mouse", "mouse,disable_multitouch")


class WrongThread(RuntimeError):
    """`KioskApp.show` was called off the UI thread (Kivy is not thread-safe: post to the presenter)."""


def configure_kivy(size: tuple[int, int], fullscreen: bool) -> None:
    """Kivy's settings for a kiosk, in memory (before the window exists: it reads them once)."""
    width, height = size
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
    Config.set("graphics", "resizable", "0" if fullscreen else "1")
    Config.set("graphics", "maxfps", "30")  # nothing here animates: fewer frames, less CPU when idle
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "keyboard_mode", "system")  # our own keyboard widget; Kivy's VKeyboard never pops up
    for option in Config.options("input"):
        Config.remove_option("input", option)
    Config.set("input", *INPUT_PROVIDER)


class KioskApp(App):
    def __init__(
        self,
        branding: Branding,
        send_intent: Callable[[Intent], None],
        size: tuple[int, int] = (800, 480),
        fullscreen: bool = False,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        configure_kivy(size, fullscreen)
        super().__init__()
        self.title = branding.shop_name
        self.branding = branding
        self._send_intent = send_intent
        self._size = size
        self._fullscreen = fullscreen
        self._on_ready = on_ready
        self._owner = threading.current_thread()  # the thread that will run() the app
        self._view: View | None = None
        self._parts: dict[Screen, ScreenPart] = {}
        for part in all_parts():
            for screen in part.screens:
                self._parts[screen] = part
        missing = [s for s in Screen if s not in self._parts]
        assert not missing, f"no screen part for {missing}"
        self._manager: ScreenManager | None = None
        self._voucher_cache: dict[tuple[str, str], Texture] = {}
        self.renders = 0

    # -- Kivy's lifecycle ---------------------------------------------------------------------------

    def get_application_config(self, defaultpath: str = "") -> str | None:  # type: ignore[override]
        return None  # no kiosk.ini beside the code: configuration is the kiosk's TOML

    def build(self) -> ScreenManager:
        from kivy.core.window import Window  # creating the window: only once Config is set

        if not self._fullscreen and tuple(Window.size) != self._size:
            Window.size = self._size
        Window.clearcolor = rgba("#F3F5F7")
        manager = ScreenManager(transition=NoTransition())
        for screen in Screen:
            manager.add_widget(KivyScreen(name=screen.value))
        self._manager = manager
        Window.bind(on_resize=lambda *_: self._redraw())
        return manager

    def on_start(self) -> None:
        from kivy.base import EventLoop
        from kivy.input.providers.mouse import MouseMotionEventProvider

        for provider in list(EventLoop.input_providers):
            if not isinstance(provider, MouseMotionEventProvider):
                EventLoop.remove_input_provider(provider)
        self._owner = threading.current_thread()
        if self._view is not None:
            self._redraw()
        if self._on_ready is not None:
            self._on_ready()

    # -- the presenter's side ----------------------------------------------------------------------

    def show(self, view: View) -> None:
        """Redraw from `view` (UI thread only). A view equal to the one shown costs a comparison."""
        if threading.current_thread() is not self._owner:
            raise WrongThread(
                f"KioskApp.show called from thread {threading.current_thread().name!r}; "
                "call it on the UI thread (Clock.schedule_once) — Kivy is not thread-safe"
            )
        if view == self._view:
            return
        previous, self._view = self._view, view
        if previous is None or previous.screen != view.screen:
            self._parts[view.screen].enter(view)
        self._redraw()

    def send(self, intent: Intent) -> None:
        self._send_intent(intent)

    @property
    def view(self) -> View | None:
        return self._view

    def screenshot(self, path: str | Path) -> Path:
        """A PNG of the window as it is on screen, at exactly `path`."""
        from kivy.core.window import Window

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        Window.dispatch("on_draw")  # draw the current state into the buffer about to be read
        with tempfile.TemporaryDirectory() as tmp:
            made = Window.screenshot(name=str(Path(tmp) / "shot.png"))  # Kivy appends a counter
            if not made:
                raise RuntimeError("Kivy could not take a screenshot")
            shutil.move(made, target)
        return target

    # -- drawing -----------------------------------------------------------------------------------

    def _redraw(self) -> None:
        from kivy.core.window import Window

        view, manager = self._view, self._manager
        if view is None or manager is None:
            return
        width, height = (int(v) for v in Window.size)
        theme = Theme(self.branding, width, height)
        ctx = Ctx(view, theme, self.send, self._voucher_texture, rebuild=self._redraw)
        screen = manager.get_screen(view.screen.value)
        screen.clear_widgets()
        screen.add_widget(self._parts[view.screen].build(ctx))
        manager.current = view.screen.value
        self.renders += 1

    def _voucher_texture(self, voucher: dict[str, Any]) -> Texture:
        """The voucher as it will be printed (same layout and renderer as the paper's review copy)."""
        lang = self._view.lang if self._view is not None else "fr"
        key = (str(voucher.get("code")), lang)
        if key not in self._voucher_cache:
            if len(self._voucher_cache) > 8:
                self._voucher_cache.clear()
            png = render_png(voucher_layout(self.branding.shop_name, voucher, lang))
            self._voucher_cache[key] = png_texture(png)
        return self._voucher_cache[key]
