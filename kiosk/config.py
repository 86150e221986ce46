"""The kiosk's configuration file: `fidelio-kiosk --config FILE`.

The file is the provisioning file `fidelio-hub kiosk add` wrote (DESIGN §3b: `shop`, `kiosk`, `[mqtt]`),
to which an installer may add optional sections; every one has an embedded default, so the bare
provisioning file runs a kiosk (simulated reader, no printer: vouchers shown on screen):

```toml
[hardware]            # kiosk/hardware/config.py: readers and printer
paper_mm = 80
[[hardware.readers]]
kind = "pcsc"
[hardware.printer]
kind = "network"
host = "192.0.2.10"

[display]
shop_name = "Boulangerie Martin"
primary = "#1F4E79"
accent = "#F2A900"
logo = "/data/logo.png"
width = 800
height = 480
fullscreen = true
lang = "fr"

[staff]
pin = "4821"          # the file is 0600: it also holds the broker password
cards = ["pcsc:04AABBCC"]

[storage]
dir = "/data/kiosk"   # outbox, member cache, voucher spool
```

Strict: an unknown key anywhere is an error naming it, in French and English.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kiosk.hardware.config import HardwareConfig
from kiosk.provisioning import Provisioning, ProvisioningError, parse_provisioning

_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_CARD = re.compile(r"^[a-z][a-z0-9]{1,11}:(?:[0-9A-F]{2}){2,32}$")
OPTIONAL_SECTIONS = ("hardware", "display", "staff", "storage")


class KioskConfigError(ValueError):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DisplayConfig(_Strict):
    shop_name: str | None = None  # default: the shop's name from hub/program, else its id
    primary: str = "#1F4E79"
    accent: str = "#F2A900"
    logo: Path | None = None
    width: Annotated[int, Field(ge=320, le=3840)] = 800
    height: Annotated[int, Field(ge=320, le=3840)] = 480
    fullscreen: bool = False
    lang: Literal["fr", "en"] = "fr"

    @field_validator("primary", "accent")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not _COLOUR.match(value):
            raise ValueError("colour must be #RRGGBB")
        return value


class StaffConfig(_Strict):
    pin: Annotated[str, Field(pattern=r"^[0-9]{4,8}$")] | None = None
    cards: list[str] = []

    @field_validator("cards")
    @classmethod
    def _cards(cls, cards: list[str]) -> list[str]:
        for card in cards:
            if not _CARD.match(card):
                raise ValueError(f"{card!r} is not a card token such as pcsc:04A1B2C3")
        return cards


def default_storage_dir() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "fidelio-kiosk"


class StorageConfig(_Strict):
    dir: Path = Field(default_factory=default_storage_dir)
    #: days a member's copy (first name, balances) is kept for offline taps without the hub refreshing it
    member_cache_days: int = Field(default=90, ge=1, le=3660)


class KioskConfig(_Strict):
    provisioning: Provisioning
    hardware: HardwareConfig = HardwareConfig(readers=[{"kind": "simulated"}])  # type: ignore[list-item]
    display: DisplayConfig = DisplayConfig()
    staff: StaffConfig = StaffConfig()
    storage: StorageConfig = StorageConfig()


def _explain(path: Path, section: str, exc: ValidationError) -> KioskConfigError:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in (section, *err["loc"]))
        if err["type"] == "extra_forbidden":
            lines.append(f"{path}: [{where}] clé inconnue / unknown key")
        else:
            lines.append(f"{path}: [{where}] {err['msg']}")
    return KioskConfigError(
        "Configuration de la borne invalide / invalid kiosk configuration:\n" + "\n".join(lines)
    )


def parse_kiosk_config(data: dict[str, Any], path: Path = Path("kiosk.toml")) -> KioskConfig:
    data = dict(data)
    sections = {name: data.pop(name) for name in OPTIONAL_SECTIONS if name in data}
    try:
        provisioning = parse_provisioning(data, path)  # strict on everything that is left
    except ProvisioningError as exc:
        raise KioskConfigError(str(exc)) from None
    models: dict[str, type[BaseModel]] = {
        "hardware": HardwareConfig,
        "display": DisplayConfig,
        "staff": StaffConfig,
        "storage": StorageConfig,
    }
    parsed: dict[str, Any] = {"provisioning": provisioning}
    for name, raw in sections.items():
        if not isinstance(raw, dict):
            raise KioskConfigError(f"{path}: [{name}] doit être une section / must be a table")
        try:
            parsed[name] = models[name].model_validate(raw)
        except ValidationError as exc:
            raise _explain(path, name, exc) from None
    return KioskConfig(**parsed)


def load_kiosk_config(path: Path) -> KioskConfig:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KioskConfigError(f"{path}: fichier introuvable / file not found") from None
    except PermissionError:
        raise KioskConfigError(f"{path}: lecture refusée / permission denied") from None
    except tomllib.TOMLDecodeError as exc:
        raise KioskConfigError(f"{path}: TOML invalide / invalid TOML ({exc})") from None
    return parse_kiosk_config(data, path)
