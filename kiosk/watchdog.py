"""The kiosk's systemd watchdog, fed from the app's main loop (fidelio-kiosk.service: Type=notify).

READY=1 goes once the main loop has run a frame, i.e. once the first screen is drawn; WATCHDOG=1
then goes every WatchdogSec/2 from the same loop. A kiosk whose main loop hangs (a blocked call on the
UI thread, a dead GL context) stops feeding the watchdog and systemd restarts it (Restart=always).

`schedule_interval` is Kivy's `Clock.schedule_interval` (or anything with its contract: call
`callback(dt)` every `interval` seconds on the main loop, interval 0 meaning every frame; a callback
that returns False is unscheduled; bound methods are held weakly). Outside systemd ($NOTIFY_SOCKET unset) nothing is scheduled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fidelio.sdnotify import Notifier
from kiosk.session.model import Screen

#: The watchdogs started in this process (one, in practice), kept alive for the process's lifetime.
_ALIVE: list[KioskWatchdog] = []

Schedule = Callable[[Callable[[float], bool | None], float], object]


def session_status(screen: Screen) -> str:
    """The unit's STATUS= for a screen: "busy: …" while someone is at the kiosk, so that an update
    (fidelio/update, `Services.busy`) waits for the attract screen before restarting the app."""
    return "idle: attract screen" if screen is Screen.ATTRACT else f"busy: {screen.value} screen"


@dataclass
class KioskWatchdog:
    notifier: Notifier
    healthy: Callable[[], bool] = lambda: True
    status: str = "screen up"
    ready_sent: bool = False
    fed: int = field(default=0)

    def first_frame(self, _dt: float) -> bool:
        """Runs on the first frame after the app started: the screen is drawn, the loop turns."""
        self.notifier.ready(self.status)
        self.ready_sent = True
        return False  # once

    def show_screen(self, screen: Screen) -> None:
        """The presenter's `on_screen`: the screen now shown, said to systemd when it changes."""
        text = session_status(screen)
        if text != self.status:
            self.status = text
            if self.ready_sent:
                self.notifier.status(text)

    def feed(self, _dt: float) -> bool:
        # A loop that turns but is unhealthy (the caller's test) lets the watchdog fire: a restart.
        if self.ready_sent and self.healthy():
            self.notifier.watchdog()
            self.fed += 1
        return True


def start_kiosk_watchdog(
    schedule_interval: Schedule,
    *,
    notifier: Notifier | None = None,
    healthy: Callable[[], bool] | None = None,
    status: str = "screen up",
) -> KioskWatchdog | None:
    """Call once, on the main thread, before `App.run()` (or from `on_start`). Returns None outside
    systemd. `healthy` (optional) is asked before each feed."""
    notifier = notifier or Notifier()
    if not notifier.enabled:
        return None
    dog = KioskWatchdog(notifier, healthy or (lambda: True), status)
    _ALIVE.append(dog)  # Kivy's Clock holds bound methods weakly: the caller need not keep `dog`
    schedule_interval(dog.first_frame, 0)
    if notifier.watchdog_interval:
        schedule_interval(dog.feed, notifier.watchdog_interval)
    return dog
