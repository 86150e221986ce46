"""`fidelio-hub.toml` on the boot partition: what a hub's first boot passes to `fidelio-hub init`.

```toml
shop = "boulangerie-martin"        # the shop's id: lower-case letters, digits, dashes
program = "bakery"                 # an example program (bakery, fashion-boutique, grocery), or the
                                   # name of a program file put next to this one ("programme.toml")
mqtt_host = "boulangerie-hub.local"  # optional: the name kiosks use to reach the hub
hostname = "boulangerie-hub"       # optional: this machine's name (default: <shop>-hub)
kiosks = ["comptoir", "terrasse"]  # optional: kiosks to add now; their files are written to the boot
                                   # partition's fidelio-kiosks/ folder, to copy onto each kiosk's card

[admin]                            # optional: the first account of the staff web (role admin)
name = "marie"
password = "at least 10 characters"
```

On a card that already holds this shop's hub, the file only adds the kiosks it lists that are not there
yet (and the admin account, if new): how an installer adds a kiosk later without a keyboard. It is
removed from the boot partition once read (the admin password is in it).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from fidelio.contract.topics import valid_id

_KEYS = {"shop", "program", "mqtt_host", "hostname", "kiosks", "admin"}
HOSTNAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})*$")
_PROGRAM_FILE = re.compile(r"^[A-Za-z0-9_-]+\.toml$")


class HubFileError(ValueError):
    """What is wrong with fidelio-hub.toml, in French and English."""


@dataclass(frozen=True)
class HubFile:
    shop: str
    program: str | None
    hostname: str
    mqtt_host: str
    kiosks: tuple[str, ...] = ()
    admin: tuple[str, str] | None = None  # (name, password) of the staff web's first admin


def _fail(fr: str, en: str) -> HubFileError:
    return HubFileError(f"fidelio-hub.toml : {fr} / fidelio-hub.toml: {en}")


def parse_hub_file(text: str) -> HubFile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _fail(f"TOML invalide ({exc})", f"invalid TOML ({exc})") from None
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise _fail(f"clé inconnue {unknown}", f"unknown key {unknown}")
    shop = data.get("shop")
    if not isinstance(shop, str) or not valid_id(shop):
        raise _fail(
            "« shop » manquant ou invalide (lettres minuscules, chiffres, tirets)",
            "'shop' missing or invalid (lower-case letters, digits, dashes)",
        )
    program = data.get("program")
    if program is not None and (not isinstance(program, str) or not program):
        raise _fail("« program » doit être un nom", "'program' must be a name")
    hostname = data.get("hostname", f"{shop}-hub"[:63].rstrip("-"))
    if not isinstance(hostname, str) or not HOSTNAME.match(hostname):
        raise _fail(
            "« hostname » : lettres minuscules, chiffres, tirets (63 au plus)",
            "'hostname': lower-case letters, digits, dashes (at most 63)",
        )
    mqtt_host = data.get("mqtt_host", f"{hostname}.local")
    if not isinstance(mqtt_host, str) or not _HOST.match(mqtt_host):
        raise _fail("« mqtt_host » n'est pas un nom d'hôte", "'mqtt_host' is not a host name")
    kiosks = data.get("kiosks", [])
    if not isinstance(kiosks, list) or not all(isinstance(k, str) and valid_id(k) for k in kiosks):
        raise _fail(
            "« kiosks » : une liste de noms de bornes (lettres minuscules, chiffres, tirets)",
            "'kiosks': a list of kiosk names (lower-case letters, digits, dashes)",
        )
    if len(set(kiosks)) != len(kiosks):
        raise _fail("« kiosks » : un nom est en double", "'kiosks': a name is there twice")
    return HubFile(shop, program, hostname, mqtt_host, tuple(kiosks), _admin(data.get("admin")))


def _admin(admin: object) -> tuple[str, str] | None:
    if admin is None:
        return None
    if not isinstance(admin, dict) or set(admin) != {"name", "password"}:
        raise _fail(
            "[admin] contient « name » et « password », rien d'autre",
            "[admin] holds 'name' and 'password', nothing else",
        )
    name, password = admin["name"], admin["password"]
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,31}", name):
        raise _fail(
            "[admin] name : lettres minuscules, chiffres, . _ -",
            "[admin] name: lower-case letters, digits, . _ -",
        )
    if not isinstance(password, str) or len(password) < 10 or "\n" in password:
        raise _fail(
            "[admin] password : 10 caractères au moins, sur une ligne",
            "[admin] password: at least 10 characters, on one line",
        )
    return name, password


def program_path(hub: HubFile, boot: Path, examples: Path) -> Path | None:
    """The program file `init` gets: a file beside the hub file on the boot partition, or an example
    shipped with the image; None for the demo program. Raises HubFileError when it does not exist."""
    if hub.program is None:
        return None
    if _PROGRAM_FILE.match(hub.program):
        path = boot / hub.program
    elif re.fullmatch(r"[a-z0-9-]+", hub.program):
        path = examples / f"{hub.program}.toml"
    else:
        path = None
    if path is None or not path.is_file():
        known = ", ".join(sorted(p.stem for p in examples.glob("*.toml"))) or "-"
        raise _fail(
            f"programme « {hub.program} » introuvable (exemples : {known} ; ou un fichier .toml à côté)",
            f"program '{hub.program}' not found (examples: {known}; or a .toml file next to this one)",
        )
    return path
