"""The child process of bench/kiosk_app.py (Kivy keeps global state: one app per process).

    python -m bench.kiosk_app_child hello [--idle SECONDS]
    python -m bench.kiosk_app_child kiosk CONFIG [--idle SECONDS] [--taps N --card TOKEN]

Prints `READY` once the first frame is on screen (the attract screen for the kiosk: `run_screen` calls
`on_ready` once its first frame is drawn), then `IDLE` after --idle seconds (the parent samples CPU and
memory meanwhile), then, for the kiosk, one JSON line of tap → welcome-drawn latencies (seconds); exits.

The hello world is bare Kivy as shipped (its default clock and 60 frames/s), with only the kiosk's
isolation from the user's Kivy settings (`kiosk.ui`: no ~/.kivy, no argument parsing, no log file).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

import kiosk.ui  # noqa: F401  (Kivy's environment, before Kivy is imported)
from kiosk.ui.pace import after_first_frame


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

        def on_stop(self) -> None:
            if idle:
                print("IDLE", flush=True)

    app = Hello()

    def done(_dt: float) -> None:
        app.stop()

    app.run()
    return 0


def kiosk(config_path: str, idle: float, taps: int, card: str) -> int:
    from pathlib import Path

    from kiosk.app import build_kiosk
    from kiosk.config import load_kiosk_config
    from kiosk.run import run_screen
    from kiosk.session.model import Finish, Screen

    runtime = build_kiosk(load_kiosk_config(Path(config_path)))
    drawn = threading.Event()
    want: list[Screen] = [Screen.WELCOME]

    def on_flip(*_args: object) -> None:
        view = runtime.session.view
        if view.screen == want[0] and (
            view.screen != Screen.WELCOME or (view.member and not view.member.stale)
        ):
            drawn.set()

    def script(app) -> None:  # type: ignore[no-untyped-def]
        from kivy.core.window import Window

        def user() -> None:
            time.sleep(idle)
            print("IDLE", flush=True)
            reader = runtime.simulated_reader
            assert reader is not None
            deadline = time.monotonic() + 20
            while not runtime.session.view.online and time.monotonic() < deadline:
                time.sleep(0.05)
            latencies = []
            for _ in range(taps):
                want[0], _ = Screen.WELCOME, drawn.clear()
                started = time.perf_counter()
                reader.tap(card)
                if not drawn.wait(10):
                    print("TIMEOUT", flush=True)
                    break
                latencies.append(time.perf_counter() - started)
                want[0], _ = Screen.ATTRACT, drawn.clear()
                runtime.presenter.post(Finish())
                drawn.wait(5)
                time.sleep(0.1)
            print(json.dumps(latencies), flush=True)
            from kivy.clock import Clock

            Clock.schedule_once(lambda _dt: app.stop(), 0)

        Window.bind(on_flip=on_flip)
        threading.Thread(target=user, daemon=True).start()

    def ready(app) -> None:  # type: ignore[no-untyped-def]  # the attract screen's first frame is drawn
        print("READY", flush=True)
        script(app)

    return run_screen(runtime, on_ready=ready)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("hello", "kiosk"))
    p.add_argument("config", nargs="?")
    p.add_argument("--idle", type=float, default=0.0)
    p.add_argument("--taps", type=int, default=0)
    p.add_argument("--card", default="")
    args = p.parse_args(argv)
    if args.mode == "hello":
        return hello(args.idle)
    return kiosk(args.config, args.idle, args.taps, args.card)


if __name__ == "__main__":
    sys.exit(main())
