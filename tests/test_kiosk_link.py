"""The kiosk's hub link against the real Mosquitto (project config, TLS, ACL) and the real hub.

The kiosk runs in-process (`HubLink`) or, where it must be killed -9, as a child process
(`tests/link_runner.py`) on the same outbox file.
"""

from __future__ import annotations

import json
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

import fidelio
from fidelio.contract import Request, Topics, dumps, new_request, ok_reply, uuid7
from hub.config import HubPaths, load_config
from kiosk.link import HubLink, MemberCache, Outbox, OutboxFull
from kiosk.provisioning import load_provisioning
from tests.support import REPO, HubHarness, wait_until

NO = {"email": False, "sms": False}


# -- helpers ----------------------------------------------------------------------------------------


class Recorder:
    """The link's callbacks, recorded (they run on paho's thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.replies: dict[str, dict[str, Any]] = {}
        self.reply_calls: list[str] = []
        self.states: list[tuple[bool, int]] = []
        self.programs: list[dict[str, Any]] = []

    def on_reply(self, request_id: str, reply: dict[str, Any]) -> None:
        with self.lock:
            self.replies[request_id] = reply
            self.reply_calls.append(request_id)

    def on_state(self, online: bool, queue: int) -> None:
        with self.lock:
            self.states.append((online, queue))

    def on_program(self, summary: dict[str, Any]) -> None:
        with self.lock:
            self.programs.append(summary)


class Kiosk:
    """An in-process kiosk link on files in `where`."""

    def __init__(self, harness: HubHarness, name: str, where: Path, **kw: Any) -> None:
        self.prov = load_provisioning(harness.root / f"{name}.toml")
        self.outbox = Outbox(where / f"{name}-outbox.sqlite")
        self.cache = MemberCache(where / f"{name}-cache.sqlite")
        self.rec = Recorder()
        self.link = HubLink(
            self.prov, self.outbox, self.cache,
            on_reply=self.rec.on_reply, on_state=self.rec.on_state, on_program=self.rec.on_program, **kw,
        )  # fmt: skip

    def submit(self, type_: str, card: str, body: dict[str, Any] | None = None) -> Request:
        request = new_request(type_, self.prov.kiosk, card, body)
        self.link.submit(request)
        return request

    def answered(self, request: Request, timeout: float = 15) -> dict[str, Any]:
        assert wait_until(lambda: request.id in self.rec.replies, timeout), f"no reply to {request.type}"
        return self.rec.replies[request.id]

    def close(self) -> None:
        self.link.stop()
        self.outbox.close()
        self.cache.close()


class KioskProcess:
    """`python -m tests.link_runner` on an outbox file: commands in, events out (JSON lines)."""

    def __init__(self, harness: HubHarness, name: str, where: Path, resend_after: float = 20.0) -> None:
        prov = harness.root / f"{name}.toml"
        if not prov.exists():
            harness.provision(name)
        self.log = open(where / f"{name}-runner.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.link_runner", "--prov", str(prov),
             "--outbox", str(where / f"{name}-outbox.sqlite"), "--cache", str(where / f"{name}-cache.sqlite"),
             "--resend-after", str(resend_after)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, cwd=REPO, text=True,
        )  # fmt: skip
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.expect(lambda e: e.get("ready") is True)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.events.put(json.loads(line))

    def send(self, command: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def expect(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30) -> dict[str, Any]:
        """The first event (already seen or coming) that satisfies `predicate`."""
        for event in self.seen:
            if predicate(event):
                return event
        while True:
            try:
                event = self.events.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"kiosk process: nothing matching within {timeout} s") from None
            self.seen.append(event)
            if predicate(event):
                return event

    def submit_all(self, requests: list[Request]) -> None:
        for request in requests:
            self.send({"submit": request.to_json()})
        for request in requests:
            self.expect(lambda e, rid=request.id: e.get("submitted") == rid)

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()

    def stop(self) -> dict[str, Any]:
        self.send({"stop": True})
        stopped = self.expect(lambda e: "stopped" in e)
        self.proc.wait(timeout=10)
        self.log.close()
        return stopped["stopped"]


class HubObserver:
    """A client with the hub's credentials on the loopback listener, recording one topic.

    The broker makes the user name the client id, so it must not run while the hub service does."""

    def __init__(self, harness: HubHarness, topic: str) -> None:
        creds = load_config(HubPaths(harness.data)).mqtt
        self.messages: list[mqtt.MQTTMessage] = []
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"observer-{uuid7()}", protocol=mqtt.MQTTv5
        )
        self.client.username_pw_set(creds.username, creds.password)
        self.client.on_message = lambda _c, _u, m: self.messages.append(m)
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", harness.local_port)
        self.client.loop_start()
        self.client.subscribe(topic, qos=1)
        assert subscribed.wait(5)

    def last(self) -> dict[str, Any] | None:
        return json.loads(self.messages[-1].payload) if self.messages else None

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def ledger_rows(harness: HubHarness, sql: str, *args: Any) -> list[tuple]:
    conn = sqlite3.connect(harness.data / "ledger.sqlite")
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def member_totals(harness: HubHarness, card: str) -> tuple[int, int]:
    rows = ledger_rows(
        harness,
        "SELECT spend_cents, purchases FROM members WHERE id = (SELECT member_id FROM cards WHERE token = ?)",
        card,
    )
    return rows[0]


def enrol(harness: HubHarness, *cards: str) -> None:
    desk = harness.kiosk("enrol-desk") if not harness.clients else harness.clients[0]
    for card in cards:
        assert desk.request("enrol", card, {"consents": NO})["ok"]


@pytest.fixture
def harness() -> Iterator[HubHarness]:
    h = HubHarness()
    h.start_broker()
    try:
        yield h
    finally:
        h.close()


@pytest.fixture
def kiosks(harness: HubHarness, tmp_path: Path) -> Iterator[Callable[..., Kiosk]]:
    made: list[Kiosk] = []

    def make(name: str, **kw: Any) -> Kiosk:
        if not (harness.root / f"{name}.toml").exists():
            harness.provision(name)
        kiosk = Kiosk(harness, name, tmp_path, **kw)
        made.append(kiosk)
        return kiosk

    yield make
    for kiosk in made:
        kiosk.close()


@pytest.fixture
def spawn(harness: HubHarness, tmp_path: Path) -> Iterator[Callable[..., KioskProcess]]:
    """Kiosk processes on files in tmp_path; any still running at the end is killed."""
    made: list[KioskProcess] = []

    def make(name: str, **kw: Any) -> KioskProcess:
        process = KioskProcess(harness, name, tmp_path, **kw)
        made.append(process)
        return process

    yield make
    for process in made:
        if process.proc.poll() is None:
            process.kill9()


# -- 1, 2: kill -9 and restart ----------------------------------------------------------------------


def test_kill9_with_100_queued_then_restart_delivers_each_exactly_once(
    harness: HubHarness, tmp_path: Path, spawn: Callable[..., KioskProcess]
):
    harness.start_service()
    cards = ["pcsc:04B10001", "pcsc:04B10002", "pcsc:04B10003"]
    enrol(harness, *cards)
    harness.stop_service()  # the hub is away; its session keeps what the broker receives for it
    sent = [
        new_request("purchase", "k1", cards[i % 3], {"amount_cents": 100 + i})
        if i % 4 == 0
        else new_request("tap", "k1", cards[i % 3])
        for i in range(100)
    ]
    first = spawn("k1")
    first.submit_all(sent)
    first.send({"wait_acked": 10})
    assert first.expect(lambda e: "acked" in e)["acked"], "the broker never acknowledged the requests"
    first.kill9()
    box = Outbox(tmp_path / "k1-outbox.sqlite")
    assert [r.id for r in box.pending()] == [r.id for r in sent]
    box.close()

    second = spawn("k1")  # same outbox: replays all 100
    service = harness.start_service()
    second.expect(lambda e: e.get("state") == [True, 0], timeout=60)
    counters = second.stop()
    assert {e["reply"] for e in second.seen if "reply" in e} == {r.id for r in sent}
    assert all(e["ok"] for e in second.seen if "reply" in e)

    events = ledger_rows(harness, "SELECT id FROM events WHERE kiosk = 'k1' ORDER BY seq")
    assert sorted(e[0] for e in events) == sorted(r.id for r in sent)  # one event per id, 100 distinct
    assert service.counters["applied"] == 100
    assert service.counters["duplicates"] >= 100  # the replay reached the hub too: deduped
    assert counters["replies"] == 100
    for i, card in enumerate(cards):
        purchases = [r for j, r in enumerate(sent) if j % 3 == i and r.type == "purchase"]
        assert member_totals(harness, card) == (
            sum(r.body["amount_cents"] for r in purchases),
            len(purchases),
        )
    box = Outbox(tmp_path / "k1-outbox.sqlite")
    assert len(box) == 0
    box.close()


def test_a_reply_published_while_the_kiosk_was_dead_is_delivered_after_its_restart(
    harness: HubHarness, kiosks: Callable[..., Kiosk], spawn: Callable[..., KioskProcess]
):
    harness.start_service()
    card = "pcsc:04B20001"
    enrol(harness, card)
    harness.stop_service()
    purchase = new_request("purchase", "k2", card, {"amount_cents": 4250})
    dying = spawn("k2")
    dying.submit_all([purchase])
    dying.send({"wait_acked": 10})
    assert dying.expect(lambda e: "acked" in e)["acked"]
    dying.kill9()  # before any reply: the hub is stopped

    harness.start_service()  # answers while the kiosk is dead: the reply waits in the kiosk's session
    assert wait_until(lambda: ledger_rows(harness, "SELECT 1 FROM events WHERE id = ?", purchase.id), 15)
    harness.stop_service()  # from now on only the broker can deliver that reply

    kiosk = kiosks("k2")
    assert len(kiosk.outbox) == 1
    kiosk.link.start()
    reply = kiosk.answered(purchase)
    assert reply["ok"] and reply["member"]["totals"]["spend_cents"] == 4250
    assert harness.service is None
    assert wait_until(lambda: len(kiosk.outbox) == 0)
    assert wait_until(lambda: kiosk.cache.get(card) is not None)
    assert kiosk.cache.get(card).member == reply["member"]
    assert kiosk.cache.get(card).seen_at == reply["at"]


# -- 3: broker away -----------------------------------------------------------------------------------


def test_with_the_broker_down_taps_use_the_cache_and_queue_then_drain_in_order(
    harness: HubHarness, kiosks: Callable[..., Kiosk]
):
    harness.start_service()
    kiosk = kiosks("k3")
    kiosk.link.start()
    assert wait_until(lambda: kiosk.link.online, 15)
    a, b = "pcsc:04B30001", "pcsc:04B30002"
    online_sent = [kiosk.submit("enrol", a, {"consents": NO}), kiosk.submit("tap", a)]
    last = kiosk.answered(online_sent[-1])
    assert last["ok"]
    assert wait_until(lambda: kiosk.cache.get(a) is not None and kiosk.cache.get(a).seen_at == last["at"])

    harness.broker.stop()
    assert wait_until(lambda: not kiosk.link.online, 10)
    assert (False, 0) in kiosk.rec.states
    cached = kiosk.cache.get(a)  # what the session shows for a tap now, marked as the last known copy
    assert cached is not None and cached.member == last["member"]
    offline_sent = [
        kiosk.submit("tap", a),
        kiosk.submit("enrol", b, {"consents": NO}),
        kiosk.submit("purchase", a, {"amount_cents": 1250}),
        kiosk.submit("tap", b),
        kiosk.submit("purchase", b, {"amount_cents": 990}),
        kiosk.submit("purchase", a, {"amount_cents": 310}),
        kiosk.submit("tap", a),
    ]
    assert kiosk.link.queue == 7 and len(kiosk.outbox) == 7
    assert kiosk.rec.states[-1] == (False, 7)
    assert not any(r.id in kiosk.rec.replies for r in offline_sent)

    harness.broker.start()
    assert wait_until(lambda: kiosk.link.queue == 0, 60), "the queue never drained"
    assert wait_until(lambda: len(kiosk.outbox) == 0)
    assert kiosk.rec.states[-1] == (True, 0)
    assert all(kiosk.rec.replies[r.id]["ok"] for r in offline_sent)
    events = [row[0] for row in ledger_rows(harness, "SELECT id FROM events WHERE kiosk = 'k3' ORDER BY seq")]
    assert events == [r.id for r in online_sent + offline_sent]  # in the outbox's order, each once
    assert member_totals(harness, a) == (1560, 2)
    assert member_totals(harness, b) == (990, 1)
    newest = kiosk.rec.replies[offline_sent[-1].id]
    assert wait_until(lambda: kiosk.cache.get(a).seen_at == newest["at"])
    assert kiosk.cache.get(a).member == newest["member"]


# -- 4, 5: replies that match nothing -----------------------------------------------------------------


def test_a_reply_for_an_unknown_or_answered_id_is_ignored_and_the_link_keeps_serving(
    harness: HubHarness, kiosks: Callable[..., Kiosk]
):
    service = harness.start_service()
    kiosk = kiosks("k4")
    kiosk.link.start()
    assert wait_until(lambda: kiosk.link.online, 15)
    card = "pcsc:04B40001"
    enrolment = kiosk.submit("enrol", card, {"consents": NO})
    real = kiosk.answered(enrolment)
    assert wait_until(lambda: kiosk.cache.get(card) is not None)
    reply_topic = Topics(harness.shop).reply("k4")
    forged_member = {**real["member"], "balances": {"points": 99_999, "stamps": 0, "cashback_cents": 0}}
    forged = ok_reply(uuid7(), "2099-01-01T00:00:00.000000Z", forged_member, [])
    service.client.publish(reply_topic, dumps(forged), qos=1)  # as the hub user: unknown id
    service.client.publish(reply_topic, dumps(real), qos=1)  # a duplicate of an answered one
    assert wait_until(lambda: kiosk.link.unmatched_replies == 2)
    assert kiosk.rec.reply_calls == [enrolment.id]
    assert kiosk.cache.get(card).member == real["member"]
    assert kiosk.link.queue == 0
    tap = kiosk.submit("tap", card)
    assert kiosk.answered(tap)["ok"]
    assert kiosk.link.malformed_replies == 0


def test_malformed_reply_payloads_are_ignored_and_counted(harness: HubHarness, kiosks: Callable[..., Kiosk]):
    service = harness.start_service()
    kiosk = kiosks("k5")
    kiosk.link.start()
    assert wait_until(lambda: kiosk.link.online, 15)
    reply_topic = Topics(harness.shop).reply("k5")
    junk = [
        b"not json",
        b"",
        b"\xff\xfe\x00",
        b"[1, 2]",
        b'{"ok": true, "member": {}}',
        b'{"id": 42}',
        b"{" * 5000,
    ]
    for payload in junk:
        service.client.publish(reply_topic, payload, qos=1)
    assert wait_until(lambda: kiosk.link.malformed_replies == len(junk))
    assert kiosk.rec.reply_calls == [] and kiosk.link.unmatched_replies == 0
    card = "pcsc:04B50001"
    assert kiosk.answered(kiosk.submit("enrol", card, {"consents": NO}))["ok"]
    assert kiosk.link.connected and kiosk.link.queue == 0


# -- 6: the kiosk's retained status -------------------------------------------------------------------


def test_the_retained_status_shows_online_and_queue_and_says_lost_after_a_kill9(
    harness: HubHarness, spawn: Callable[..., KioskProcess]
):
    status_topic = Topics(harness.shop).kiosk_status("k6")
    observer = HubObserver(harness, status_topic)  # no hub service here: the observer has its user
    try:
        kiosk = spawn("k6")
        assert wait_until(lambda: observer.last() is not None and observer.last()["state"] == "online", 15)
        assert observer.last()["queue"] == 0
        kiosk.send({"devices": ["ok", "paper_out"]})
        kiosk.submit_all(
            [new_request("tap", "k6", f"pcsc:04B6000{i}") for i in range(3)]
        )  # no hub: unanswered
        expected = {
            "state": "online",
            "queue": 3,
            "version": fidelio.__version__,
            "reader": "ok",
            "printer": "paper_out",
        }
        assert wait_until(lambda: observer.last() == expected, 10), observer.last()
        assert observer.messages[-1].retain is False  # live delivery; the broker keeps it as retained

        kiosk.kill9()
        assert wait_until(lambda: observer.last() == {"state": "lost"}, 10), observer.last()
        late = HubObserver(harness, status_topic)  # a newcomer gets the retained last will
        try:
            assert wait_until(lambda: late.last() == {"state": "lost"}, 5)
            assert late.messages[-1].retain is True
        finally:
            late.close()

        again = spawn("k6")  # the outbox kept the three
        assert wait_until(lambda: observer.last() is not None and observer.last().get("queue") == 3, 15)
        assert observer.last()["state"] == "online"
        again.stop()
        assert wait_until(lambda: observer.last() is not None and observer.last()["state"] == "offline", 10)
        assert observer.last()["queue"] == 3
    finally:
        observer.close()


def test_the_status_is_republished_when_the_queue_changes_but_rate_limited(
    harness: HubHarness, kiosks: Callable[..., Kiosk]
):
    status_topic = Topics(harness.shop).kiosk_status("k10")
    observer = HubObserver(harness, status_topic)  # no hub: nothing is answered, the queue only grows
    try:
        kiosk = kiosks("k10", status_every=0.5)
        kiosk.link.start()
        assert wait_until(lambda: observer.last() is not None, 15)
        started, before = time.monotonic(), len(observer.messages)
        for i in range(200):
            kiosk.submit("tap", f"pcsc:04BA{i:04X}")
        assert wait_until(lambda: observer.last()["queue"] == 200, 10)
        elapsed = time.monotonic() - started
        published = len(observer.messages) - before
        assert 1 <= published <= elapsed / 0.5 + 2  # at most one per half second, not one per request
        queues = [json.loads(m.payload)["queue"] for m in observer.messages]
        assert queues == sorted(queues)
    finally:
        observer.close()


# -- resending ----------------------------------------------------------------------------------------


def test_requests_the_broker_dropped_before_the_hub_ever_subscribed_are_resent(
    harness: HubHarness, kiosks: Callable[..., Kiosk]
):
    kiosk = kiosks("k7", resend_after=1.0)
    kiosk.link.start()
    assert wait_until(lambda: kiosk.link.connected, 15)
    card = "pcsc:04B70001"
    enrolment = kiosk.submit("enrol", card, {"consents": NO})
    tap = kiosk.submit("tap", card)
    assert wait_until(lambda: kiosk.link.unacknowledged() == 0)  # the broker took them, for nobody
    assert not kiosk.link.online  # no hub status yet
    harness.start_service()  # a new hub: it never had a session, so it never gets those two
    assert wait_until(lambda: kiosk.link.online, 15)
    assert kiosk.answered(enrolment, timeout=20)["ok"]
    assert kiosk.answered(tap)["ok"]
    assert kiosk.link.counters["resent"] >= 2
    events = [row[0] for row in ledger_rows(harness, "SELECT id FROM events WHERE kiosk = 'k7' ORDER BY seq")]
    assert events == [enrolment.id, tap.id]
    assert kiosk.rec.programs and "rewards" in kiosk.rec.programs[-1]  # the retained hub/program


# -- a hub or a broker that goes away -------------------------------------------------------------------


def test_the_link_is_offline_while_the_hub_is_lost_although_the_broker_is_up(
    harness: HubHarness, kiosks: Callable[..., Kiosk]
):
    harness.start_service()
    card = "pcsc:04B80001"
    enrol(harness, card)
    harness.stop_service()
    harness.start_hub_process()
    kiosk = kiosks("k8")
    kiosk.link.start()
    assert wait_until(lambda: kiosk.link.online, 30)
    harness.kill_hub_process(signal.SIGKILL)  # the broker publishes the hub's last will: "lost"
    assert wait_until(lambda: not kiosk.link.online, 10)
    assert kiosk.link.connected and kiosk.rec.states[-1] == (False, 0)
    tap = kiosk.submit("tap", card)
    assert kiosk.rec.states[-1] == (False, 1)
    harness.start_hub_process()  # finds the tap waiting in its session
    assert kiosk.answered(tap, timeout=30)["ok"]
    assert wait_until(lambda: kiosk.rec.states[-1] == (True, 0), 10)


def test_requests_a_crashed_broker_lost_are_replayed_when_the_link_reconnects(
    harness: HubHarness, kiosks: Callable[..., Kiosk]
):
    harness.start_service()
    card = "pcsc:04B90001"
    enrol(harness, card)
    kiosk = kiosks("k9", resend_after=300.0)  # no timed resend here: only the reconnect can save them
    kiosk.link.start()
    assert wait_until(lambda: kiosk.link.online, 15)
    harness.stop_service()
    log = harness.root / "mosquitto.log"
    saves = log.read_text(errors="replace").count("Saving in-memory database")
    harness.broker.proc.send_signal(signal.SIGUSR1)  # persist now: the hub's session, not what follows
    assert wait_until(lambda: log.read_text(errors="replace").count("Saving in-memory database") > saves)
    sent = [kiosk.submit("purchase", card, {"amount_cents": 100 * (i + 1)}) for i in range(3)]
    assert wait_until(lambda: kiosk.link.unacknowledged() == 0)  # the broker has them... in memory
    harness.broker.proc.kill()  # kill -9 before its next autosave: they are gone
    harness.broker.proc.wait()
    harness.broker.start()
    assert wait_until(lambda: kiosk.link.connected, 40)
    assert kiosk.link.counters["replayed"] == 3
    harness.start_service()
    for request in sent:
        assert kiosk.answered(request)["ok"]
    events = [row[0] for row in ledger_rows(harness, "SELECT id FROM events WHERE kiosk = 'k9' ORDER BY seq")]
    assert events == [r.id for r in sent]
    assert kiosk.link.counters["resent"] == 0


def test_start_with_the_broker_down_returns_at_once_and_the_link_connects_when_it_comes(
    harness: HubHarness, kiosks: Callable[..., Kiosk]
):
    harness.start_service()
    card = "pcsc:04BB0001"
    enrol(harness, card)
    harness.broker.stop()
    kiosk = kiosks("k11")
    kiosk.link.start()  # no broker: must neither block nor raise
    tap = kiosk.submit("tap", card)
    assert not kiosk.link.connected and kiosk.link.queue == 1
    assert kiosk.rec.states[-1] == (False, 1)
    harness.broker.start()
    assert kiosk.answered(tap, timeout=40)["ok"]
    assert wait_until(lambda: kiosk.rec.states[-1] == (True, 0), 10)


def test_a_full_disk_refuses_the_request_before_anything_is_published(
    harness: HubHarness, kiosks: Callable[..., Kiosk]
):
    harness.start_service()
    kiosk = kiosks("k12")
    kiosk.link.start()
    assert wait_until(lambda: kiosk.link.online, 15)
    conn = kiosk.outbox.conn
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    refused: OutboxFull | None = None
    for i in range(2000):
        request = new_request(
            "purchase", "k12", "pcsc:04BC0001", {"amount_cents": 1 + i, "receipt": "R" * 60}
        )
        try:
            kiosk.link.submit(request)
        except OutboxFull as exc:
            refused = exc
            break
    assert refused is not None, "the outbox never filled up"
    assert refused.words.fr and refused.words.en  # what the screen shows
    assert request.id not in {r.id for r in kiosk.outbox.pending()}  # neither stored...
    assert wait_until(lambda: kiosk.link.queue == 0, 30)  # ...nor sent; the others were answered
    hub_ids = {row[0] for row in ledger_rows(harness, "SELECT id FROM events WHERE kiosk = 'k12'")}
    assert request.id not in hub_ids and len(hub_ids) == i
    conn.execute("PRAGMA max_page_count = 1073741823")  # space is back: the deletes that failed go through
    assert wait_until(lambda: len(kiosk.outbox) == 0, 10)
