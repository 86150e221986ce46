"""MQTT topic names under `fidelio/v1/{shop}/` (DESIGN §3)."""

from __future__ import annotations

import re
from dataclasses import dataclass

ROOT = "fidelio/v1"
#: Shop and kiosk identifiers: lower-case letters, digits and dashes; they appear in topics,
#: MQTT user names and host names, so nothing else is allowed (no `+`, `#` or `/`).
ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")


def valid_id(value: str) -> bool:
    return bool(ID_PATTERN.match(value))


@dataclass(frozen=True)
class Topics:
    shop: str

    @property
    def base(self) -> str:
        return f"{ROOT}/{self.shop}"

    def request(self, kiosk: str) -> str:
        return f"{self.base}/kiosk/{kiosk}/request"

    def reply(self, kiosk: str) -> str:
        return f"{self.base}/kiosk/{kiosk}/reply"

    def kiosk_status(self, kiosk: str) -> str:
        return f"{self.base}/kiosk/{kiosk}/status"

    @property
    def all_requests(self) -> str:
        return f"{self.base}/kiosk/+/request"

    @property
    def all_kiosk_status(self) -> str:
        return f"{self.base}/kiosk/+/status"

    @property
    def hub_status(self) -> str:
        return f"{self.base}/hub/status"

    @property
    def hub_program(self) -> str:
        return f"{self.base}/hub/program"

    @property
    def hub_events(self) -> str:
        return f"{self.base}/hub/events"


def parse_request_topic(topic: str, shop: str) -> str | None:
    """The kiosk id of a request topic of this shop, or None if the topic is not one."""
    parts = topic.split("/")
    if len(parts) != 6 or "/".join(parts[:3]) != f"{ROOT}/{shop}":
        return None
    if parts[3] != "kiosk" or parts[5] != "request" or not valid_id(parts[4]):
        return None
    return parts[4]
