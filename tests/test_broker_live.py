"""hub/broker against the REAL Mosquitto running the generated config (DESIGN §7, §8).

Measured with Debian's mosquitto 2.0.11 (MQTT v5): a refused CONNECT is CONNACK 0x87 "Not authorized"
(also for a wrong password); a publish the ACL denies is dropped silently at QoS 0 and PUBACK'd 0x87 at
QoS 1; a SUBSCRIBE is always granted (the default ACL checks reads at delivery, not at subscribe) and
the denied messages are simply never delivered; a kiosk revoked while connected is disconnected by the
reload itself.
"""

from __future__ import annotations

import queue
import socket
import ssl
import threading
import tomllib
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from conftest import BrokerConnectError, MqttTestClient, RunningBroker
from paho.mqtt.properties import Properties

from hub.broker import kiosk_add
from hub.broker.pki import create_ca
from tests.support import wait_until

NOT_AUTHORIZED = 0x87
NO_MATCHING_SUBSCRIBERS = 0x10


def _drain(client: MqttTestClient, settle: float = 0.3) -> list[mqtt.MQTTMessage]:
    messages = []
    while True:
        try:
            messages.append(client.received.get(timeout=settle))
        except queue.Empty:
            return messages


def test_hub_user_connects_on_both_listeners(broker: RunningBroker) -> None:
    """The `$7$` hashes we write are accepted by the real broker."""
    assert broker.connect_hub().is_connected()
    assert broker.connect_hub(tls=True).is_connected()


@pytest.mark.parametrize("tls", [False, True], ids=["loopback", "tls"])
def test_anonymous_and_wrong_passwords_are_refused(broker: RunningBroker, tls: bool) -> None:
    assert broker.hub_credentials is not None
    for username, password in [(None, None), ("hub", "wrong"), ("hub", ""), ("nobody", "x")]:
        with pytest.raises(BrokerConnectError) as refused:
            broker.connect(username, password, tls=tls)
        assert refused.value.reason_code.value == NOT_AUTHORIZED, (username, refused.value.reason_code)


def test_plain_listener_listens_on_loopback_only(broker: RunningBroker) -> None:
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port = local.split(":")
            if state == "0A" and int(port, 16) == broker.local_port:
                listening.add(address)
    assert listening == {"0100007F"}  # 127.0.0.1, and no IPv6 socket


def test_tls_listener_is_verified_with_the_shop_ca_only(
    broker: RunningBroker, mosquitto_tmp_dir: Path
) -> None:
    assert broker.connect_hub(tls=True).is_connected()  # hostname "localhost" is in the certificate
    foreign_ca = mosquitto_tmp_dir / "foreign-ca.crt"
    foreign_ca.write_bytes(create_ca("elsewhere").cert_pem)
    with pytest.raises(ssl.SSLCertVerificationError):
        broker.connect_hub(tls=True, ca_file=foreign_ca)
    # TLS 1.2 is the minimum, not the only version
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        context = ssl.create_default_context(cafile=str(broker.paths.ca_crt))
        context.minimum_version = context.maximum_version = version
        with (
            socket.create_connection(("127.0.0.1", broker.tls_port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            assert tls.version() == version.name.replace("_", ".")
    # and plain MQTT gets no CONNACK on the TLS port
    assert broker.hub_credentials is not None
    plain = MqttTestClient()
    plain.username_pw_set(broker.hub_credentials.username, broker.hub_credentials.password)
    plain.connect("127.0.0.1", broker.tls_port)
    for _ in range(20):
        if plain.loop(timeout=0.05) != mqtt.MQTT_ERR_SUCCESS:
            break
    assert plain.connack is None
    plain.disconnect()


def test_kiosk_request_and_reply_round_trip(broker: RunningBroker) -> None:
    t = broker.topics
    kiosk = broker.add_kiosk("k1")
    hub = broker.connect_hub()
    assert hub.subscribe_wait(t.all_requests)[0].value == 1
    assert hub.publish_wait(t.hub_status, b'{"state":"up"}', retain=True).value == NO_MATCHING_SUBSCRIBERS
    assert hub.publish_wait(t.hub_program, b'{"rewards":[]}', retain=True).value == NO_MATCHING_SUBSCRIBERS

    k1 = broker.connect(kiosk.username, kiosk.password, tls=True)
    k1.subscribe_wait(t.hub_status)
    k1.subscribe_wait(t.hub_program)
    retained = {m.topic: m.payload for m in (k1.expect_message(), k1.expect_message())}
    assert retained == {t.hub_status: b'{"state":"up"}', t.hub_program: b'{"rewards":[]}'}
    k1.subscribe_wait(t.reply("k1"))
    assert k1.publish_wait(t.kiosk_status("k1"), b'{"state":"online"}', retain=True).is_failure is False

    props = Properties(mqtt.PacketTypes.PUBLISH)
    props.ResponseTopic = t.reply("k1")
    props.CorrelationData = b"0190-id"
    request = b'{"v": 1, "pad": "' + b"x" * (16 * 1024 - 30) + b'"}'  # a full-size request
    assert k1.publish_wait(t.request("k1"), request, properties=props).value == 0
    received = hub.expect_message()
    assert received.topic == t.request("k1") and received.payload == request
    assert received.properties.ResponseTopic == t.reply("k1")
    assert received.properties.CorrelationData == b"0190-id"

    reply_props = Properties(mqtt.PacketTypes.PUBLISH)
    reply_props.CorrelationData = received.properties.CorrelationData
    assert (
        hub.publish_wait(received.properties.ResponseTopic, b'{"ok":true}', properties=reply_props).value == 0
    )
    reply = k1.expect_message()
    assert (reply.topic, reply.payload, reply.properties.CorrelationData) == (
        t.reply("k1"),
        b'{"ok":true}',
        b"0190-id",
    )


def test_kiosk_cannot_publish_as_another_or_as_the_hub(broker: RunningBroker) -> None:
    t = broker.topics
    a, _b = broker.add_kiosk("a"), broker.add_kiosk("b")
    hub = broker.connect_hub()
    hub.subscribe_wait(t.base + "/#")
    ka = broker.connect(a.username, a.password, tls=True)
    for topic in [
        t.request("b"),
        t.kiosk_status("b"),
        t.reply("a"),
        t.hub_status,
        t.hub_events,
        "other/topic",
    ]:
        assert ka.publish_wait(topic, b"forged", qos=1).value == NOT_AUTHORIZED, topic
        assert ka.publish_wait(topic, b"forged", qos=0).value == 0, topic  # QoS 0: dropped silently
    assert ka.publish_wait(t.request("a"), b"mine").value == 0  # marker: ordered after the forgeries
    marker = hub.expect_message()
    assert (marker.topic, marker.payload) == (t.request("a"), b"mine")
    hub.assert_no_message(0.2)


def test_kiosk_cannot_read_other_replies_nor_hub_events(broker: RunningBroker) -> None:
    t = broker.topics
    a, b = broker.add_kiosk("a"), broker.add_kiosk("b")
    hub = broker.connect_hub()
    ka = broker.connect(a.username, a.password, tls=True)
    kb = broker.connect(b.username, b.password, tls=True)
    for pattern in [t.reply("b"), t.base + "/kiosk/+/reply", t.hub_events, t.base + "/#", "#"]:
        codes = ka.subscribe_wait(pattern)
        assert codes[0].value in (1, NOT_AUTHORIZED)  # 2.0.11 grants; delivery is what the ACL filters
    kb.subscribe_wait(t.reply("b"))
    hub.publish_wait(t.reply("b"), b"for b")
    hub.publish_wait(t.hub_events, b"event")
    hub.publish_wait(t.kiosk_status("b"), b"b status")
    hub.publish_wait(t.reply("a"), b"for a")
    got_a = _drain(ka)
    assert got_a and {(m.topic, m.payload) for m in got_a} == {(t.reply("a"), b"for a")}
    assert kb.expect_message().payload == b"for b"


def test_kiosk_cannot_take_over_another_clients_session(broker: RunningBroker) -> None:
    a = broker.add_kiosk("a")
    hub = broker.connect_hub(client_id="fidelio-hub")
    disconnected = threading.Event()
    hub.on_disconnect = lambda *args: disconnected.set()
    ka = broker.connect(a.username, a.password, tls=True, client_id="fidelio-hub")
    assert ka.is_connected()
    assert not disconnected.wait(0.5) and hub.is_connected()  # the TLS listener forces client id = user name


def test_revoked_kiosk_is_cut_off_and_refused(broker: RunningBroker) -> None:
    kiosk = broker.add_kiosk("k1")
    connected = broker.connect(kiosk.username, kiosk.password, tls=True)
    broker.revoke_kiosk("k1")  # kiosk_revoke signals the broker through its pid file; we wait for the reload
    assert wait_until(lambda: not connected.is_connected()), "a connected revoked kiosk should be dropped"
    with pytest.raises(BrokerConnectError) as refused:
        broker.connect(kiosk.username, kiosk.password, tls=True)
    assert refused.value.reason_code.value == NOT_AUTHORIZED


def test_provisioning_file_connects_over_tls(broker: RunningBroker, mosquitto_tmp_dir: Path) -> None:
    out = mosquitto_tmp_dir / "kiosk.toml"
    row = kiosk_add(broker.data_dir, "k1", out)
    assert row["broker_reloaded"] is True  # found the running broker through its pid file
    broker.reload()  # make sure the reload has happened before connecting
    mqtt_conf = tomllib.loads(out.read_text())["mqtt"]
    assert mqtt_conf["tls"] is True and mqtt_conf["port"] == broker.tls_port
    ca_file = mosquitto_tmp_dir / "from-provisioning.crt"
    ca_file.write_text(mqtt_conf["ca"])
    client = MqttTestClient()
    client.username_pw_set(mqtt_conf["username"], mqtt_conf["password"])
    client.tls_set(ca_certs=str(ca_file))
    client.connect(mqtt_conf["host"], mqtt_conf["port"])
    client.loop_start()
    try:
        assert client.wait_connack().value == 0
        assert client.publish_wait(broker.topics.request("k1"), b"{}").is_failure is False
    finally:
        client.close()


def test_queued_requests_survive_a_burst_and_a_broker_restart(broker: RunningBroker) -> None:
    """The hub's persistent session holds a burst beyond Mosquitto's default queue (1000) while the
    hub is away, and across a broker restart (persistence)."""
    t = broker.topics
    hub = broker.connect_hub(client_id="hub-service", clean_start=False, session_expiry=3600)
    hub.subscribe_wait(t.all_requests)
    hub.close()
    per_kiosk, kiosk_ids = 1500, ["a", "b", "c"]
    kiosks = [broker.add_kiosk(k) for k in kiosk_ids]
    for kiosk in kiosks:
        client = broker.connect(kiosk.username, kiosk.password, tls=True)
        infos = [client.publish(t.request(kiosk.id), f"{kiosk.id}-{i}", qos=1) for i in range(per_kiosk)]
        for info in infos:
            info.wait_for_publish(10)
        client.close()
    broker.stop()  # SIGTERM: the broker writes its persistence file
    broker.start()
    hub = broker.connect_hub(client_id="hub-service", clean_start=False, session_expiry=3600)
    total, seen = per_kiosk * len(kiosk_ids), set()
    while len(seen) < total:
        try:
            seen.add(hub.received.get(timeout=3).payload)
        except queue.Empty:
            break
    assert len(seen) == total, f"{total - len(seen)} of {total} queued requests lost"
