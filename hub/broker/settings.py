"""Broker settings, the file layout under `DIR/mosquitto/`, and the hub's own credentials."""

from __future__ import annotations

import ipaddress
import json
import re
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fidelio.contract.topics import valid_id

from .errors import BrokerError

HUB_USERNAME = "hub"
KIOSK_USER_PREFIX = "kiosk-"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?$")


def valid_host(value: str) -> bool:
    """A DNS host name or an IP address (what may go in a certificate's SAN and a kiosk's config)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return bool(_HOSTNAME.match(value))
    return True


def kiosk_username(kiosk_id: str) -> str:
    return f"{KIOSK_USER_PREFIX}{kiosk_id}"


@dataclass(frozen=True)
class BrokerSettings:
    """What the shop's broker listens on and which names kiosks use to reach it.

    `local_port` is a plain listener bound to 127.0.0.1 only, for the hub service on the same box;
    `tls_port` is the only listener reachable from the network. `bind_address` None = all interfaces.
    """

    shop: str
    mqtt_host: str = field(default_factory=socket.gethostname)
    tls_port: int = 8883
    local_port: int = 1883
    bind_address: str | None = None

    def __post_init__(self) -> None:
        if not valid_id(self.shop):
            raise BrokerError(
                f"Identifiant de boutique invalide : {self.shop!r} (minuscules, chiffres et tirets)",
                f"Invalid shop id: {self.shop!r} (lower-case letters, digits and dashes)",
            )
        if not valid_host(self.mqtt_host):
            raise BrokerError(
                f"Nom d'hôte MQTT invalide : {self.mqtt_host!r}",
                f"Invalid MQTT host name: {self.mqtt_host!r}",
            )
        if self.bind_address is not None and not valid_host(self.bind_address):
            raise BrokerError(
                f"Adresse d'écoute invalide : {self.bind_address!r}",
                f"Invalid bind address: {self.bind_address!r}",
            )
        for port in (self.tls_port, self.local_port):
            if not isinstance(port, int) or not 1 <= port <= 65535:
                raise BrokerError(f"Port invalide : {port!r}", f"Invalid port: {port!r}")
        if self.tls_port == self.local_port:
            raise BrokerError(
                f"Les ports TLS et local doivent différer ({self.tls_port})",
                f"The TLS and local ports must differ ({self.tls_port})",
            )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> BrokerSettings:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class HubCredentials:
    """The hub service's own broker user; it connects on the loopback listener (`host`, `port`)."""

    username: str
    password: str = field(repr=False)
    host: str = "127.0.0.1"
    port: int = 1883


@dataclass(frozen=True)
class BrokerPaths:
    """Every file of the shop's broker, all under `DIR/mosquitto/` except the kiosk registry."""

    data_dir: Path

    @property
    def root(self) -> Path:
        return self.data_dir / "mosquitto"

    @property
    def conf(self) -> Path:
        return self.root / "mosquitto.conf"

    @property
    def settings(self) -> Path:
        return self.root / "broker.json"

    @property
    def ca_crt(self) -> Path:
        return self.root / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.root / "ca.key"

    @property
    def server_crt(self) -> Path:
        return self.root / "server.crt"

    @property
    def server_key(self) -> Path:
        return self.root / "server.key"

    @property
    def passwd(self) -> Path:
        return self.root / "passwd"

    @property
    def acl(self) -> Path:
        return self.root / "acl"

    @property
    def persistence(self) -> Path:
        return self.root / "data"

    @property
    def pid_file(self) -> Path:
        # Mosquitto writes its pid file after dropping root, so it lives in its one writable dir.
        return self.persistence / "mosquitto.pid"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def kiosks(self) -> Path:
        return self.data_dir / "kiosks.json"
