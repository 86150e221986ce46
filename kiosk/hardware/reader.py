"""The card reader interface (one small Protocol) and the simulated reader for the demo and tests.

A reader reports a card once when it is presented and once when it is taken away: a card resting on
the reader is one tap, not a stream of them (`TapDebouncer` holds that rule for polling drivers).
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True)
class CardEvent:
    kind: Literal["presented", "removed"]
    token: str
    reader: str
    at: float  # time.monotonic() of the reading: for latency, never for validity (the hub decides)


#: what a reader says of itself (its `health`), set by its own loop
READER_OK, READER_STARTING, READER_ABSENT, READER_ERROR = "ok", "starting", "absent", "error"


class CardReader(Protocol):
    name: str
    #: READER_OK once it can see a card; READER_ABSENT when its device is not there (unplugged, no
    #: reader for pcscd); READER_ERROR when the device or its daemon fails (pcscd down, no permission)
    health: str

    def start(self, on_event: Callable[[CardEvent], None]) -> None:
        """Begin reporting cards to `on_event` (from the reader's own thread)."""

    def stop(self) -> None: ...


def readers_state(readers: Sequence[CardReader]) -> str:
    """The kiosk status's `reader` field: "ok: pcsc, hid" while all work, else each one's state
    ("absent: pcsc; ok: hid"), "none" without any reader."""
    if not readers:
        return "none"
    if all(r.health == READER_OK for r in readers):
        return "ok: " + ", ".join(r.name for r in readers)
    return "; ".join(f"{r.health}: {r.name}" for r in readers)


#: each health in words, for the staff screen (FR, EN)
HEALTH_TEXT: dict[str, tuple[str, str]] = {
    READER_OK: ("en service", "working"),
    READER_STARTING: ("démarrage", "starting"),
    READER_ABSENT: ("débranché", "unplugged"),
    READER_ERROR: ("en panne", "failing"),
}


def readers_text(readers: Sequence[CardReader]) -> tuple[str, str]:
    """`readers_state` in words (FR, EN): "débranché (pcsc) ; en service (hid)"."""
    if not readers:
        return ("aucun lecteur configuré", "no reader configured")
    words = [(HEALTH_TEXT.get(r.health, (r.health, r.health)), r.name) for r in readers]
    return (
        " ; ".join(f"{fr} ({name})" for (fr, _en), name in words),  # French: a space before ";"
        "; ".join(f"{en} ({name})" for (_fr, en), name in words),
    )


class TapDebouncer:
    """Turns what a polling loop sees (a token, or None for no card) into presented/removed events."""

    def __init__(self, reader: str) -> None:
        self.reader = reader
        self.present: str | None = None

    def see(self, token: str | None, now: float) -> list[CardEvent]:
        if token == self.present:
            return []
        events = []
        if self.present is not None:
            events.append(CardEvent("removed", self.present, self.reader, now))
        if token is not None:
            events.append(CardEvent("presented", token, self.reader, now))
        self.present = token
        return events


class SimulatedReader:
    """Cards tapped by code (the demo's on-screen buttons, a script, the tests)."""

    def __init__(self, name: str = "simulated") -> None:
        self.name = name
        self.health = READER_OK
        self._debouncer = TapDebouncer(name)
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._on_event: Callable[[CardEvent], None] | None = None

    def start(self, on_event: Callable[[CardEvent], None]) -> None:
        self._on_event = on_event

    def stop(self) -> None:
        self._on_event = None

    def present(self, token: str) -> None:
        self._emit(token)

    def remove(self) -> None:
        self._emit(None)

    def tap(self, token: str) -> None:
        self.present(token)
        self.remove()

    def _emit(self, token: str | None) -> None:
        for event in self._debouncer.see(token, time.monotonic()):
            if self._on_event is not None:
                self._on_event(event)
