"""Making paho-mqtt clients the way both sides need them: MQTT v5, QoS 1, TCP_NODELAY, TLS with the shop CA.

No connection is opened here; callers call `connect`/`connect_async` when they are ready.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

SESSION_EXPIRY_SECONDS = 7 * 24 * 3600


def _nodelay(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    # Without this a request/reply through Mosquitto stalls on delayed ACKs (40-90 ms instead of ~1 ms).
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def make_client(
    client_id: str,
    username: str,
    password: str,
    *,
    ca_pem: str | None = None,
    manual_ack: bool = False,
    will: tuple[str, bytes] | None = None,
) -> mqtt.Client:
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=manual_ack,
    )
    client.username_pw_set(username, password)
    client.on_socket_open = _nodelay
    if ca_pem:
        ctx = ssl.create_default_context(cadata=ca_pem)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        client.tls_set_context(ctx)
    if will is not None:
        client.will_set(will[0], will[1], qos=1, retain=True)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client


def connect_properties(persistent: bool) -> Properties:
    props = Properties(PacketTypes.CONNECT)
    if persistent:
        # clean_start=False alone is not enough in MQTT v5: without an expiry the session dies with the socket.
        props.SessionExpiryInterval = SESSION_EXPIRY_SECONDS
    return props


def publish_properties(correlation: str | None = None, response_topic: str | None = None) -> Properties:
    props = Properties(PacketTypes.PUBLISH)
    if correlation is not None:
        props.CorrelationData = correlation.encode("utf-8")
    if response_topic is not None:
        props.ResponseTopic = response_topic
    return props
