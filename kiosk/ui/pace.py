"""The UI loop's timing: when the first frame is on screen (`after_first_frame`), and how often Kivy's
loop turns (`FramePacer`): `busy_fps` while someone uses the kiosk, `idle_fps` once the attract
screen has been left alone for `linger` seconds (a kiosk spends most of its life there).

Kivy's loop polls SDL for touches and the clock once per frame, drawn or not: at 30 frames/s the kiosk
used ~2 % of a core with nothing on screen changing. Idle, 15 frames/s still sees a touch within 67 ms
(redrawn within ~100 ms) for ~0.5 % of a core; the first touch (or any screen change) brings the loop
back to `busy_fps` at once. Nothing on the attract screen redraws by itself (no clock, no animation), so
an idle frame draws nothing.

Card taps and hub replies do not wait for a frame: they reach the UI through a Clock trigger fired from
another thread, and with Kivy's *interrupt* clock (KIVY_CLOCK=interrupt, set by `kiosk.ui`) a trigger
wakes the sleeping loop at once, whatever the frame rate.

Kivy reads `Clock._max_fps` on every frame (kivy/clock.py, `idle`). Its clock resolution, left to
itself, is 1 / (3 × maxfps) — 22 ms at 15 frames/s — and the interrupt clock does not sleep when the next
event is due within ~1.8 resolutions: it spins instead. The resolution is therefore pinned here.
On another clock (an operator's KIVY_CLOCK) the pacer keeps `busy_fps`: triggers would wait for a frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

BUSY_FPS = 30.0
IDLE_FPS = 15.0
LINGER_SECONDS = 5.0
CLOCK_RESOLUTION = 0.004  # seconds; Kivy's own at 60 frames/s is 0.0056


class FramePacer:
    """Sets Kivy's frame rate. `clock` is Kivy's Clock (what is used of it: `create_trigger`, `_max_fps`,
    `clock_resolution`); `interruptible` says whether it is the interrupt clock: on any other, a trigger
    waits for the next frame, so a slow idle loop would delay card taps and the pacer never slows it."""

    def __init__(
        self,
        clock: Any,
        may_idle: Callable[[], bool],
        *,
        interruptible: bool,
        busy_fps: float = BUSY_FPS,
        idle_fps: float = IDLE_FPS,
        linger: float = LINGER_SECONDS,
    ) -> None:
        self._clock = clock
        self._may_idle = may_idle
        self.busy_fps = busy_fps
        self.idle_fps = idle_fps if interruptible else busy_fps
        clock.clock_resolution = CLOCK_RESOLUTION
        self._calm_down = clock.create_trigger(self._slow_down, linger)
        self._turn = clock.create_trigger(lambda _dt: None)  # a due event: the loop does not sleep
        self.busy()

    def watch(self, window: Any) -> None:
        """Input straight from SDL (a touch is a mouse press on every platform the kiosk runs on; keys).

        SDL's events are read at the end of a turn of the loop and handed to the widgets in the next
        one: on an idle loop that would be one idle frame later. `busy` runs the next turn at once."""
        window.bind(
            on_mouse_down=self.busy,
            on_mouse_up=self.busy,
            on_mouse_move=self.busy,
            on_key_down=self.busy,
            on_motion=self.busy,
        )

    @property
    def fps(self) -> float:
        return float(self._clock._max_fps)

    def busy(self, *_args: Any) -> None:
        """Something happened (a touch, a key, a new screen): full frame rate for `linger` seconds more.

        Returns None: bound to Window events, it must not stop their dispatch."""
        self._clock._max_fps = self.busy_fps
        self._calm_down.cancel()
        self._calm_down()
        self._turn()

    def _slow_down(self, _dt: float) -> None:
        if self._may_idle():
            self._clock._max_fps = self.idle_fps


def interruptible(clock: Any) -> bool:
    """Whether `clock` (Kivy's) is one whose triggers wake a sleeping loop at once."""
    from kivy.clock import ClockBaseInterruptBehavior

    return isinstance(clock, ClockBaseInterruptBehavior)


def after_first_frame(callback: Callable[[], None]) -> None:
    """Run `callback` once on the UI thread, once the next frame is on screen.

    Kivy calls the handlers bound to `on_flip` *before* its own, which swaps the buffers (with software
    GL that swap is where the frame is actually drawn): the callback is scheduled from there, so it runs
    on the next turn of the loop, after the swap."""
    from kivy.clock import Clock
    from kivy.core.window import Window

    def once(*_args: object) -> None:
        Window.unbind(on_flip=once)
        Clock.schedule_once(lambda _dt: callback(), 0)

    Window.bind(on_flip=once)
