"""The kiosks' retained `kiosk/{kiosk}/status` messages, as the hub last received them (for the staff web).

A kiosk publishes `{"state": "online"|"offline", "queue": int, "reader": …, "printer": …}` retained, and
its last will `{"state": "lost"}`; the broker's ACL lets the hub read the whole shop tree. Kept in
memory only: the broker replays the retained messages whenever the hub subscribes again.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from fidelio.contract.topics import ROOT, valid_id

MAX_STATUS_BYTES = 4096


class KioskStatusBoard:
    def __init__(self, shop: str) -> None:
        self._prefix = f"{ROOT}/{shop}/kiosk/"
        self._lock = threading.Lock()
        self._latest: dict[str, dict[str, Any]] = {}

    def kiosk_of(self, topic: str) -> str | None:
        """The kiosk id of a status topic of this shop, or None."""
        if not topic.startswith(self._prefix) or not topic.endswith("/status"):
            return None
        kiosk = topic[len(self._prefix) : -len("/status")]
        return kiosk if valid_id(kiosk) else None

    def update(self, kiosk: str, payload: bytes, received_at: str) -> None:
        """Record a status; an empty payload (a cleared retained message) forgets the kiosk."""
        if not payload:
            with self._lock:
                self._latest.pop(kiosk, None)
            return
        try:
            status = json.loads(payload[:MAX_STATUS_BYTES]) if len(payload) <= MAX_STATUS_BYTES else None
        except ValueError:
            status = None
        if not isinstance(status, dict):
            status = {"state": "unreadable"}
        with self._lock:
            self._latest[kiosk] = {"status": status, "received_at": received_at}

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {
                k: {"status": dict(v["status"]), "received_at": v["received_at"]}
                for k, v in self._latest.items()
            }
