"""Signed webhooks: the events of `hub/events` POSTed to the shop's integrations (a web shop, a CRM).

Endpoints live in `DIR/webhooks.json` (0600: it holds their secrets), managed by `fidelio-hub webhook
add|list|remove`; the running hub reads the file again when it changes (no restart).

Every delivery is the event's JSON (the same body as on `hub/events`: no personal data) with
`Fidelio-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: the receiver recomputes it
with the endpoint's secret and refuses a timestamp older than a few minutes (a replayed request), see
`verify`. `Fidelio-Event-Id` is the event id (deliveries are at least once: deduplicate by it).

Delivery never blocks the ledger writer, and survives restarts: the ledger is the outbox. One thread per
endpoint reads the events (`events.hub_event`, what was published on hub/events) after its cursor on a
read-only connection, POSTs the ones it wants in order, retrying failures (an error status, a timeout, a
refused connection) with exponential backoff, and moves its cursor (`DIR/webhooks-state.json`); the
writer only wakes the threads up after a batch (`offer`). Stopped mid-retry, the event is delivered again
at the next start (at least once). A new endpoint gets the events after the moment it was added.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hub.config import HubPaths

log = logging.getLogger("fidelio.hub.webhooks")

EVENT_TYPES = ("tap", "enrol", "purchase", "redeem", "adjust", "card_replace", "merge")
SIGNATURE_HEADER = "Fidelio-Signature"
TOLERANCE_S = 300
RETRY_DELAYS_S = (1, 2, 4, 8, 16, 32, 64, 128, 256, 300)
POLL_S = 1.0
TIMEOUT_S = 10


class WebhookError(ValueError):
    """A webhook that cannot be added or removed; the message is in French and English."""


@dataclass(frozen=True)
class Endpoint:
    id: str
    url: str
    events: tuple[str, ...]
    secret: str
    added_at: str
    from_seq: int = 0  # the ledger's last event when it was added: it gets the events after

    def wants(self, event: dict[str, Any]) -> bool:
        return event.get("type") in self.events


# -- signing -----------------------------------------------------------------------------------------
def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance_s: int = TOLERANCE_S) -> bool:
    """What a receiver does: the signature matches this body and its timestamp is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


# -- the endpoints' file ------------------------------------------------------------------------------
def webhooks_file(data: Path) -> Path:
    return Path(data) / "webhooks.json"


def load_endpoints(data: Path) -> list[Endpoint]:
    try:
        raw = json.loads(webhooks_file(data).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    return [
        Endpoint(e["id"], e["url"], tuple(e["events"]), e["secret"], e["added_at"], int(e.get("from_seq", 0)))
        for e in raw
    ]


def _save(data: Path, endpoints: list[Endpoint]) -> None:
    target = webhooks_file(data)
    partial = target.with_name(f".{target.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump([e.__dict__ | {"events": list(e.events)} for e in endpoints], out, indent=1)
    os.replace(partial, target)


def check_url(url: str) -> str:
    """https anywhere; plain http only to this machine (a secret-signed body is still readable)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    loopback = host == "localhost"
    with contextlib.suppress(ValueError):
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    if (parts.scheme == "https" and host) or (parts.scheme == "http" and loopback):
        return url
    raise WebhookError(
        f"Adresse refusée : {url} (https://…, ou http:// vers 127.0.0.1 seulement) / "
        f"URL refused: {url} (https://…, or http:// to 127.0.0.1 only)"
    )


def parse_events(text: str) -> tuple[str, ...]:
    events = tuple(dict.fromkeys(e.strip() for e in text.split(",") if e.strip()))
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown or not events:
        raise WebhookError(
            f"Événement inconnu : {', '.join(unknown) or '(aucun)'} ; choix : {', '.join(EVENT_TYPES)} / "
            f"unknown event: {', '.join(unknown) or '(none)'}; choose from {', '.join(EVENT_TYPES)}"
        )
    return events


def add_endpoint(data: Path, url: str, events: str) -> Endpoint:
    endpoint = Endpoint(
        id=f"wh_{secrets.token_hex(4)}",
        url=check_url(url),
        events=parse_events(events),
        secret=f"whsec_{secrets.token_urlsafe(32)}",
        added_at=datetime.now(UTC).isoformat(),
        from_seq=_last_seq(data),
    )
    _save(data, [*load_endpoints(data), endpoint])
    return endpoint


def _last_seq(data: Path) -> int:
    path = HubPaths(data).ledger
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])
    finally:
        conn.close()


def remove_endpoint(data: Path, endpoint_id: str) -> None:
    endpoints = load_endpoints(data)
    kept = [e for e in endpoints if e.id != endpoint_id]
    if len(kept) == len(endpoints):
        raise WebhookError(f"Webhook inconnu : {endpoint_id} / unknown webhook: {endpoint_id}")
    _save(data, kept)


# -- delivery ---------------------------------------------------------------------------------------
Post = Callable[[str, bytes, dict[str, str]], int]


def post_json(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST and return the status (an error status is returned, not raised; no redirect is followed)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=TIMEOUT_S) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


class _EndpointWorker(threading.Thread):
    """Delivers one endpoint's events in ledger order, from its cursor (the last event seq it is done
    with, kept in `DIR/webhooks-state.json`): a restart resumes where it stopped."""

    def __init__(self, dispatcher: WebhookDispatcher, endpoint: Endpoint) -> None:
        super().__init__(name=f"webhook-{endpoint.id}", daemon=True)
        self.d, self.endpoint = dispatcher, endpoint
        self.wake = threading.Event()
        self.retired = threading.Event()

    def _done(self) -> bool:
        return self.d.stopping.is_set() or self.retired.is_set()

    def run(self) -> None:
        conn = None
        try:
            while not self._done():
                if conn is None:
                    conn = self.d.open_ledger()
                    if conn is None:
                        self.d.stopping.wait(POLL_S)
                        continue
                self.wake.clear()
                cursor = self.d.cursor(self.endpoint)
                rows = conn.execute(
                    "SELECT seq, hub_event FROM events WHERE seq > ? ORDER BY seq LIMIT 200", (cursor,)
                ).fetchall()
                if not rows:
                    top = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
                    if top < cursor:  # the ledger was restored from a backup: follow it back
                        self.d.advance(self.endpoint, top)
                    self.wake.wait(POLL_S)
                    continue
                for seq, raw in rows:
                    event = json.loads(raw)
                    if self.endpoint.wants(event) and not self._deliver(event):
                        return  # stopping: this event is delivered again at the next start
                    self.d.advance(self.endpoint, seq)
        finally:
            if conn is not None:
                conn.close()

    def _deliver(self, event: dict[str, Any]) -> bool:
        """True once delivered or abandoned; False when the hub stops first."""
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        for attempt in range(1, self.d.max_attempts + 1):
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "fidelio-hub",
                SIGNATURE_HEADER: sign(self.endpoint.secret, body, int(self.d.clock())),
                "Fidelio-Event-Id": str(event.get("id", "")),
                "Fidelio-Event-Type": str(event.get("type", "")),
                "Fidelio-Delivery-Attempt": str(attempt),
            }
            try:
                status = self.d.post(self.endpoint.url, body, headers)
            except (OSError, ValueError) as exc:
                status, why = 0, str(exc)
            else:
                why = f"HTTP {status}"
            if 200 <= status < 300:
                self.d.counters["delivered"] += 1
                return True
            self.d.counters["failed_attempts"] += 1
            if attempt == self.d.max_attempts:
                break
            delay = self.d.delays[min(attempt - 1, len(self.d.delays) - 1)]
            log.warning("webhook delivery failed; will retry",
                        extra={"webhook": self.endpoint.id, "event": event.get("id"), "why": why,
                               "attempt": attempt, "retry_in_s": delay})  # fmt: skip
            if self.d.stopping.wait(delay) or self.retired.is_set():
                return False
        self.d.counters["abandoned"] += 1
        log.error("webhook delivery abandoned",
                  extra={"webhook": self.endpoint.id, "event": event.get("id"), "attempts": attempt})  # fmt: skip
        return True


class WebhookDispatcher:
    """The endpoints' delivery threads. They read the events from the ledger (read-only, `events.hub_event`:
    what was published on hub/events), so the ledger is the outbox and the writer does nothing for them;
    `offer`, called by the writer after each batch, only wakes them up (never blocks)."""

    def __init__(self, data: Path, *, post: Post = post_json, clock: Callable[[], float] = time.time,
                 delays: tuple[float, ...] = RETRY_DELAYS_S, max_attempts: int = 10) -> None:  # fmt: skip
        self.data = Path(data)
        self.post, self.clock, self.delays, self.max_attempts = post, clock, delays, max_attempts
        self.counters: Counter[str] = Counter()
        self.stopping = threading.Event()
        self._workers: dict[str, _EndpointWorker] = {}
        self._stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._state: dict[str, int] = _load_state(self.data)

    def open_ledger(self) -> sqlite3.Connection | None:
        path = HubPaths(self.data).ledger
        if not path.exists():
            return None
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA query_only = ON")
        return conn

    def cursor(self, endpoint: Endpoint) -> int:
        with self._state_lock:
            return self._state.get(endpoint.id, endpoint.from_seq)

    def advance(self, endpoint: Endpoint, seq: int) -> None:
        with self._state_lock:
            self._state[endpoint.id] = seq
            _save_state(self.data, self._state)

    def start(self) -> None:
        """Start the endpoints' threads (they catch up with what happened while the hub was stopped)."""
        self.refresh()

    def refresh(self) -> None:
        """The workers of the file's endpoints, the file read again when it changed."""
        with self._lock:
            try:
                st = webhooks_file(self.data).stat()
                stamp = (st.st_mtime_ns, st.st_size)
            except FileNotFoundError:
                stamp = (0, 0)
            if stamp == self._stamp or self.stopping.is_set():
                return
            self._stamp = stamp
            try:
                endpoints = {e.id: e for e in load_endpoints(self.data)}
            except (OSError, ValueError, KeyError):
                log.exception("webhooks.json unreadable; keeping the endpoints in force")
                return
            for wid in [w for w in self._workers if w not in endpoints]:
                self._workers.pop(wid).retired.set()
            for eid, endpoint in endpoints.items():
                if eid not in self._workers or self._workers[eid].endpoint != endpoint:
                    if eid in self._workers:
                        self._workers[eid].retired.set()
                    worker = _EndpointWorker(self, endpoint)
                    worker.start()
                    self._workers[eid] = worker

    def offer(self, event: dict[str, Any]) -> None:
        """An event was committed: wake the endpoints' threads up (and notice a changed webhooks.json)."""
        self.refresh()
        for worker in list(self._workers.values()):
            worker.wake.set()

    def stop(self) -> None:
        self.stopping.set()
        for worker in list(self._workers.values()):
            worker.wake.set()
            worker.join(timeout=TIMEOUT_S + 1)


def _state_file(data: Path) -> Path:
    return Path(data) / "webhooks-state.json"


def _load_state(data: Path) -> dict[str, int]:
    try:
        raw = json.loads(_state_file(data).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: int(v) for k, v in raw.items()}


def _save_state(data: Path, state: dict[str, int]) -> None:
    target = _state_file(data)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(json.dumps(state), encoding="utf-8")
    os.replace(partial, target)
