"""HubService: MQTT in, one writer thread, ledger, replies out, acknowledgement after commit.

paho's network thread only queues messages; the writer thread (the only one that touches SQLite) takes
them in batches, applies them in one transaction (group commit), publishes the replies, then
acknowledges the messages (manual ack). A message that was not acknowledged is redelivered by the
broker (persistent session), and the ledger's dedupe turns a redelivery into the stored reply.

The staff web and the HTTP API write through the same thread: `submit_requests` puts their requests in
the same batches as the kiosks' (same ledger code, same group commit), `submit` runs any other write
(a voucher used at the till, a login) on the writer after the batch. Both return a Future.

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
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.subscribeoptions import SubscribeOptions

from fidelio import __version__
from fidelio.contract import (
    ContractError,
    Request,
    Topics,
    dumps,
    error_reply,
    parse_request,
    parse_request_topic,
)
from fidelio.mqttlink import connect_properties, make_client, publish_properties
from hub.ledger import Applied, Ledger, iso
from hub.service.kiosk_status import KioskStatusBoard
from hub.service.systemd import Notifier

T = TypeVar("T")

log = logging.getLogger("fidelio.hub")
RETRY_DELAYS = (0.5, 1, 2, 5, 10, 30)
#: Unacknowledged publishes paho keeps in flight (its default of 20 holds replies back in memory).
MAX_INFLIGHT = 1000


class WriterUnavailable(RuntimeError):
    """The writer is stopping or died: the write was not applied."""


@dataclass
class _LocalRequests:
    """Requests from the web or the API, applied in the writer's next batch."""

    requests: Sequence[Request]
    future: Future[list[Applied]] = field(default_factory=Future)


@dataclass
class _Job:
    """Any other write, run on the writer thread between batches."""

    fn: Callable[[Ledger], Any]
    future: Future[Any] = field(default_factory=Future)


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
        self.kiosks = KioskStatusBoard(shop)  # the kiosks' retained status, for the staff web
        self._inbox: queue.Queue[tuple[int, mqtt.MQTTMessage] | _LocalRequests | _Job] = queue.Queue()
        self._generation = 0  # one per broker connection: acks belong to the connection they came on
        self.failed: BaseException | None = None  # set when the writer died: the process must restart
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._writer: threading.Thread | None = None
        self._sweep_every = expiry_sweep_seconds
        self._started_at = iso(ledger.clock())
        #: Called on the writer thread with every event published on hub/events (webhooks): each must
        #: return at once (queue it), never do I/O.
        self.event_listeners: list[Callable[[dict[str, Any]], None]] = []
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
        client.subscribe(self.topics.all_kiosk_status, qos=1)  # retained ones are wanted: the current state
        self._publish_status("online")
        client.publish(self.topics.hub_program, dumps(self._program_summary()), qos=1, retain=True)
        log.info("connected to the broker", extra={"session_present": bool(flags.session_present)})
        self._connected.set()
        self.notifier.status(f"connected to {self.endpoint.host}:{self.endpoint.port}")

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not self._stop.is_set():
            log.warning("lost the broker; reconnecting", extra={"reason": str(reason)})

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        kiosk = self.kiosks.kiosk_of(msg.topic)
        if kiosk is not None:  # a kiosk's status: nothing to write, acknowledged at once
            self.kiosks.update(kiosk, msg.payload, iso(self.ledger.clock()))
            if msg.qos:
                client.ack(msg.mid, msg.qos)
            return
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

    def submit_requests(self, requests: Sequence[Request]) -> Future[list[Applied]]:
        """Apply requests (e.g. `DirectRequest`s) in the writer's next batch; the Future resolves after
        COMMIT with their results, and their events go to `hub/events` like the kiosks'."""
        work = _LocalRequests(list(requests))
        self._enqueue(work)
        return work.future

    def submit(self, fn: Callable[[Ledger], T]) -> Future[T]:
        """Run `fn(ledger)` on the writer thread (it owns its own transaction); resolves with its result."""
        job = _Job(fn)
        self._enqueue(job)
        return job.future

    def publish_program(self) -> None:
        """Publish the program in force (retained `hub/program`, and `hub/status` with its version): after
        the staff web installed a new one on the writer."""
        if self._connected.is_set():
            self.client.publish(self.topics.hub_program, dumps(self._program_summary()), qos=1, retain=True)
            self._publish_status("online")

    def _enqueue(self, work: _LocalRequests | _Job) -> None:
        if self._stop.is_set() or self.failed is not None:
            raise WriterUnavailable("the hub is stopping / le hub s'arrête")
        self._inbox.put(work)

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def stop(self) -> None:
        """Finish the batch in hand, say goodbye on hub/status, disconnect cleanly."""
        self.notifier.stopping()
        self._stop.set()
        if self._writer is not None:
            self._writer.join(timeout=30)
        self._fail_pending_local_work()
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
            self._fail_pending_local_work()

    def _fail_pending_local_work(self) -> None:
        """What the web is waiting for and will never be applied now gets an answer (MQTT messages stay
        unacknowledged: the broker redelivers them to the next process)."""
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, _LocalRequests | _Job) and not item.future.done():
                item.future.set_exception(WriterUnavailable("the hub stopped / le hub s'est arrêté"))

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
            try:
                self._process(batch)
            except BaseException as exc:  # the writer dies; what the web waits for in this batch is told
                for item in batch:
                    if isinstance(item, _LocalRequests | _Job) and not item.future.done():
                        item.future.set_exception(WriterUnavailable(f"the writer failed: {exc}"))
                raise

    def _run_safely(self, fn: Any, what: str) -> None:
        try:
            fn()
        except Exception:
            log.exception(f"{what} failed")

    def _process(self, items: list[tuple[int, mqtt.MQTTMessage] | _LocalRequests | _Job]) -> None:
        batch = [item for item in items if isinstance(item, tuple)]
        local = [item for item in items if isinstance(item, _LocalRequests)]
        jobs = [item for item in items if isinstance(item, _Job)]
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
        local_requests = [req for work in local for req in work.requests]
        if valid or local_requests:
            applied = self._apply_with_retry([req for _, req in valid] + local_requests)
            if applied is None:  # stopping while the ledger is failing: nothing acknowledged, all redelivered
                for work in local + jobs:
                    work.future.set_exception(WriterUnavailable("the hub stopped / le hub s'est arrêté"))
                return
            for (_msg, req), result in zip(valid, applied[: len(valid)], strict=True):
                answers.append((self.topics.reply(req.kiosk), result.reply, req.id))
                self.counters["duplicates" if result.duplicate else "applied"] += 1
                if result.event is not None:
                    events.append(result.event)
            rest = applied[len(valid) :]
            for work in local:
                results, rest = rest[: len(work.requests)], rest[len(work.requests) :]
                self.counters["direct_applied"] += sum(not r.duplicate for r in results)
                events += [r.event for r in results if r.event is not None]
                work.future.set_result(results)
        for topic, payload, correlation in answers:
            self.client.publish(topic, payload, qos=1, properties=publish_properties(correlation))
        for event in events:
            self.client.publish(self.topics.hub_events, dumps(event), qos=1)
            for listener in self.event_listeners:
                try:
                    listener(event)
                except Exception:
                    log.exception("event listener failed")
        for generation, msg in batch:  # only now, after COMMIT: acknowledge, on the same connection
            if generation == self._generation and self.client.is_connected():
                self.client.ack(msg.mid, msg.qos)
            else:
                self.counters["stale_acks_dropped"] += 1
        self.counters["batches"] += 1
        for job in jobs:
            try:
                job.future.set_result(job.fn(self.ledger))
            except Exception as exc:  # the job's own failure is its caller's to report
                if self.ledger.conn.in_transaction:
                    self.ledger.conn.execute("ROLLBACK")
                job.future.set_exception(exc)

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
