"""PC/SC card readers (ACR122U / ACR1252U class) through pyscard and pcscd.

A supervised polling loop rather than pyscard's CardMonitor, whose thread dies silently when pcscd
restarts: each round lists the readers, asks each for a card's UID (`FF CA 00 00 00`), and any
PC/SC error just ends the round — pcscd restarting, a reader unplugged and plugged back in, all heal
on their own. A card resting on a reader is one tap until it is removed (TapDebouncer).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable

from kiosk.hardware.cards import card_token
from kiosk.hardware.reader import (
    READER_ABSENT,
    READER_ERROR,
    READER_OK,
    READER_STARTING,
    CardEvent,
    TapDebouncer,
)

log = logging.getLogger(__name__)
GET_UID = [0xFF, 0xCA, 0x00, 0x00, 0x00]


def _read_uid(reader: object) -> bytes | None:
    from smartcard.Exceptions import CardConnectionException, NoCardException

    conn = reader.createConnection()  # type: ignore[attr-defined]
    try:
        conn.connect()
    except (NoCardException, CardConnectionException):
        return None
    try:
        data, sw1, sw2 = conn.transmit(GET_UID)
        return bytes(data) if (sw1, sw2) == (0x90, 0x00) and data else None
    finally:
        with contextlib.suppress(CardConnectionException):
            conn.disconnect()


class PcscReader:
    def __init__(self, name: str = "pcsc", reader_pattern: str = ".*", poll_seconds: float = 0.05) -> None:
        self.name = name
        self._pattern = re.compile(reader_pattern)
        self._poll = poll_seconds
        self._debouncers: dict[str, TapDebouncer] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0  # PC/SC errors survived (pcscd restarts, unplugged readers)
        self.health = READER_STARTING

    def start(self, on_event: Callable[[CardEvent], None]) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(on_event,), name=f"reader-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self, on_event: Callable[[CardEvent], None]) -> None:
        from smartcard.System import readers as list_readers

        while not self._stop.is_set():
            try:
                seen = {str(r): r for r in list_readers() if self._pattern.search(str(r))}
                for name, reader in seen.items():
                    uid = _read_uid(reader)
                    debouncer = self._debouncers.setdefault(name, TapDebouncer(name))
                    for event in debouncer.see(card_token(uid) if uid else None, time.monotonic()):
                        on_event(event)
                for gone in set(self._debouncers) - set(seen):  # unplugged: its card is gone too
                    for event in self._debouncers.pop(gone).see(None, time.monotonic()):
                        on_event(event)
                self.health = READER_OK if seen else READER_ABSENT
            # pcscd restarting or gone (pyscard raises EstablishContextException, not a SmartcardException),
            # a reader unplugged mid-read: the round ends, the loop lives on.
            except Exception as exc:
                self.health = READER_ERROR  # pcscd gone or failing (no reader at all is an empty list)
                self.errors += 1
                log.warning("PC/SC error; retrying", extra={"error": str(exc)})
                self._stop.wait(0.5)
                continue
            self._stop.wait(self._poll)
