"""The kiosk's link to the hub over MQTT v5: outbox first, then the wire; replies matched, cached, removed.

What it guarantees (DESIGN §3, §6):
- `submit` writes the request to the outbox (fsync'd) before anything is published, and raises
  `OutboxError` (words in French and English for the screen) if it cannot.
- Every request the outbox holds reaches the broker in the outbox's order. The first connect publishes
  the outbox as `start()` found it; after that each new request is handed to paho once, at `submit`
  (paho sends it at once, or holds it while disconnected), and paho keeps each until the broker's PUBACK
  and re-sends what it holds, in order, whenever it reconnects. Each reconnect also publishes again the
  requests the broker had acknowledged but the hub has not answered (a broker that crashed may have lost
  them); they are older than anything paho still holds, and go out before it, so the order stays.
- A persistent session (`clean_start=False` + SessionExpiryInterval; the client id is the kiosk's user
  name, which the broker enforces): replies published while the kiosk was down or restarting wait at
  the broker and are delivered when it comes back.
- A reply removes its request only after `on_reply` returned (so what the callback stores, e.g. a voucher,
  is durable before the request can no longer be resent). Deletes are batched: one fsync per batch; a
  delete lost in a crash only means a resend, which the hub answers from its stored reply, so `on_reply`
  can see an id twice across a restart. Replies whose id is not waiting (unknown, duplicate, forged) are
  counted and ignored.
- Unanswered requests are resent (same id; the hub dedupes) once they are `resend_after` seconds old,
  while the broker is connected and the hub reports "online", and only when the hub has sent this kiosk
  no reply for `resend_after` seconds: a hub working through a backlog is not sent it again, and a hub
  that is away gets nothing twice (the broker keeps requests for its session).
- The retained `kiosk/{kiosk}/status` says online/queue/reader/printer, republished when the queue
  changes, at most every `status_every` seconds; the last will says `{"state": "lost"}`.

`online` is True when the broker is connected AND the hub's retained status says "online": a hub that is
lost, stopped or degraded cannot answer, so the session must refuse redemptions then.

Threads: the callbacks `on_reply(request_id, reply)`, `on_state(online, queue)` and
`on_program(summary)` run on paho's network thread (`on_state` also on the thread that called `submit`,
i.e. usually the UI thread, right after the request is stored): the presenter marshals them to the UI
thread (e.g. with Kivy's Clock). They must be quick and must never wait for the UI thread. A callback that
raises is logged and the link carries on. A housekeeping thread ("fidelio-link") batches the outbox
deletes and cache writes, publishes the status and resends.

The broker (Mosquitto 2.0) announces ReceiveMaximum 1000 but does not enforce it for QoS 1, and paho
itself sends everything it holds at once after a reconnect; the link does not cap paho's in-flight window
either (a window would let later publishes overtake queued ones and break the order).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt

from fidelio import __version__
from fidelio.contract import Request, Topics, dumps
from fidelio.mqttlink import connect_properties, make_client, publish_properties
from kiosk.link.cache import MemberCache
from kiosk.link.outbox import Outbox
from kiosk.provisioning import Provisioning

log = logging.getLogger("fidelio.kiosk.link")

OnReply = Callable[[str, dict[str, Any]], None]
OnState = Callable[[bool, int], None]
OnProgram = Callable[[dict[str, Any]], None]

#: hub/status states in which the hub answers requests
HUB_SERVING = frozenset({"online"})


@dataclass(eq=False)
class _Item:
    request: Request
    payload: bytes
    handed: bool = False  # given to paho at least once by this process
    sent_at: float = 0.0  # monotonic time of the last hand-over to paho
    acked: bool = False  # the broker acknowledged (PUBACK) the last hand-over


@dataclass(frozen=True)
class _Answered:
    request_id: str
    card: str
    member: dict[str, Any] | None  # to cache (ok reply with a member)
    at: str | None
    forget: bool  # the hub does not know the card (unknown_card): drop its copy


def parse_reply(payload: bytes) -> dict[str, Any] | None:
    """A reply object with a string id, or None (not JSON, not an object, no id)."""
    try:
        reply = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(reply, dict) or not isinstance(reply.get("id"), str) or not reply["id"]:
        return None
    return reply


class HubLink:
    def __init__(
        self,
        prov: Provisioning,
        outbox: Outbox,
        cache: MemberCache,
        *,
        on_reply: OnReply,
        on_state: OnState,
        on_program: OnProgram,
        resend_after: float = 20.0,
        status_every: float = 0.5,
        flush_every: float = 0.05,
    ) -> None:
        self.prov = prov
        self.outbox = outbox
        self.cache = cache
        self.on_reply = on_reply
        self.on_state = on_state
        self.on_program = on_program
        self.resend_after = resend_after
        self.status_every = status_every
        self.flush_every = flush_every
        topics = Topics(prov.shop)
        self._request_topic = topics.request(prov.kiosk)
        self._reply_topic = topics.reply(prov.kiosk)
        self._status_topic = topics.kiosk_status(prov.kiosk)
        self._hub_status_topic = topics.hub_status
        self._hub_program_topic = topics.hub_program
        self.counters: Counter[str] = Counter()

        self._lock = threading.RLock()  # everything below, and the order of hand-overs to paho
        self._pending: dict[str, _Item] = {}  # unanswered requests, in outbox order
        self._answered: list[_Answered] = []  # to delete from the outbox / write to the cache
        self._undeleted: list[str] = []  # deletes that failed, retried
        self._connected = False
        self._ever_connected = False
        self._hub_state: str | None = None
        self._devices = {"reader": "unknown", "printer": "unknown"}
        self._status_due: float | None = None
        self._status_last = float("-inf")
        self._last_reply_at = 0.0
        self._program_payload: bytes | None = None

        self._ack_lock = threading.Lock()  # PUBACKs arrive under paho's own lock: never take _lock there
        self._by_mid: dict[int, _Item | None] = {}
        self._early_acks: set[int] = set()
        self._unacked: set[str] = set()  # waiting ids not yet sent, or whose last publish has no PUBACK

        self._notify_lock = threading.RLock()
        self._reported: tuple[bool, int] | None = None
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None

        self.client = make_client(
            prov.username,  # the broker makes the user name the client id anyway (one session per kiosk)
            prov.username,
            prov.password,
            ca_pem=prov.ca if prov.tls else None,
            will=(self._status_topic, dumps({"state": "lost"})),
        )
        self.client.max_inflight_messages_set(0)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish

    # -- what the presenter reads --------------------------------------------------------------------
    @property
    def online(self) -> bool:
        with self._lock:
            return self._connected and self._hub_state in HUB_SERVING

    @property
    def connected(self) -> bool:
        """The broker is connected (the hub may still be away)."""
        with self._lock:
            return self._connected

    @property
    def queue(self) -> int:
        """Requests waiting for the hub's reply."""
        with self._lock:
            return len(self._pending)

    @property
    def unmatched_replies(self) -> int:
        return self.counters["unmatched_replies"]

    @property
    def malformed_replies(self) -> int:
        return self.counters["malformed_replies"]

    def unacknowledged(self) -> int:
        """Unanswered requests the broker does not have yet: not sent, or sent without a PUBACK so far."""
        with self._ack_lock:
            return len(self._unacked)

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> None:
        """Read the outbox and connect in the background (the outbox is replayed on connect); never waits
        for the network, never raises for a broker that is down (paho retries: 1 s doubling to 30 s)."""
        with self._lock:
            for request in self.outbox.pending():
                if request.id not in self._pending:
                    self._pending[request.id] = _Item(request, dumps(request.to_json()))
                    with self._ack_lock:
                        self._unacked.add(request.id)
        self._stop.clear()
        self._worker = threading.Thread(target=self._housekeeping, name="fidelio-link", daemon=True)
        self._worker.start()
        self.client.connect_async(
            self.prov.host,
            self.prov.port,
            keepalive=30,
            clean_start=False,
            properties=connect_properties(persistent=True),
        )
        self.client.loop_start()
        self._notify_state()

    def stop(self) -> None:
        """Say "offline" on the status topic (if connected), disconnect cleanly (no last will), flush."""
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=10)
            self._worker = None
        with self._lock:
            connected = self._connected
            payload = self._status_payload("offline")
        if connected:
            info = self.client.publish(self._status_topic, payload, qos=1, retain=True)
            self._track(info.mid, None)
            with contextlib.suppress(RuntimeError, ValueError):  # the broker went away meanwhile
                info.wait_for_publish(timeout=2)
        self.client.disconnect()
        self.client.loop_stop()
        self._flush()

    def submit(self, request: Request) -> None:
        """Store the request (durable when this returns), then publish it (now if connected, else as
        soon as the link connects). Raises OutboxError (with `.words`) when it cannot be stored."""
        with self._lock:  # held across the outbox write so that the outbox order is the wire order
            self.outbox.add(request)
            if request.id in self._pending:
                return
            item = _Item(request, dumps(request.to_json()))
            self._pending[request.id] = item
            with self._ack_lock:
                self._unacked.add(request.id)
            if self._ever_connected:  # else the first connect replays it, after the older ones
                self._hand_over(item)  # paho sends it now, or holds it until it reconnects, in order
            self._status_changed()
        self._notify_state()

    def set_devices(self, reader: str, printer: str) -> None:
        """Reader and printer state for the retained status (republished within `status_every`)."""
        with self._lock:
            self._devices = {"reader": reader, "printer": printer}
            self._status_changed()

    # -- publishing (under _lock) ---------------------------------------------------------------------
    def _hand_over(self, item: _Item) -> None:
        info = self.client.publish(
            self._request_topic,
            item.payload,
            qos=1,
            properties=publish_properties(item.request.id, self._reply_topic),
        )
        item.handed, item.sent_at, item.acked = True, time.monotonic(), False
        self.counters["published"] += 1
        self._track(info.mid, item)

    def _track(self, mid: int, item: _Item | None) -> None:
        with self._ack_lock:
            if mid in self._early_acks:  # the PUBACK beat us here
                self._early_acks.discard(mid)
                if item is not None:
                    item.acked = True
                    self._unacked.discard(item.request.id)
            else:
                self._by_mid[mid] = item
                if item is not None:
                    self._unacked.add(item.request.id)

    def _status_payload(self, state: str) -> bytes:
        # `version`: the release this kiosk runs, for the hub's updates page (an optional body field)
        return dumps({"state": state, "queue": len(self._pending), "version": __version__, **self._devices})

    def _status_changed(self) -> None:
        if self._status_due is None:
            self._status_due = max(time.monotonic(), self._status_last + self.status_every)

    def _publish_status_if_due(self) -> None:
        with self._lock:
            now = time.monotonic()
            if not self._connected or self._status_due is None or now < self._status_due:
                return
            info = self.client.publish(self._status_topic, self._status_payload("online"), qos=1, retain=True)
            self._track(info.mid, None)
            self._status_due, self._status_last = None, now
            self.counters["status_published"] += 1

    # -- paho callbacks (network thread) ----------------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            self.counters["connect_refused"] += 1
            log.warning("the broker refused the kiosk", extra={"reason": str(reason)})
            return
        with self._lock:
            self._connected = True
            client.subscribe(
                [(self._reply_topic, 1), (self._hub_status_topic, 1), (self._hub_program_topic, 1)]
            )
            # What paho does not hold: requests never published by this process (the outbox as found at
            # start) and those the broker acknowledged but the hub has not answered (a broker that crashed
            # may have lost them). All are older than what paho still holds and re-sends after this
            # callback, so the order stays the outbox's.
            replay = [item for item in self._pending.values() if not item.handed or item.acked]
            for item in replay:
                self._hand_over(item)
            self.counters["replayed"] += len(replay)
            self._ever_connected = True
            # A status paho still held from before the drop goes out after this callback: publish ours
            # a moment later so that the retained one is the fresh one.
            self._status_due = time.monotonic() + 0.1
            self._last_reply_at = time.monotonic()
        log.info("connected to the broker", extra={"session_present": bool(flags.session_present)})
        self._notify_state()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        with self._lock:
            was = self._connected
            self._connected = False
            self._hub_state = None
        if was and not self._stop.is_set():
            log.warning("lost the broker; reconnecting", extra={"reason": str(reason)})
        self._notify_state()

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        with self._ack_lock:
            if mid not in self._by_mid:
                self._early_acks.add(mid)
                return
            item = self._by_mid.pop(mid)
            if item is not None:
                item.acked = True
                self._unacked.discard(item.request.id)
        if item is not None and getattr(reason, "is_failure", False):
            self.counters["publish_refused"] += 1
            log.error("the broker refused a request", extra={"id": item.request.id, "reason": str(reason)})

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            if msg.topic == self._reply_topic:
                self._on_reply_message(msg.payload)
            elif msg.topic == self._hub_status_topic:
                self._on_hub_status(msg.payload)
            elif msg.topic == self._hub_program_topic:
                self._on_hub_program(msg.payload)
        except Exception:  # never let one message stop paho's network thread
            log.exception("message handling failed", extra={"topic": msg.topic})

    def _on_reply_message(self, payload: bytes) -> None:
        reply = parse_reply(payload)
        if reply is None:
            self.counters["malformed_replies"] += 1
            log.warning(
                "malformed reply ignored", extra={"payload": payload[:200].decode("utf-8", "replace")}
            )
            return
        rid = reply["id"]
        with self._lock:
            item = self._pending.pop(rid, None)
            if item is None:
                self.counters["unmatched_replies"] += 1
                log.info("reply for no waiting request ignored", extra={"id": rid})
                return
            with self._ack_lock:
                self._unacked.discard(rid)
            self._last_reply_at = time.monotonic()
            self.counters["replies"] += 1
        # on_reply first: what it keeps (a voucher in the spool) is on disk before the request may leave the
        # outbox, so a power cut in between loses neither (the request is resent, the hub answers again)
        self._call(self.on_reply, rid, reply)
        member, at = reply.get("member"), reply.get("at")
        error = reply.get("error")
        ok_member = reply.get("ok") is True and isinstance(member, dict) and isinstance(at, str)
        unknown_card = isinstance(error, dict) and error.get("code") == "unknown_card"
        with self._lock:
            self._answered.append(
                _Answered(rid, item.request.card, member if ok_member else None, at, unknown_card)
            )
            self._status_changed()
        self._notify_state()

    def _on_hub_status(self, payload: bytes) -> None:
        state: str | None = None
        if payload:
            try:
                data = json.loads(payload)
            except (ValueError, UnicodeDecodeError, RecursionError):
                data = None
            if isinstance(data, dict) and isinstance(data.get("state"), str):
                state = data["state"]
            else:
                self.counters["malformed_hub_status"] += 1
        with self._lock:
            was_serving = self._hub_state in HUB_SERVING
            self._hub_state = state
            if state in HUB_SERVING and not was_serving:
                self._last_reply_at = time.monotonic()  # let it work through its queue before resending
        self._notify_state()

    def _on_hub_program(self, payload: bytes) -> None:
        if not payload or payload == self._program_payload:
            return
        try:
            summary = json.loads(payload)
        except (ValueError, UnicodeDecodeError, RecursionError):
            summary = None
        if not isinstance(summary, dict):
            self.counters["malformed_program"] += 1
            return
        self._program_payload = payload
        self._call(self.on_program, summary)

    # -- callbacks and state ----------------------------------------------------------------------------
    def _call(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("a link callback raised", extra={"callback": getattr(fn, "__name__", repr(fn))})

    def _notify_state(self) -> None:
        with self._notify_lock:  # serialised: the last call always reports the current state
            state = (self.online, self.queue)
            if state == self._reported:
                return
            self._reported = state
            self._call(self.on_state, *state)

    # -- housekeeping thread -----------------------------------------------------------------------------
    def _housekeeping(self) -> None:
        check_every = min(1.0, self.resend_after / 4)
        next_check = time.monotonic() + check_every
        while not self._stop.wait(self.flush_every):
            try:
                self._flush()
                self._publish_status_if_due()
                if time.monotonic() >= next_check:
                    self._resend_stale()
                    next_check = time.monotonic() + check_every
            except Exception:
                log.exception("link housekeeping failed")

    def _flush(self) -> None:
        """Answered requests out of the outbox (one transaction), their members into the cache."""
        with self._lock:
            answered, self._answered = self._answered, []
            ids = self._undeleted + [a.request_id for a in answered]
            self._undeleted = []
        if ids:
            try:
                self.outbox.remove_many(ids)
                self.counters["delete_batches"] += 1
            except Exception as exc:  # the rows stay: a restart resends them and the hub answers again
                with self._lock:
                    self._undeleted = ids + self._undeleted
                if self.counters["delete_failures"] % 100 == 0:
                    log.error("cannot delete answered requests from the outbox", extra={"error": str(exc)})
                self.counters["delete_failures"] += 1
        copies = [(a.card, a.member, a.at) for a in answered if a.member is not None and a.at is not None]
        if copies:
            self.cache.put_many(copies)
        for a in answered:
            if a.forget:
                self.cache.forget(a.card)

    def _resend_stale(self) -> None:
        now = time.monotonic()
        with self._lock:
            if not self._connected or self._hub_state not in HUB_SERVING:
                return
            if now - self._last_reply_at < self.resend_after:
                return  # the hub is answering us: it has not finished with what it holds
            stale = [
                item
                for item in self._pending.values()
                if item.acked and now - item.sent_at >= self.resend_after
            ]
            for item in stale:
                self._hand_over(item)
            self.counters["resent"] += len(stale)
        if stale:
            log.info("resent unanswered requests", extra={"count": len(stale)})
