"""systemd's notify protocol (Type=notify, WatchdogSec=): a datagram to $NOTIFY_SOCKET. No-op elsewhere.

Shared by the hub service and the kiosk app (kiosk/watchdog.py); dependency-free.
"""

from __future__ import annotations

import os
import socket


class Notifier:
    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        addr = env.get("NOTIFY_SOCKET", "")
        self._addr = "\0" + addr[1:] if addr.startswith("@") else addr
        usec = int(env.get("WATCHDOG_USEC", "0") or 0)
        #: Feed the watchdog twice per period, as sd_notify(3) recommends.
        self.watchdog_interval = usec / 2_000_000 if usec else None

    @property
    def enabled(self) -> bool:
        return bool(self._addr)

    def send(self, message: str) -> None:
        if not self._addr:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(self._addr)
                sock.sendall(message.encode())
        except OSError:  # systemd gone or socket full: never let notification take the hub down
            pass

    def ready(self, status: str = "") -> None:
        self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def status(self, text: str) -> None:
        self.send(f"STATUS={text}")

    def watchdog(self) -> None:
        self.send("WATCHDOG=1")

    def stopping(self) -> None:
        self.send("STOPPING=1")
