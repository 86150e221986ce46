"""The kiosk's Kivy app: one ScreenManager, a screen per `Screen`, redrawn from each `View`.

The presenter (the lead's) owns the devices and the hub; it calls `show(view)` on the main thread and
receives intents through `send_intent`. Nothing here talks to a device.

Input: exactly one Kivy input provider, the mouse provider fed by SDL2. SDL turns a touchscreen's touches
into mouse events (on X11, Wayland and KMS/DRM alike), so a touch is one press. Kivy's default Linux
configuration also probes /dev/input (`probesysfs` → mtdev/hidinput), which sees the same finger a
second time (the classic double tap on a Raspberry Pi): it is removed, and so is the SDL2 finger
provider Kivy adds by itself (on Linux it never receives anything). Right-click multitouch emulation
(the red dots) is off.

Start-up: only the attract screen's module and widgets are made before the first frame; the other screens'
modules are imported just after it (`load_screens`), each screen's widgets when it is first shown, and the
voucher renderer (Pillow, qrcode) when a voucher is first previewed. The loop runs at 30 frames/s while
the kiosk is used and slows down on an idle attract screen (kiosk.ui.pace).

Wiring (the composition root's job, kiosk.run.run_screen)::

    app = KioskApp(branding, presenter.post, size=(800, 480), fullscreen=True, on_ready=started)
    presenter.render = app.show          # pump() runs on Kivy's clock (a trigger): the UI thread
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

from kiosk.session.model import Intent, Screen, View
from kiosk.ui.branding import Branding, rgba
from kiosk.ui.chrome import Ctx
from kiosk.ui.pace import BUSY_FPS, FramePacer, interruptible
from kiosk.ui.screens import Parts
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
    Config.set("graphics", "maxfps", str(int(BUSY_FPS)))  # nothing animates; kiosk.ui.pace slows it idle
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
        self._parts = Parts()
        self._manager: ScreenManager | None = None
        self.pacer: FramePacer | None = None
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
        manager = ScreenManager(transition=NoTransition())  # a Kivy screen per `Screen`, made on first use
        self._manager = manager
        Window.bind(on_resize=lambda *_: self._redraw())
        return manager

    def on_start(self) -> None:
        from kivy.base import EventLoop
        from kivy.clock import Clock
        from kivy.core.window import Window
        from kivy.input.providers.mouse import MouseMotionEventProvider

        for provider in list(EventLoop.input_providers):
            if not isinstance(provider, MouseMotionEventProvider):
                EventLoop.remove_input_provider(provider)
        self._owner = threading.current_thread()
        self.pacer = FramePacer(
            Clock,
            lambda: self._view is None or self._view.screen == Screen.ATTRACT,
            interruptible=interruptible(Clock),
        )
        self.pacer.watch(Window)
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
            self._parts.get(view.screen).enter(view)
            if self.pacer is not None:
                self.pacer.busy()
        self._redraw()

    def load_screens(self) -> None:
        """Import every screen's module now (after the first frame), not on a customer's first tap."""
        self._parts.load_all()

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
        name = view.screen.value
        if not manager.has_screen(name):
            manager.add_widget(KivyScreen(name=name))
        screen = manager.get_screen(name)
        screen.clear_widgets()
        screen.add_widget(self._parts.get(view.screen).build(ctx))
        left = manager.current_screen
        manager.current = name
        if left is not None and left is not screen:
            left.clear_widgets()  # a screen left is rebuilt from its next view: keep no widgets, no textures
        self.renders += 1

    def _voucher_texture(self, voucher: dict[str, Any]) -> Texture:
        """The voucher as it will be printed (same layout and renderer as the paper's review copy)."""
        lang = self._view.lang if self._view is not None else "fr"
        key = (str(voucher.get("code")), lang)
        if key not in self._voucher_cache:
            if len(self._voucher_cache) > 8:
                self._voucher_cache.clear()
            from kiosk.hardware.png_render import render_png  # Pillow + qrcode: only for a voucher
            from kiosk.hardware.voucher_layout import voucher_layout

            png = render_png(voucher_layout(self.branding.shop_name, voucher, lang))
            self._voucher_cache[key] = png_texture(png)
        return self._voucher_cache[key]
