"""kiosk/watchdog.py: READY once the first frame ran, WATCHDOG=1 every WatchdogSec/2 from the main loop,
none when the loop stops or the health check fails; nothing at all outside systemd. The datagrams go
to a real notify socket; the loop is a small stand-in with Kivy Clock's contract (the real Kivy loop
is exercised by tests/test_appliance_screen.py)."""

from __future__ import annotations

import gc
import inspect
import weakref
from collections.abc import Callable

from fidelio.sdnotify import Notifier
from kiosk.session.model import Screen
from kiosk.watchdog import start_kiosk_watchdog
from tests.support import NotifyListener


class FrameLoop:
    """Kivy Clock's schedule_interval contract: interval 0 = every frame; returning False unschedules;
    bound methods held weakly."""

    def __init__(self) -> None:
        self.events: list[list] = []  # [callback, interval, next due]
        self.now = 0.0

    def schedule_interval(self, callback: Callable[[float], bool | None], interval: float) -> None:
        # like Kivy, a bound method is held weakly: its object must be kept alive by someone
        ref = weakref.WeakMethod(callback) if inspect.ismethod(callback) else (lambda: callback)
        self.events.append([ref, interval, self.now + interval])

    def run(self, seconds: float, frame: float = 1 / 30) -> None:
        end = self.now + seconds
        while self.now < end:
            self.now += frame
            for event in list(self.events):
                ref, interval, due = event
                callback = ref()
                if callback is None:
                    self.events.remove(event)
                elif self.now >= due:
                    event[2] = self.now + interval
                    if callback(frame) is False:
                        self.events.remove(event)


def _drain(listener: NotifyListener) -> list[str]:
    listener.sock.setblocking(False)
    try:
        while True:
            listener.messages.append(listener.sock.recv(4096).decode())
    except BlockingIOError:
        pass
    return listener.messages


def test_ready_after_the_first_frame_then_fed_at_half_the_period(tmp_path):
    listener = NotifyListener(tmp_path / "notify")
    env = {"NOTIFY_SOCKET": str(listener.path), "WATCHDOG_USEC": "2000000"}  # WatchdogSec=2
    loop = FrameLoop()
    assert start_kiosk_watchdog(loop.schedule_interval, notifier=Notifier(env)) is not None
    gc.collect()  # the caller dropped what it returned: the watchdog must go on all the same
    assert _drain(listener) == []  # not before the main loop has drawn anything
    loop.run(0.05)
    assert _drain(listener) == ["READY=1\nSTATUS=screen up"]
    loop.run(10)
    feeds = [m for m in _drain(listener) if m == "WATCHDOG=1"]
    assert 9 <= len(feeds) <= 11  # every second: twice per WatchdogSec
    assert sum(m.startswith("READY=1") for m in listener.messages) == 1
    listener.close()


def test_a_hung_loop_or_an_unhealthy_app_stops_the_feeding(tmp_path):
    listener = NotifyListener(tmp_path / "notify")
    env = {"NOTIFY_SOCKET": str(listener.path), "WATCHDOG_USEC": "2000000"}
    healthy = [True]
    loop = FrameLoop()
    start_kiosk_watchdog(loop.schedule_interval, notifier=Notifier(env), healthy=lambda: healthy[0])
    loop.run(3)
    fed = _drain(listener).count("WATCHDOG=1")
    assert fed >= 2
    healthy[0] = False
    loop.run(5)
    assert _drain(listener).count("WATCHDOG=1") == fed  # systemd will now restart the kiosk
    listener.close()


def test_outside_systemd_nothing_is_scheduled():
    loop = FrameLoop()
    assert start_kiosk_watchdog(loop.schedule_interval, notifier=Notifier({})) is None
    assert loop.events == []


def test_without_watchdogsec_only_ready_is_sent(tmp_path):
    listener = NotifyListener(tmp_path / "notify")
    loop = FrameLoop()
    start_kiosk_watchdog(loop.schedule_interval, notifier=Notifier({"NOTIFY_SOCKET": str(listener.path)}))
    loop.run(5)
    assert _drain(listener) == ["READY=1\nSTATUS=screen up"]
    listener.close()


def test_the_screen_shown_is_said_to_systemd_once_per_change(tmp_path):
    """STATUS= says whether someone is at the kiosk: the updater (Services.busy) waits for "idle"."""
    listener = NotifyListener(tmp_path / "notify")
    loop = FrameLoop()
    dog = start_kiosk_watchdog(
        loop.schedule_interval, notifier=Notifier({"NOTIFY_SOCKET": str(listener.path)})
    )
    assert dog is not None
    dog.show_screen(Screen.ATTRACT)  # before the first frame: carried by READY
    loop.run(0.05)
    for screen in (Screen.WELCOME, Screen.WELCOME, Screen.REWARDS, Screen.ATTRACT, Screen.ATTRACT):
        dog.show_screen(screen)
    assert _drain(listener) == [
        "READY=1\nSTATUS=idle: attract screen",
        "STATUS=busy: welcome screen",
        "STATUS=busy: rewards screen",
        "STATUS=idle: attract screen",
    ]
    listener.close()
