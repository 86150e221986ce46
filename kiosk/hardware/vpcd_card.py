"""A contactless card for vsmartcard's virtual reader (vpcd): the test and demo card on the real PC/SC
path (pcscd + the "Virtual PCD" reader). Connecting is a tap; closing the socket takes the card away.

Protocol (vpcd): every message is a 2-byte big-endian length then the data; a 1-byte message is a
control (0 power off, 1 power on, 2 reset, 4 send the ATR), anything else an APDU to answer.
Never on a kiosk image: vpcd listens on every interface.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

VPCD_PORT = 35963
#: ATR of a contactless storage card as PC/SC readers (PC/SC part 3) report it.
ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
GET_UID = bytes.fromhex("FFCA000000")


class VirtualCard:
    def __init__(self, uid: bytes, port: int = VPCD_PORT, host: str = "127.0.0.1") -> None:
        self.uid = uid
        self.apdus: list[bytes] = []
        self._sock = socket.create_connection((host, port), timeout=5)
        self._sock.settimeout(None)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _recv_exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self._sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("reader closed")
            data += chunk
        return data

    def _send(self, data: bytes) -> None:
        self._sock.sendall(struct.pack(">H", len(data)) + data)

    def answer(self, apdu: bytes) -> bytes:
        if apdu[:4] == GET_UID[:4]:
            return self.uid + b"\x90\x00"
        return b"\x6d\x00"  # instruction not supported

    def _serve(self) -> None:
        try:
            while True:
                (length,) = struct.unpack(">H", self._recv_exact(2))
                msg = self._recv_exact(length)
                if length == 1:
                    if msg[0] == 4:
                        self._send(ATR)
                    continue  # power on/off, reset: nothing to say
                self.apdus.append(msg)
                self._send(self.answer(msg))
        except (OSError, ConnectionError, struct.error):
            return

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
