"""The child process of bench/kiosk_app.py (Kivy keeps global state: one app per process).

    python -m bench.kiosk_app_child hello [--idle SECONDS]
    python -m bench.kiosk_app_child kiosk CONFIG [--idle SECONDS] [--touches N] [--taps N --card TOKEN]

Prints `READY` once the first frame is on screen (swapped to the window, not just drawn: with software
GL the swap is where the frame is made), then `IDLE` after --idle seconds (the parent samples CPU and
memory meanwhile). The kiosk is built exactly as `fidelio-kiosk --config CONFIG` builds it (its first frame
is the attract screen), then:

- `TOUCH [...]`: --touches presses of the FR/EN switch on the idle attract screen, through the X server
  (XTest: X → SDL → Kivy's mouse input, the path a touchscreen's touches take), each after the loop has
  slowed down (kiosk.ui.pace) and at a random moment; seconds from the press to the redrawn screen swapped.
- `TAPS [...]`: --taps taps of CARD on the simulated reader (reader → presenter → outbox → broker → hub →
  reply → view); seconds from the tap to the welcome screen with the hub's answer swapped.

The hello world is bare Kivy as shipped (its default clock and 60 frames/s), with only the kiosk's
isolation from the user's Kivy settings (`kiosk.ui`: no ~/.kivy, no argument parsing, no log file).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import random
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import kiosk.ui  # Kivy's environment, before Kivy is imported
from kiosk.ui.pace import LINGER_SECONDS, after_first_frame


def hello(idle: float) -> int:
    os.environ["KIVY_CLOCK"] = "default"  # Kivy's own, not the kiosk's interrupt clock
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.uix.label import Label

    class Hello(App):
        def build(self) -> Label:
            return Label(text="Hello")

        def on_start(self) -> None:
            after_first_frame(lambda: (print("READY", flush=True), Clock.schedule_once(done, idle)))

    app = Hello()

    def done(_dt: float) -> None:
        print("IDLE", flush=True)
        app.stop()

    app.run()
    return 0


class Frames:
    """Waits, from another thread, for the first frame swapped whose view passes a test."""

    def __init__(self, app: Any) -> None:
        from kivy.clock import Clock
        from kivy.core.window import Window

        self._app, self._clock = app, Clock
        self._test: Callable[[Any], bool] | None = None
        self._seen = threading.Event()
        Window.bind(on_flip=self._flipping)

    def expect(self, test: Callable[[Any], bool]) -> None:
        self._seen.clear()
        self._test = test

    def wait(self, timeout: float) -> bool:
        return self._seen.wait(timeout)

    def _flipping(self, *_args: object) -> None:
        # Kivy runs this before its own handler, which swaps: the view now drawn is the one being swapped
        test, view = self._test, self._app.view
        if test is not None and view is not None and test(view):
            self._test = None
            self._clock.schedule_once(lambda _dt: self._seen.set(), 0)  # the next turn: after the swap


def on_ui(call: Callable[[], Any]) -> Any:
    """Run `call` on the UI thread and return its result (to another thread)."""
    from kivy.clock import Clock

    done, out = threading.Event(), []
    Clock.schedule_once(lambda _dt: (out.append(call()), done.set()), 0)
    if not done.wait(10):
        raise TimeoutError("the UI thread did not answer")
    return out[0]


class XPointer:
    """Presses at a point of the screen through the X server's XTEST extension (libXtst)."""

    def __init__(self) -> None:
        self._x11 = ctypes.CDLL("libX11.so.6")
        self._xtst = ctypes.CDLL("libXtst.so.6")
        self._x11.XOpenDisplay.restype = ctypes.c_void_p
        self._x11.XFlush.argtypes = [ctypes.c_void_p]
        self._xtst.XTestFakeMotionEvent.argtypes = [
            ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_ulong
        ]  # fmt: skip
        self._xtst.XTestFakeButtonEvent.argtypes = [
            ctypes.c_void_p,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_ulong,
        ]
        self._display = self._x11.XOpenDisplay(None)
        if not self._display:
            raise RuntimeError("cannot open the X display")

    def press(self, x: int, y: int) -> None:
        self._xtst.XTestFakeMotionEvent(self._display, -1, x, y, 0)
        self._xtst.XTestFakeButtonEvent(self._display, 1, 1, 0)
        self._xtst.XTestFakeButtonEvent(self._display, 1, 0, 0)
        self._x11.XFlush(self._display)


def screen_point(app: Any, name: str) -> tuple[int, int]:
    """The centre of the widget called `name`, in X screen coordinates (y down)."""
    from kivy.core.window import Window

    from kiosk.ui.layout_check import walk

    widget = next(w for w, _ in walk(app.root) if getattr(w, "name", None) == name)
    x, y = widget.to_window(*widget.center)
    return int(Window.left + x), int(Window.top + Window.height - y)


def kiosk(config_path: str, idle: float, touches: int, taps: int, card: str) -> int:
    from pathlib import Path

    from kiosk.app import build_kiosk
    from kiosk.config import load_kiosk_config
    from kiosk.run import run_screen
    from kiosk.session.model import Finish, Screen

    runtime = build_kiosk(load_kiosk_config(Path(config_path)))

    def welcomed(view: Any) -> bool:
        return bool(view.screen == Screen.WELCOME and view.member is not None and not view.member.stale)

    def user(app: Any, frames: Frames) -> None:
        time.sleep(idle)
        print("IDLE", flush=True)
        pointer, pressed = XPointer(), []
        for _ in range(touches):
            time.sleep(LINGER_SECONDS + 0.5)  # the loop has slowed down again
            lang = "en" if app.view.lang == "fr" else "fr"
            x, y = on_ui(lambda lang=lang: screen_point(app, f"lang-{lang}"))  # (a turn of the loop)
            time.sleep(random.uniform(0, 0.5))  # a person touches at any moment of an idle frame
            frames.expect(lambda view, lang=lang: view.screen == Screen.ATTRACT and view.lang == lang)
            started = time.perf_counter()
            pointer.press(x, y)
            if not frames.wait(5):
                print("TIMEOUT touch", flush=True)
                break
            pressed.append(time.perf_counter() - started)
        print("TOUCH " + json.dumps(pressed), flush=True)
        reader = runtime.simulated_reader
        assert reader is not None
        deadline = time.monotonic() + 20
        while not runtime.session.view.online and time.monotonic() < deadline:
            time.sleep(0.05)
        latencies = []
        for _ in range(taps):
            frames.expect(welcomed)
            started = time.perf_counter()
            reader.tap(card)
            if not frames.wait(10):
                print("TIMEOUT tap", flush=True)
                break
            latencies.append(time.perf_counter() - started)
            frames.expect(lambda view: view.screen == Screen.ATTRACT)
            runtime.presenter.post(Finish())
            frames.wait(5)
            time.sleep(0.1)
        print("TAPS " + json.dumps(latencies), flush=True)
        on_ui(app.stop)

    def ready(app: Any) -> None:  # run_screen: the attract screen's first frame is on screen
        print("READY", flush=True)
        threading.Thread(target=user, args=(app, Frames(app)), daemon=True).start()

    return run_screen(runtime, on_ready=ready)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("hello", "kiosk"))
    p.add_argument("config", nargs="?")
    p.add_argument("--idle", type=float, default=0.0)
    p.add_argument("--touches", type=int, default=0)
    p.add_argument("--taps", type=int, default=0)
    p.add_argument("--card", default="")
    args = p.parse_args(argv)
    if args.mode == "hello":
        return hello(args.idle)
    return kiosk(args.config, args.idle, args.touches, args.taps, args.card)


if __name__ == "__main__":
    sys.exit(main())
