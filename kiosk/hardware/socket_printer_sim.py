"""A receipt printer on a TCP port (like port 9100 of a network printer) that records what it gets and
answers the real-time status queries (DLE EOT n) — the simulated printer for the demo and the tests,
with faults to inject: paper out, paper low, offline. It sits at the transport: the driver under test
is the real python-escpos Network backend."""

from __future__ import annotations

import contextlib
import socket
import threading

DLE_EOT = b"\x10\x04"
_ONLINE, _OFFLINE = 0x12, 0x1A  # bit 3 set = offline
_PAPER_OK, _PAPER_LOW, _PAPER_OUT = 0x12, 0x1E, 0x72


class SocketPrinterSim:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = socket.create_server((host, port))
        self.port = self._server.getsockname()[1]
        self.received = bytearray()
        self.jobs: list[bytes] = []  # one per connection that printed something
        self.paper = "ok"  # ok | low | out
        self.online = True
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _answer(self, n: int) -> bytes:
        if n == 1:
            return bytes([_ONLINE if self.online else _OFFLINE])
        if n == 4:
            return bytes([{"ok": _PAPER_OK, "low": _PAPER_LOW, "out": _PAPER_OUT}[self.paper]])
        return b"\x12"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with conn:
                self._session(conn)

    def _session(self, conn: socket.socket) -> None:
        job = bytearray()
        buf = b""
        while True:
            try:
                chunk = conn.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            start = 0
            while (j := buf.find(DLE_EOT, start)) != -1 and j + 2 < len(buf):
                job += buf[start:j]
                conn.sendall(self._answer(buf[j + 2]))
                start = j + 3
            rest = buf[start:]
            keep = 2 if rest.endswith(DLE_EOT) else 1 if rest.endswith(DLE_EOT[:1]) else 0
            job += rest[: len(rest) - keep]
            buf = rest[len(rest) - keep :]  # a query cut in two by TCP: wait for its end
        job += buf
        self.received += job
        if job:
            self.jobs.append(bytes(job))

    def close(self) -> None:
        # shutdown first: a bare close() leaves the socket listening while accept() blocks on it
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        self._thread.join(timeout=5)
