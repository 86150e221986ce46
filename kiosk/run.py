"""Running a built kiosk: on a screen (Kivy), or headless (text), and a scripted user for the demo.

Both front ends drive the same `KioskRuntime`; only what draws the `View` and what wakes the presenter
differ. Kivy is imported only when a screen is used.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TextIO

from kiosk.session.model import Screen, View

if TYPE_CHECKING:
    from kiosk.app import KioskRuntime
    from kiosk.watchdog import KioskWatchdog

#: Screens on which the kiosk is waiting for the hub or the printer, not for a person.
WAITING = frozenset({Screen.LOOKUP, Screen.ENROLLING, Screen.REDEEMING, Screen.PRINTING})
#: How often the presenter is pumped while a screen has a deadline (the session applies its timeouts).
TICK_SECONDS = 0.5


def has_display() -> bool:
    return bool(
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("SDL_VIDEODRIVER") in ("kmsdrm", "wayland", "x11")
    )


class ViewWatch:
    """The last view drawn, and a way to wait for one (scripts and tests; any thread)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.view = View()

    def __call__(self, view: View) -> None:
        with self._cond:
            self.view = view
            self._cond.notify_all()

    def wait(self, predicate: Callable[[View], bool], timeout: float = 10) -> View | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.view):
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            return self.view


def run_headless(
    runtime: KioskRuntime,
    commands: Iterable[str],
    out: Callable[[str], None] = print,
    settle_timeout: float = 10,
) -> View:
    """Play typed commands (stdin, or a script) against the kiosk, printing each new screen.

    Each command waits for the kiosk to settle (not waiting on the hub or printer) before the next,
    as a person would. Returns the last view.
    """
    from kiosk.headless import HELP, HeadlessLoop, describe_view, parse_command

    loop = HeadlessLoop()
    watch = ViewWatch()
    shown: list[list[str]] = [[]]

    def render(view: View) -> None:
        watch(view)
        lines = describe_view(view)
        if lines != shown[0]:
            shown[0] = lines
            for line in lines:
                out(line)

    runtime.presenter.render = render
    runtime.presenter.wake = loop.wake

    def user() -> None:
        try:
            for line in commands:
                if line.strip() in ("quit", "exit-kiosk"):
                    break
                if line.strip() in ("help", "aide", "?"):
                    out(HELP[watch.view.lang])
                    continue
                if line.strip() in ("wait online", "wait drained"):  # scripts: the link is back (and empty)
                    drained = line.strip() == "wait drained"

                    def settled(v: View, drained: bool = drained) -> bool:
                        return v.online and (v.queue == 0 or not drained)

                    if watch.wait(settled, settle_timeout * 6) is None:
                        out("  ✗ le hub ne répond pas / the hub does not answer")
                    continue
                event = parse_command(line, runtime.simulated_reader)
                if isinstance(event, str):
                    out(f"  ✗ {event}\n{HELP[watch.view.lang]}")
                elif event is not None:
                    runtime.presenter.post(event)
                time.sleep(0.05)  # let the event reach the session before waiting on its effect
                watch.wait(lambda v: v.screen not in WAITING, settle_timeout)
        finally:
            loop.stop()

    from kiosk.watchdog import start_kiosk_watchdog

    # fed by this loop: a hung loop gets restarted; the screen shown goes to systemd (updates wait for idle)
    _watch_screens(start_kiosk_watchdog(loop.every, status="headless"), runtime)
    runtime.start()
    worker = threading.Thread(target=user, name="kiosk-headless-input", daemon=True)
    worker.start()
    try:
        loop.run(runtime.presenter.pump)
    except KeyboardInterrupt:
        pass
    finally:
        runtime.stop()
    return watch.view


def _watch_screens(dog: KioskWatchdog | None, runtime: KioskRuntime) -> None:
    if dog is not None:  # None outside systemd
        dog.show_screen(runtime.session.view.screen)
        runtime.presenter.on_screen = dog.show_screen


def run_stdin(runtime: KioskRuntime, stdin: TextIO = sys.stdin) -> int:
    from kiosk.headless import HELP

    print(HELP[runtime.config.display.lang], flush=True)
    run_headless(runtime, stdin, lambda s: print(s, flush=True))
    return 0


def run_screen(
    runtime: KioskRuntime,
    demo_cards: dict[str, str] | None = None,
    on_ready: Callable[[Any], None] | None = None,
) -> int:
    """The touchscreen app (Kivy); `demo_cards` adds on-screen "tap this card" buttons for the demo.

    Start-up: the attract screen is drawn first (its view is built before the first frame). Once that
    frame is on screen, `on_ready(app)` runs on the UI thread (the systemd watchdog, tests, benches), then
    the readers, the hub link and the printer poll start, the other screens' modules are imported and
    what start-up made is frozen out of the garbage collector's sight (`_settle_collector`).

    The presenter is pumped when an event is posted (a Kivy trigger, which may be fired from any thread
    and, on Kivy's interrupt clock, wakes the loop at once), and every `TICK_SECONDS` only while the
    screen shown has a deadline (a timeout back to the attract screen): an idle attract screen costs no
    wake-ups. A "one moment" screen is drawn only if the wait outlasts `WAIT_SHOWN_AFTER` (`LateWaits`).
    """
    from kivy.clock import Clock

    from kiosk.ui.app import KioskApp
    from kiosk.ui.branding import Branding
    from kiosk.ui.pace import after_first_frame

    display = runtime.config.display
    branding = Branding(
        shop_name=runtime.shop_name, primary=display.primary, accent=display.accent, logo=display.logo
    )
    presenter = runtime.presenter
    app = KioskApp(
        branding,
        send_intent=presenter.post,
        size=(display.width, display.height),
        fullscreen=display.fullscreen,
        on_ready=lambda: started(),
    )

    def pump(_dt: float = 0) -> None:
        if presenter.pump().deadline is not None:
            tick()  # already pending: nothing more

    tick = Clock.create_trigger(pump, TICK_SECONDS)
    presenter.render = LateWaits(app.show, lambda: app.view, Clock)
    presenter.wake = Clock.create_trigger(pump)  # a Kivy trigger may be fired from any thread

    def started() -> None:  # Kivy's on_start: the window exists, nothing is drawn yet
        pump()  # the attract screen, built before the first frame
        after_first_frame(ready)

    def ready() -> None:
        if demo_cards and runtime.simulated_reader is not None:
            from kiosk.ui.demo_panel import add_demo_panel

            add_demo_panel(demo_cards, runtime.simulated_reader.tap)
        if on_ready is not None:
            on_ready(app)
        from kiosk.watchdog import start_kiosk_watchdog

        # READY now, then fed by this (the UI) loop; the screen shown goes to systemd (updates wait for idle)
        _watch_screens(start_kiosk_watchdog(Clock.schedule_interval), runtime)
        runtime.start()
        Clock.schedule_once(lambda _dt: (app.load_screens(), _settle_collector()), 0)

    try:
        app.run()
    finally:
        runtime.stop()
    return 0


#: The "one moment" screens (the hub is asked), drawn only if the answer takes longer than
#: `WAIT_SHOWN_AFTER`: most answers come within ~20 ms, and drawing a screen for that long only delays the
#: next one (30-40 ms of layout and drawing under software GL) and flickers.
SHOWN_LATE = frozenset({Screen.LOOKUP, Screen.ENROLLING, Screen.REDEEMING})
WAIT_SHOWN_AFTER = 0.1  # seconds


class LateWaits:
    """The presenter's `render` for the screen: each view drawn at once, except a "one moment" screen
    (`SHOWN_LATE`) come from another screen, drawn `WAIT_SHOWN_AFTER` later unless a view of another
    screen came meanwhile. UI thread only, like `draw`."""

    def __init__(self, draw: Callable[[View], None], shown: Callable[[], View | None], clock: Any) -> None:
        self._draw = draw
        self._shown = shown
        self._later: View | None = None
        self._due = clock.create_trigger(self._draw_late, WAIT_SHOWN_AFTER)

    def __call__(self, view: View) -> None:
        shown = self._shown()
        entering = shown is None or shown.screen != view.screen
        if view.screen in SHOWN_LATE and entering:
            if self._later is None or self._later.screen != view.screen:
                self._due.cancel()
                self._due()
            self._later = view  # the newest view of that screen, when its time comes
            return
        self._due.cancel()
        self._later = None
        self._draw(view)

    def _draw_late(self, _dt: float) -> None:
        view, self._later = self._later, None
        if view is not None:
            self._draw(view)


def _settle_collector() -> None:
    """Start-up's objects (modules, classes, the configuration, Kivy's) live as long as the kiosk: frozen
    out of the collector's sight, a full collection no longer walks ~10^6 of them (100-150 ms on the UI
    thread, in the middle of a customer's tap). Kivy's widgets hold reference cycles, so each screen left
    leaves 3,000-7,000 objects that only a full collection frees: one every 2 middle collections instead
    of 10 frees them in batches of ≤ 15 ms instead of 100-150 ms pauses (less collector time in all)."""
    gc.collect()
    gc.freeze()
    gen0, gen1, _ = gc.get_threshold()
    gc.set_threshold(gen0, gen1, 2)
