"""Where first boot reads and writes, relative to an injectable boot partition and root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

KIOSK_FILE = "fidelio-kiosk.toml"
HUB_FILE = "fidelio-hub.toml"
WIFI_FILE = "wifi.toml"
#: the maintainers' SSH public keys (fidelio/appliance/ssh.py); an empty file turns SSH off again
SSH_FILE = "authorized_keys"
SSH_UNITS = ("ssh.service",)
#: where a hub's first boot writes the files of the kiosks its hub file lists
KIOSKS_DIR = "fidelio-kiosks"

#: both roles: the hourly check for a release the hub asks for (fidelio/update)
UPDATE_UNITS = ("fidelio-update.timer",)
HUB_UNITS = ("fidelio-mosquitto.service", "fidelio-hub.service", "fidelio-backup.timer", *UPDATE_UNITS)
KIOSK_UNITS = ("fidelio-kiosk.service", *UPDATE_UNITS)


def only_in(units: tuple[str, ...], other: tuple[str, ...]) -> list[str]:
    """The units of one role the other does not have (what switching roles disables)."""
    return [u for u in units if u not in other]


HUB_USER = "fidelio"
KIOSK_USER = "kiosk"


@dataclass(frozen=True)
class Layout:
    boot: Path = Path("/boot/firmware")
    root: Path = Path("/")
    #: the example programs the image ships (a hub file may name one: "bakery")
    examples: Path = Path("/opt/fidelio/examples")

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def state(self) -> Path:
        """First boot's own directory: role, status, rejected files."""
        return self.data / "fidelio"

    @property
    def status(self) -> Path:
        return self.state / "status.json"

    @property
    def role(self) -> Path:
        return self.state / "role"

    @property
    def rejected(self) -> Path:
        return self.state / "rejected"

    @property
    def hub_data(self) -> Path:
        return self.data / "hub"

    @property
    def kiosk_data(self) -> Path:
        return self.data / "kiosk"

    @property
    def kiosk_config(self) -> Path:
        return self.kiosk_data / KIOSK_FILE

    @property
    def nm_connections(self) -> Path:
        return self.root / "etc/NetworkManager/system-connections"

    @property
    def wifi_keyfile(self) -> Path:
        return self.nm_connections / "fidelio-wifi.nmconnection"

    @property
    def wifi_country(self) -> Path:
        return self.root / "etc/modprobe.d/fidelio-wifi-country.conf"

    @property
    def ssh_dir(self) -> Path:
        return self.root / "etc/ssh"

    @property
    def sshd_dropin(self) -> Path:
        return self.ssh_dir / "sshd_config.d/fidelio.conf"

    def authorized_keys(self, user: str) -> Path:
        """sshd's AuthorizedKeysFile for `user` (in /etc: root's, out of the account's own reach)."""
        return self.ssh_dir / "authorized_keys.d" / user

    @property
    def hosts(self) -> Path:
        return self.root / "etc/hosts"

    @property
    def issue(self) -> Path:
        """Shown by the console's login prompt above "login:" (agetty reads /etc/issue.d/*.issue)."""
        return self.root / "etc/issue.d/fidelio.issue"

    def on_boot(self, name: str) -> Path:
        return self.boot / name
