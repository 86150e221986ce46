"""The hub under faults: broker restarts, a hub that was away, a full disk, systemd's watchdog."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from fidelio.contract import new_request
from fidelio.mqttlink import publish_properties
from hub.app import check_hub
from hub.config import HubPaths, load_config
from hub.service.systemd import Notifier
from tests.support import HubHarness, running_hub, wait_until

NO = {"email": False, "sms": False}


@pytest.fixture
def hub():
    with running_hub() as harness:
        yield harness


def test_requests_sent_while_the_hub_is_away_are_answered_when_it_returns(hub: HubHarness):
    k = hub.kiosk("k1")
    card = "pcsc:04BB0001"
    assert k.request("enrol", card, {"consents": NO})["ok"]
    hub.stop_service()  # clean stop: the hub's persistent session stays on the broker
    pendings = [k.send(new_request("purchase", "k1", card, {"amount_cents": 100 + i})) for i in range(50)]
    time.sleep(0.5)
    assert not any(p.done.is_set() for p in pendings)
    hub.start_service()
    for p in pendings:
        assert p.done.wait(15), "the broker did not keep the hub's session"
    assert all(p.reply["ok"] for p in pendings)
    last = max(pendings, key=lambda p: p.reply["member"]["totals"]["purchases"])
    assert last.reply["member"]["totals"]["spend_cents"] == sum(100 + i for i in range(50))


def test_the_hub_reconnects_after_the_broker_restarts(hub: HubHarness):
    k = hub.kiosk("k2")
    card = "pcsc:04BB0002"
    assert k.request("enrol", card, {"consents": NO})["ok"]
    hub.broker.stop()
    time.sleep(1.0)
    hub.broker.start()
    assert wait_until(lambda: hub.service is not None and hub.service.client.is_connected(), 40)
    assert wait_until(lambda: k.client.is_connected(), 40)
    assert k.request("tap", card, timeout=5, attempts=4)["ok"]


def test_a_full_disk_is_retried_without_answering_and_loses_nothing(hub: HubHarness):
    k = hub.kiosk("k3")
    card = "pcsc:04BB0003"
    assert k.request("enrol", card, {"consents": NO})["ok"]
    statuses: list[dict] = []
    k.client.message_callback_add(
        k.topics.hub_status, lambda _c, _u, m: statuses.append(json.loads(m.payload))
    )
    k.client.subscribe(k.topics.hub_status, qos=1)
    assert hub.service is not None
    conn = hub.service.ledger.conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite now answers SQLITE_FULL, as on a full disk
    blob = "x" * 200_000
    pendings = [k.send(new_request("enrol", "k3", f"pcsc:04CC{i:04X}", {"consents": NO, "first_name": blob[:50]}))
                for i in range(40)]  # fmt: skip
    assert wait_until(lambda: hub.service.counters["ledger_failures"] >= 1, 10)
    time.sleep(0.5)
    answered = [p for p in pendings if p.done.is_set()]  # those that fitted before the disk filled up
    assert len(answered) < len(pendings), "the disk never filled up"
    assert all(p.reply["ok"] for p in answered), "a request was answered although it was not committed"
    assert wait_until(lambda: any(s.get("state") == "degraded" for s in statuses), 10)
    conn.execute("PRAGMA max_page_count = 1073741823")  # space is back
    for p in pendings:
        assert p.done.wait(40), "a request was lost after the disk filled up"
    assert all(p.reply["ok"] for p in pendings)
    assert wait_until(lambda: statuses[-1].get("state") == "online", 10)
    assert check_hub(hub.data) == []


def test_hub_events_carry_no_personal_data(hub: HubHarness):
    cfg = load_config(HubPaths(hub.data))
    seen: list[bytes] = []
    spy = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="events-spy", protocol=mqtt.MQTTv5)
    spy.username_pw_set(cfg.mqtt.username, cfg.mqtt.password)
    spy.on_message = lambda _c, _u, m: seen.append(m.payload)
    subscribed = threading.Event()
    spy.on_subscribe = lambda *_: subscribed.set()
    spy.connect("127.0.0.1", hub.local_port)
    spy.loop_start()
    spy.subscribe(f"fidelio/v1/{hub.shop}/hub/events", qos=1)
    assert subscribed.wait(5)
    k = hub.kiosk("k4")
    card = "pcsc:04BB0004"
    enrolled = k.request("enrol", card, {"first_name": "Zélie", "email": "zelie@example.fr", "consents": NO})
    k.request("purchase", card, {"amount_cents": 999})
    assert wait_until(lambda: len(seen) >= 2, 5)
    spy.loop_stop()
    spy.disconnect()
    text = b"".join(seen).decode()
    for secret in ("Zélie", "zelie@example.fr", "04BB0004", enrolled["member"]["code"]):
        assert secret not in text
    events = [json.loads(s) for s in seen]
    assert {e["type"] for e in events} >= {"enrol", "purchase"}


def test_systemd_notify_ready_and_watchdog(tmp_path: Path):
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    notifier = Notifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "4000000"})
    assert notifier.watchdog_interval == 2.0
    notifier.ready("up")
    notifier.watchdog()
    assert sock.recv(100) == b"READY=1\nSTATUS=up"
    assert sock.recv(100) == b"WATCHDOG=1"
    sock.close()
    assert not Notifier({}).enabled


def test_an_ack_from_a_dead_connection_never_acknowledges_a_new_message(hub: HubHarness):
    """Broker killed while the hub holds an uncommitted request: after the reconnect the broker numbers
    messages afresh, and the old message's late PUBACK must not acknowledge the new one."""
    k = hub.kiosk("k5")
    card = "pcsc:04BB0005"
    assert k.request("enrol", card, {"consents": NO})["ok"]
    service = hub.service
    assert service is not None
    gate, holding = threading.Event(), threading.Event()
    real_apply = service.ledger.apply_batch

    def gated(requests):
        if not gate.is_set():
            holding.set()
            gate.wait(30)
        return real_apply(requests)

    service.ledger.apply_batch = gated  # type: ignore[method-assign]
    a = k.send(new_request("purchase", "k5", card, {"amount_cents": 111}))
    assert holding.wait(10)
    generation = service._generation
    hub.broker.proc.kill()  # kill -9: the broker forgets what it had not saved
    hub.broker.proc.wait()
    hub.broker.start()
    assert wait_until(lambda: service._generation > generation and service.client.is_connected(), 40)
    assert wait_until(lambda: k.client.is_connected(), 40)
    time.sleep(0.5)  # the kiosk's resubscription
    b = k.send(new_request("purchase", "k5", card, {"amount_cents": 222}))
    time.sleep(0.5)  # B is now in the hub's inbox, on the new connection
    gate.set()
    assert a.done.wait(15) and b.done.wait(15)
    assert a.reply["ok"] and b.reply["ok"]
    assert service.counters["stale_acks_dropped"] >= 1
    assert b.reply["member"]["totals"]["spend_cents"] == 333
    assert check_hub(hub.data) == []


def test_the_reply_goes_to_the_topic_kiosk_whatever_response_topic_says(hub: HubHarness):
    a, b = hub.kiosk("ka"), hub.kiosk("kb")
    got_b: list[bytes] = []
    b.client.message_callback_add(b.topics.reply("kb"), lambda _c, _u, m: got_b.append(m.payload))
    req = new_request("tap", "ka", "pcsc:04BB0006")
    pending = a.send(req)
    a.client.publish(  # the same id again, asking for the reply on kb's topic
        a.topics.request("ka"), json.dumps(req.to_json()), qos=1,
        properties=publish_properties(req.id, b.topics.reply("kb")),
    )  # fmt: skip
    assert pending.done.wait(5) and pending.reply["error"]["code"] == "unknown_card"
    time.sleep(0.5)
    assert got_b == []
