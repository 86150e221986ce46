"""The touchscreen's timing, without a window: the frame pacer (fast while used, slow on an idle attract
screen), the late "one moment" screens, and the screen table. Time is a hand-driven clock offering what
they use of Kivy's Clock (`create_trigger`, `_max_fps`, `clock_resolution`), so every second is exact;
the real loop's figures (idle CPU, a touch on the idle screen, tap → welcome) are in bench/kiosk_app.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from kiosk.run import WAIT_SHOWN_AFTER, LateWaits
from kiosk.session.model import Screen, View
from kiosk.ui.pace import BUSY_FPS, CLOCK_RESOLUTION, IDLE_FPS, FramePacer
from kiosk.ui.screens import PARTS


class Trigger:
    def __init__(self, clock: HandClock, callback: Callable[[float], None], timeout: float) -> None:
        self.clock, self.callback, self.timeout = clock, callback, timeout
        self.due: float | None = None

    def __call__(self) -> None:
        if self.due is None:  # as Kivy's: calling a pending trigger does not move it
            self.due = self.clock.now + self.timeout

    def cancel(self) -> None:
        self.due = None


class HandClock:
    def __init__(self) -> None:
        self.now = 0.0
        self._max_fps = BUSY_FPS
        self.clock_resolution = -1.0
        self.triggers: list[Trigger] = []

    def create_trigger(self, callback: Callable[[float], None], timeout: float = 0) -> Trigger:
        trigger = Trigger(self, callback, timeout)
        self.triggers.append(trigger)
        return trigger

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass, running each trigger when it falls due."""
        end = self.now + seconds
        while True:
            due = [t for t in self.triggers if t.due is not None and t.due <= end]
            if not due:
                break
            first = min(due, key=lambda t: t.due or 0)
            self.now, first.due = first.due or self.now, None
            first.callback(0.0)
        self.now = end

    def due_now(self) -> bool:
        return any(t.due is not None and t.due <= self.now for t in self.triggers)


def test_an_idle_attract_screen_slows_the_loop_and_any_input_brings_it_back() -> None:
    clock = HandClock()
    pacer = FramePacer(clock, lambda: True, interruptible=True, linger=5.0)
    assert clock.clock_resolution == CLOCK_RESOLUTION  # not Kivy's 1 / (3 × fps): 22 ms at 15 frames/s
    clock.advance(4.9)
    assert pacer.fps == BUSY_FPS
    clock.advance(0.2)
    assert pacer.fps == IDLE_FPS < BUSY_FPS
    pacer.busy()  # a touch
    assert pacer.fps == BUSY_FPS
    assert clock.due_now()  # and the next turn of the loop runs at once, not an idle frame later
    clock.advance(3.0)
    pacer.busy()  # another touch 3 s later: 5 s more from now
    clock.advance(4.9)
    assert pacer.fps == BUSY_FPS
    clock.advance(0.2)
    assert pacer.fps == IDLE_FPS


def test_the_loop_stays_fast_off_the_attract_screen() -> None:
    clock = HandClock()
    on_attract = [False]
    pacer = FramePacer(clock, lambda: on_attract[0], interruptible=True, linger=5.0)
    clock.advance(60)
    assert pacer.fps == BUSY_FPS  # a customer reading the welcome screen may touch it at any time
    on_attract[0] = True
    pacer.busy()  # the screen changed back to the attract screen
    clock.advance(5.1)
    assert pacer.fps == IDLE_FPS


def test_on_a_clock_that_cannot_be_interrupted_the_loop_never_slows() -> None:
    clock = HandClock()
    pacer = FramePacer(clock, lambda: True, interruptible=False, linger=5.0)
    clock.advance(60)
    assert pacer.fps == BUSY_FPS  # a card tap's trigger would otherwise wait up to an idle frame


def late(clock: HandClock, shown: list[View]) -> LateWaits:
    return LateWaits(shown.append, lambda: shown[-1] if shown else None, clock)


ATTRACT = View(online=True)
LOOKUP = replace(ATTRACT, screen=Screen.LOOKUP)
WELCOME = replace(ATTRACT, screen=Screen.WELCOME)


def test_a_quick_answer_goes_straight_to_its_screen() -> None:
    clock, shown = HandClock(), [ATTRACT]
    render = late(clock, shown)
    render(LOOKUP)
    clock.advance(WAIT_SHOWN_AFTER / 5)
    render(WELCOME)  # the hub answered within the grace
    clock.advance(1)
    assert shown == [ATTRACT, WELCOME]  # "one moment" was never drawn


def test_a_slow_answer_shows_one_moment_first_with_its_latest_view() -> None:
    clock, shown = HandClock(), [ATTRACT]
    render = late(clock, shown)
    render(LOOKUP)
    clock.advance(WAIT_SHOWN_AFTER / 2)
    newer = replace(LOOKUP, queue=1)  # the request went into the outbox meanwhile
    render(newer)
    clock.advance(WAIT_SHOWN_AFTER / 2 - 0.001)
    assert shown == [ATTRACT]  # the grace runs from the first view of that screen, not the last
    clock.advance(0.002)
    assert shown == [ATTRACT, newer]
    render(replace(newer, queue=2))  # already on screen: drawn at once
    assert shown[-1].queue == 2
    render(WELCOME)
    assert shown[-1] == WELCOME


def test_only_the_one_moment_screens_wait() -> None:
    waiting = {Screen.LOOKUP, Screen.ENROLLING, Screen.REDEEMING}  # the "one moment" screens
    for screen in Screen:
        if screen == Screen.ATTRACT:
            continue
        clock, shown = HandClock(), [ATTRACT]
        late(clock, shown)(replace(ATTRACT, screen=screen))
        assert (shown[-1].screen == screen) is (screen not in waiting), screen  # drawn at once, or not yet
        clock.advance(WAIT_SHOWN_AFTER)
        assert shown[-1].screen == screen


def test_every_screen_has_a_part() -> None:
    assert set(PARTS) == set(Screen)
