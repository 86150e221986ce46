"""The shop's Mosquitto broker: its PKI, users, ACL and config, and kiosk provisioning (DESIGN §3b, §7).

Everything lives under the hub's data directory: `DIR/mosquitto/` (started with
`mosquitto -c DIR/mosquitto/mosquitto.conf`) and the kiosk registry `DIR/kiosks.json`.
"""

from .errors import BrokerError
from .provision import (
    broker_pid,
    init_broker,
    kiosk_add,
    kiosk_list,
    kiosk_revoke,
    load_settings,
    mosquitto_binary,
    mosquitto_command,
    provisioning_toml,
    reload_broker,
)
from .settings import HUB_USERNAME, BrokerPaths, BrokerSettings, HubCredentials, kiosk_username

__all__ = [
    "HUB_USERNAME",
    "BrokerError",
    "BrokerPaths",
    "BrokerSettings",
    "HubCredentials",
    "broker_pid",
    "init_broker",
    "kiosk_add",
    "kiosk_list",
    "kiosk_revoke",
    "kiosk_username",
    "load_settings",
    "mosquitto_binary",
    "mosquitto_command",
    "provisioning_toml",
    "reload_broker",
]
