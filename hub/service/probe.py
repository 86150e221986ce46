"""Is the broker on our port the shop's own? The shop's broker never accepts anonymous clients.

On a fresh Debian, the `mosquitto` package starts its own broker on 127.0.0.1:1883 with anonymous
access; a hub that connected to it would take requests from anyone on the machine.
"""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt


def anonymous_broker_at(host: str, port: int, timeout: float = 3.0) -> bool:
    """True when a broker answers there and accepts a client without credentials."""
    accepted = threading.Event()
    answered = threading.Event()

    def on_connect(_c: mqtt.Client, _u: object, _f: object, reason: mqtt.ReasonCode, _p: object) -> None:
        if not reason.is_failure:
            accepted.set()
        answered.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv5)
    client.on_connect = on_connect
    try:
        client.connect(host, port, keepalive=5)
    except OSError:
        return False  # nothing listening yet: the hub will connect when the shop's broker starts
    client.loop_start()
    answered.wait(timeout)
    client.disconnect()
    client.loop_stop()
    return accepted.is_set()
