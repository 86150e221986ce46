"""A contactless card on nfcpy's `udp` driver: the test and demo card for the nfcpy path, as vpcd_card
is for PC/SC. A second ContactlessFrontend on the same udp port listens as an ISO 14443-A target with
the chosen UID and answers the reader's anticollision (SENS_REQ, SDD_REQ, SEL_REQ) for every sense
round while the card is "on the reader"; `remove()` takes it away.

nfcpy's udp driver speaks one datagram per frame, `"<bitrate> <hex data>"` (e.g. `106A 26`). A
listener returns when a command other than anticollision arrives, so `remove()` sends it one (HLTA,
`50 00`) to end the listen at once. Each listen also ends after LISTEN_S and starts again at once,
which bounds `remove()` even if a reader left the anticollision half done (the listener then ignores
HLTA); the restart leaves a gap of microseconds in which a sense round could go unanswered. The
listener binds 0.0.0.0: test machines only. Limit of nfcpy 1.0.4's udp listener: a 10-byte (triple
size) UID cannot be emulated — it expects the third cascade level's SEL_REQ as `95 70` instead of
`97 70` and never answers it — so UdpTag takes 4- or 7-byte UIDs (NfcReader itself takes whatever
UID nfcpy reports from a real reader).
"""

from __future__ import annotations

import socket
import threading
import time

UDP_PORT = 54321  # nfcpy's default for "udp"
#: SENS_RES (ATQA) by UID size: single, double; SEL_RES 00 = a Type 2 tag (MIFARE Ultralight, NTAG).
SENS_RES = {4: "0400", 7: "4400"}
HLTA = b"106A 5000"
LISTEN_S = 30.0


class UdpTag:
    def __init__(self, uid: bytes, port: int = UDP_PORT, host: str = "127.0.0.1") -> None:
        import nfc
        import nfc.clf

        if len(uid) not in SENS_RES:
            raise ValueError(f"nfcpy's udp driver emulates 4- or 7-byte UIDs, not {len(uid)} bytes")
        self.uid = uid
        self._addr = (host, port)
        self._clf = nfc.ContactlessFrontend(f"udp:{host}:{port}")
        self._target = nfc.clf.LocalTarget(
            "106A",
            sens_res=bytearray.fromhex(SENS_RES[len(uid)]),
            sdd_res=bytearray(uid),
            sel_res=bytearray(b"\x00"),
        )
        self._removed = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="udp-tag")
        self._thread.start()

    def _serve(self) -> None:
        try:
            while not self._removed.is_set():
                # answers every sense round; returns on HLTA, after LISTEN_S, or at once while the
                # port is still taken by a card not yet gone
                started = time.monotonic()
                if self._clf.listen(self._target, LISTEN_S) is None and time.monotonic() - started < 0.5:
                    self._removed.wait(0.05)
        finally:
            self._clf.close()

    def remove(self) -> None:
        self._removed.set()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as kick:
            while self._thread.is_alive():  # the listener may not be bound yet: say it until it ends
                kick.sendto(HLTA, self._addr)
                self._thread.join(0.05)
