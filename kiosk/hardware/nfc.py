"""NFC readers driven by nfcpy (PN533-class USB readers such as the ACR122U or SCL3711; nfcpy's `udp`
driver in the tests): a supervised polling loop, like the PC/SC one.

Each round senses for one ISO 14443-A target at 106 kbit/s. nfcpy switches the field off before each
round, so a card resting on the reader answers every round and TapDebouncer makes it one tap until it
leaves. The UID becomes the token PC/SC gives for the same card (`card_token`). Any error (reader
unplugged, USB gone, device busy) reports the card removed, closes the device and opens it again
after a pause: the loop itself never dies. nfcpy opens the USB device itself: a reader is nfcpy's or
pcscd's, never both, and the kernel's pn533 modules must not hold it either.
"""

from __future__ import annotations

import contextlib
import errno
import logging
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


class NfcReader:
    def __init__(
        self,
        device: str = "usb",
        name: str = "nfc",
        poll_seconds: float = 0.05,
        retry_seconds: float = 1.0,
    ) -> None:
        self.name = name
        self.device = device  # nfcpy path: "usb", "usb:072f:2200", "tty:USB0:pn532", "udp:HOST:PORT"
        self._poll = poll_seconds
        self._retry = retry_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._clf: object | None = None  # the open ContactlessFrontend, for the doctor and the tests
        self.opened = 0  # times the device was opened: 1, plus one per recovery
        self.errors = 0  # errors survived (device missing, unplugged, busy)
        self.health = READER_STARTING

    def start(self, on_event: Callable[[CardEvent], None]) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(on_event,), name=f"reader-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Ends the loop after the current sense round (at most about 1 s with the udp driver)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self, on_event: Callable[[CardEvent], None]) -> None:
        import nfc
        import nfc.clf

        debouncer = TapDebouncer(self.name)

        def see(token: str | None) -> None:
            for event in debouncer.see(token, time.monotonic()):
                on_event(event)

        while not self._stop.is_set():
            clf = nfc.ContactlessFrontend()
            try:
                if not clf.open(self.device):
                    raise OSError(errno.ENODEV, f"no NFC reader on {self.device!r}")
                self._clf = clf
                self.opened += 1
                self.health = READER_OK
                while not self._stop.is_set():
                    target = clf.sense(nfc.clf.RemoteTarget("106A"))
                    uid = bytes(target.sdd_res) if target is not None and target.sdd_res else b""
                    see(card_token(uid) if uid else None)
                    self._stop.wait(self._poll)
            # nfcpy raises IOError (ENODEV, EACCES, EBUSY) and its own errors; whatever it is, the card
            # cannot be seen any more and the device is opened again.
            except Exception as exc:
                gone = isinstance(exc, OSError) and exc.errno in (errno.ENODEV, errno.ENOENT)
                self.health = READER_ABSENT if gone else READER_ERROR
                self.errors += 1
                see(None)
                log.warning("NFC reader error; retrying", extra={"device": self.device, "error": str(exc)})
                self._stop.wait(self._retry)
            finally:
                self._clf = None
                with contextlib.suppress(Exception):  # a dead device may fail to close: still go on
                    clf.close()
