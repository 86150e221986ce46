"""A minimal kiosk-side link to the hub: publish a request, wait for its reply, resend if unanswered.

Used by the demo's simulated kiosk, the headless `fidelio-kiosk`, the tests and the benchmarks. It keeps
nothing on disk: the kiosk app's outbox (SQLite, replay after restart) is built on top of the same wire
contract by the kiosk app issue.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt

from fidelio.contract import Request, Topics, dumps, new_request
from fidelio.mqttlink import connect_properties, make_client, publish_properties
from kiosk.provisioning import Provisioning


class HubUnreachable(TimeoutError):
    pass


@dataclass
class _Pending:
    done: threading.Event = field(default_factory=threading.Event)
    reply: dict[str, Any] | None = None


class SimpleHubClient:
    def __init__(self, prov: Provisioning, client_id: str | None = None) -> None:
        self.prov = prov
        self.topics = Topics(prov.shop)
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.unmatched_replies = 0
        self.client = make_client(
            client_id or f"kiosk-{prov.kiosk}",
            prov.username,
            prov.password,
            ca_pem=prov.ca if prov.tls else None,
            will=(self.topics.kiosk_status(prov.kiosk), dumps({"state": "lost"})),
        )
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            return
        client.subscribe(self.topics.reply(self.prov.kiosk), qos=1)
        client.publish(
            self.topics.kiosk_status(self.prov.kiosk),
            dumps({"state": "online", "queue": 0}),
            qos=1,
            retain=True,
        )

    def _on_subscribe(self, *_args: Any) -> None:
        self._subscribed.set()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            reply = json.loads(msg.payload)
            rid = reply["id"]
        except (ValueError, KeyError, TypeError):
            self.unmatched_replies += 1
            return
        with self._lock:  # answered: forget it (callers of send() hold the _Pending themselves)
            pending = self._pending.pop(rid, None)
        if pending is None:  # a late or foreign reply: ignore safely
            self.unmatched_replies += 1
            return
        pending.reply = reply
        pending.done.set()

    def connect(self, timeout: float = 10) -> None:
        self.client.connect(
            self.prov.host, self.prov.port, keepalive=30, properties=connect_properties(False)
        )
        self.client.loop_start()
        if not self._subscribed.wait(timeout):
            raise HubUnreachable(f"no broker at {self.prov.host}:{self.prov.port}")

    def close(self) -> None:
        self.client.publish(
            self.topics.kiosk_status(self.prov.kiosk), dumps({"state": "offline"}), qos=1, retain=True
        ).wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()

    def send(self, request: Request) -> _Pending:
        pending = _Pending()
        with self._lock:
            self._pending[request.id] = pending
        self._publish(request)
        return pending

    def _publish(self, request: Request) -> None:
        reply_topic = self.topics.reply(self.prov.kiosk)
        self.client.publish(
            self.topics.request(self.prov.kiosk),
            dumps(request.to_json()),
            qos=1,
            properties=publish_properties(request.id, reply_topic),
        )

    def call(self, request: Request, timeout: float = 5, attempts: int = 3) -> dict[str, Any]:
        """Send and wait for the reply, resending the same id when it stays unanswered."""
        pending = self.send(request)
        try:
            for attempt in range(attempts):
                if attempt:
                    self._publish(request)
                if pending.done.wait(timeout):
                    assert pending.reply is not None
                    return pending.reply
            raise HubUnreachable(f"no reply to {request.type} {request.id}")
        finally:
            with self._lock:
                self._pending.pop(request.id, None)

    def request(self, type_: str, card: str, body: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        return self.call(new_request(type_, self.prov.kiosk, card, body), **kw)
