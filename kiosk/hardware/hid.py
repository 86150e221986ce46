"""Keyboard-wedge (USB HID) card readers: they "type" the UID and press Enter.

The reader is one named input device, grabbed so the digits never reach the UI. `HidKeyDecoder` (pure)
turns the key events into the typed string; `hid_token` normalises it to the PC/SC token. A wedge
reader cannot say when a card leaves, so each read is a tap: presented then removed at once.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import threading
import time
from collections.abc import Callable, Iterable

from kiosk.hardware.cards import CardTokenError, hid_token
from kiosk.hardware.reader import READER_ABSENT, READER_ERROR, READER_OK, READER_STARTING, CardEvent

log = logging.getLogger(__name__)
EV_KEY = 1
KEY_DOWN = 1
ENTER_KEYS = {28, 96}  # KEY_ENTER, KEY_KPENTER
#: Linux input key codes of the characters a wedge reader types (top row and keypad digits, A–F).
KEY_CHARS = {
    2: "1", 3: "2", 4: "3", 5: "4", 6: "5", 7: "6", 8: "7", 9: "8", 10: "9", 11: "0",
    79: "1", 80: "2", 81: "3", 75: "4", 76: "5", 77: "6", 71: "7", 72: "8", 73: "9", 82: "0",
    30: "A", 48: "B", 46: "C", 32: "D", 18: "E", 33: "F",
}  # fmt: skip
MAX_CHARS = 40


class HidKeyDecoder:
    def __init__(self) -> None:
        self._chars: list[str] = []

    def feed(self, type_: int, code: int, value: int) -> str | None:
        """One input event; returns what was typed when Enter comes, else None."""
        if type_ != EV_KEY or value != KEY_DOWN:
            return None
        if code in ENTER_KEYS:
            typed, self._chars = "".join(self._chars), []
            return typed or None
        char = KEY_CHARS.get(code)
        if char is None or len(self._chars) >= MAX_CHARS:  # noise, or a stuck key: start again
            self._chars = []
        else:
            self._chars.append(char)
        return None


def tokens_from_events(
    events: Iterable[tuple[int, int, int]], fmt: str = "dec", reverse: bool = False
) -> list[str]:
    """Tokens from a recorded (type, code, value) stream; unreadable reads are logged and skipped."""
    decoder = HidKeyDecoder()
    out = []
    for type_, code, value in events:
        typed = decoder.feed(type_, code, value)
        if typed is None:
            continue
        try:
            out.append(hid_token(typed, fmt, reverse))
        except CardTokenError as exc:
            log.warning("unreadable HID read", extra={"error": str(exc)})
    return out


class HidReader:
    """An evdev input device (e.g. /dev/fidelio-hid-reader from the udev rules), grabbed."""

    def __init__(self, device: str, fmt: str = "dec", reverse: bool = False, name: str = "hid") -> None:
        self.name = name
        self.device_path = device
        self.fmt = fmt
        self.reverse = reverse
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._device: object | None = None
        self.health = READER_STARTING

    def start(self, on_event: Callable[[CardEvent], None]) -> None:
        self._thread = threading.Thread(target=self._loop, args=(on_event,), daemon=True, name="reader-hid")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        device, self._device = self._device, None
        if device is not None:  # closing the device ends the blocking read_loop
            with contextlib.suppress(OSError):
                device.close()  # type: ignore[attr-defined]

    def _loop(self, on_event: Callable[[CardEvent], None]) -> None:
        import evdev

        while not self._stop.is_set():
            try:
                device = evdev.InputDevice(self.device_path)
                self._device = device
                device.grab()  # the digits must never reach the touchscreen UI
                self.health = READER_OK
                decoder = HidKeyDecoder()
                for ev in device.read_loop():
                    typed = decoder.feed(ev.type, ev.code, ev.value)
                    if typed is None:
                        continue
                    try:
                        token = hid_token(typed, self.fmt, self.reverse)
                    except CardTokenError as exc:
                        log.warning("unreadable HID read", extra={"error": str(exc)})
                        continue
                    now = time.monotonic()
                    on_event(CardEvent("presented", token, self.name, now))
                    on_event(CardEvent("removed", token, self.name, now))
            except OSError as exc:  # unplugged: wait for it to come back
                gone = exc.errno in (errno.ENODEV, errno.ENOENT)
                self.health = READER_ABSENT if gone else READER_ERROR  # EACCES: not in the input group
                log.warning("HID reader unavailable", extra={"device": self.device_path, "error": str(exc)})
                self._stop.wait(1.0)
