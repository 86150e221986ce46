"""HubService: MQTT in, one writer thread, ledger, replies out, acknowledgement after commit.

paho's network thread only queues messages; the writer thread (the only one that touches SQLite) takes
them in batches, applies them in one transaction (group commit), publishes the replies, then
acknowledges the messages (manual ack). A message that was not acknowledged is redelivered by the
broker (persistent session), and the ledger's dedupe turns a redelivery into the stored reply.

Acknowledgements carry the connection they belong to: after a reconnect the broker numbers messages
afresh, so a late PUBACK for an old message id would acknowledge a new, uncommitted one. Acks for a
connection that is gone are dropped; the broker redelivers and the dedupe answers.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.subscribeoptions import SubscribeOptions

from fidelio import __version__
from fidelio.contract import ContractError, Topics, dumps, error_reply, parse_request, parse_request_topic
from fidelio.mqttlink import connect_properties, make_client, publish_properties
from hub.ledger import Ledger, iso
from hub.service.systemd import Notifier

log = logging.getLogger("fidelio.hub")
RETRY_DELAYS = (0.5, 1, 2, 5, 10, 30)
#: Unacknowledged publishes paho keeps in flight (its default of 20 holds replies back in memory).
MAX_INFLIGHT = 1000


@dataclass(frozen=True)
class MqttEndpoint:
    host: str
    port: int
    username: str
    password: str
    ca_pem: str | None = None


class HubService:
    def __init__(
        self,
        shop: str,
        endpoint: MqttEndpoint,
        ledger: Ledger,
        *,
        batch_max: int = 512,
        notifier: Notifier | None = None,
        expiry_sweep_seconds: float = 3600,
    ) -> None:
        self.topics = Topics(shop)
        self.endpoint = endpoint
        self.ledger = ledger
        self.batch_max = batch_max
        self.notifier = notifier or Notifier({})
        self.counters: Counter[str] = Counter()
        self._inbox: queue.Queue[tuple[int, mqtt.MQTTMessage]] = queue.Queue()
        self._generation = 0  # one per broker connection: acks belong to the connection they came on
        self.failed: BaseException | None = None  # set when the writer died: the process must restart
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._writer: threading.Thread | None = None
        self._sweep_every = expiry_sweep_seconds
        self._started_at = iso(ledger.clock())
        self.client = make_client(
            f"fidelio-hub-{shop}",
            endpoint.username,
            endpoint.password,
            ca_pem=endpoint.ca_pem,
            manual_ack=True,
            will=(self.topics.hub_status, dumps({"state": "lost"})),
        )
        self.client.max_inflight_messages_set(MAX_INFLIGHT)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    # -- paho callbacks (network thread) --------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("broker refused the hub", extra={"reason": str(reason)})
            return
        self._generation += 1
        # Retained requests are never replayed to the hub (a kiosk could otherwise make one eternal).
        options = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_DO_NOT_SEND)
        client.subscribe(self.topics.all_requests, options=options)
        self._publish_status("online")
        client.publish(self.topics.hub_program, dumps(self._program_summary()), qos=1, retain=True)
        log.info("connected to the broker", extra={"session_present": bool(flags.session_present)})
        self._connected.set()
        self.notifier.status(f"connected to {self.endpoint.host}:{self.endpoint.port}")

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not self._stop.is_set():
            log.warning("lost the broker; reconnecting", extra={"reason": str(reason)})

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self._inbox.put((self._generation, msg))

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        self._writer = threading.Thread(target=self._supervised_writer, name="ledger-writer", daemon=True)
        self._writer.start()
        # Ready once the ledger is open and its writer runs: with the broker down at boot the hub
        # still starts (and connects when the broker comes); STATUS says whether it is connected.
        self.notifier.ready("ledger open; connecting to the broker")
        self.client.connect_async(
            self.endpoint.host,
            self.endpoint.port,
            keepalive=30,
            clean_start=False,
            properties=connect_properties(persistent=True),
        )
        self.client.loop_start()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def stop(self) -> None:
        """Finish the batch in hand, say goodbye on hub/status, disconnect cleanly."""
        self.notifier.stopping()
        self._stop.set()
        if self._writer is not None:
            self._writer.join(timeout=30)
        if self._connected.is_set():
            info = self._publish_status("offline")
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=2)
        self.client.disconnect()
        self.client.loop_stop()
        log.info("hub stopped", extra={"counters": dict(self.counters)})

    def run_until(self, stop: threading.Event) -> int:
        """Serve until `stop` is set (0) or the writer died (70: let systemd restart a clean process)."""
        self.start()
        while not stop.wait(0.5):
            if self.failed is not None:
                break
        self.stop()
        return 70 if self.failed is not None else 0

    def _supervised_writer(self) -> None:
        try:
            self._writer_loop()
        except BaseException as exc:  # the writer must never die silently: nothing would be acked
            log.critical("ledger writer died; the hub must restart", exc_info=True)
            self.failed = exc

    # -- the writer (the only thread that touches the ledger) -----------------------------------
    def _writer_loop(self) -> None:
        watchdog_every = self.notifier.watchdog_interval
        last_feed = last_sweep = last_status = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if watchdog_every and now - last_feed >= watchdog_every:
                self.notifier.watchdog()
                last_feed = now
            if now - last_sweep >= self._sweep_every:
                self._run_safely(self.ledger.expire_due, "expiry sweep")
                last_sweep = now
            if now - last_status >= 60 and self._connected.is_set():
                self._publish_status("online")
                last_status = now
            try:
                first = self._inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            while len(batch) < self.batch_max:
                try:
                    batch.append(self._inbox.get_nowait())
                except queue.Empty:
                    break
            self._process(batch)

    def _run_safely(self, fn: Any, what: str) -> None:
        try:
            fn()
        except Exception:
            log.exception(f"{what} failed")

    def _process(self, batch: list[tuple[int, mqtt.MQTTMessage]]) -> None:
        valid: list[tuple[mqtt.MQTTMessage, Any]] = []
        answers: list[tuple[str, bytes, str | None]] = []  # (reply topic, payload, correlation)
        for _gen, msg in batch:
            kiosk = parse_request_topic(msg.topic, self.topics.shop)
            if msg.retain:
                self.counters["ignored_retained"] += 1
                log.warning("retained request ignored", extra={"topic": msg.topic})
                continue
            if kiosk is None:
                self.counters["ignored_topic"] += 1
                log.warning("message on an unexpected topic", extra={"topic": msg.topic})
                continue
            try:
                valid.append((msg, parse_request(msg.payload, kiosk)))
            except ContractError as exc:
                self.counters[f"rejected_{exc.code}"] += 1
                log.warning(
                    "rejected request",
                    extra={
                        "kiosk": kiosk,
                        "code": str(exc.code),
                        "detail": exc.detail,
                        "request_id": exc.request_id,
                    },
                )
                if exc.request_id is not None:
                    reply = error_reply(exc.request_id, iso(self.ledger.clock()), exc.code, exc.detail)
                    answers.append((self.topics.reply(kiosk), dumps(reply), exc.request_id))
        events: list[dict[str, Any]] = []
        if valid:
            applied = self._apply_with_retry([req for _, req in valid])
            if applied is None:  # stopping while the ledger is failing: nothing acknowledged, all redelivered
                return
            for (_msg, req), result in zip(valid, applied, strict=True):
                answers.append((self.topics.reply(req.kiosk), result.reply, req.id))
                self.counters["duplicates" if result.duplicate else "applied"] += 1
                if result.event is not None:
                    events.append(result.event)
        for topic, payload, correlation in answers:
            self.client.publish(topic, payload, qos=1, properties=publish_properties(correlation))
        for event in events:
            self.client.publish(self.topics.hub_events, dumps(event), qos=1)
        for generation, msg in batch:  # only now, after COMMIT: acknowledge, on the same connection
            if generation == self._generation and self.client.is_connected():
                self.client.ack(msg.mid, msg.qos)
            else:
                self.counters["stale_acks_dropped"] += 1
        self.counters["batches"] += 1

    def _apply_with_retry(self, requests: list[Any]) -> list[Any] | None:
        """A failing ledger (disk full, I/O error) is retried with backoff; nothing is answered meanwhile."""
        attempt = 0
        while True:
            try:
                result = self.ledger.apply_batch(requests)
                if attempt:
                    log.info("ledger writable again", extra={"attempts": attempt})
                    self._publish_status("online")
                return result
            except Exception as exc:
                self.counters["ledger_failures"] += 1
                delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                log.error(
                    "cannot write the ledger; will retry",
                    extra={"error": str(exc), "retry_in_s": delay, "requests": len(requests)},
                )
                if attempt == 0:
                    self._publish_status("degraded", reason=str(exc))
                attempt += 1
                if self._wait_feeding_watchdog(delay):
                    return None

    def _wait_feeding_watchdog(self, seconds: float) -> bool:
        """Wait (True if stopping meanwhile); a hub waiting for disk space is alive, not hung."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self._stop.wait(min(left, 1.0)):
                return True
            self.notifier.watchdog()
        return False

    # -- retained topics --------------------------------------------------------------------------
    def _program_summary(self) -> dict[str, Any]:
        return {"version": self.ledger.program_version, **self.ledger.program.summary()}

    def _publish_status(self, state: str, reason: str | None = None) -> mqtt.MQTTMessageInfo:
        status: dict[str, Any] = {
            "state": state,
            "at": iso(self.ledger.clock()),
            "since": self._started_at,
            "software": __version__,
            "program_version": self.ledger.program_version,
            "counters": dict(self.counters),
        }
        if reason:
            status["reason"] = reason
        return self.client.publish(self.topics.hub_status, dumps(status), qos=1, retain=True)
