"""The kiosk's provisioning file (DESIGN §3b), written by `fidelio-hub kiosk add`. Strict parsing."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fidelio.contract.topics import valid_id

_TOP = {"shop", "kiosk", "mqtt", "updates"}
_MQTT = {"host", "port", "username", "password", "tls", "ca"}
_UPDATES = {"url"}


class ProvisioningError(ValueError):
    pass


@dataclass(frozen=True)
class Provisioning:
    shop: str
    kiosk: str
    host: str
    port: int
    username: str
    password: str
    tls: bool
    ca: str | None
    #: the hub's software update endpoint (`[updates] url`, https), None in files made before it
    updates_url: str | None = None


def _fail(path: Path, fr: str, en: str) -> ProvisioningError:
    return ProvisioningError(f"{path}: {fr} / {en}")


def parse_provisioning(data: dict[str, Any], path: Path = Path("kiosk.toml")) -> Provisioning:
    unknown = set(data) - _TOP
    if unknown:
        raise _fail(path, f"clé inconnue {sorted(unknown)}", f"unknown key {sorted(unknown)}")
    mqtt = data.get("mqtt")
    if not isinstance(mqtt, dict):
        raise _fail(path, "section [mqtt] manquante", "missing [mqtt] section")
    unknown = set(mqtt) - _MQTT
    if unknown:
        raise _fail(
            path, f"clé inconnue dans [mqtt] {sorted(unknown)}", f"unknown key in [mqtt] {sorted(unknown)}"
        )
    for key in ("shop", "kiosk"):
        if not isinstance(data.get(key), str) or not valid_id(data[key]):
            raise _fail(path, f"« {key} » manquant ou invalide", f"'{key}' missing or invalid")
    for key in ("host", "username", "password"):
        if not isinstance(mqtt.get(key), str) or not mqtt[key]:
            raise _fail(path, f"[mqtt] {key} manquant", f"[mqtt] {key} missing")
    port = mqtt.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise _fail(path, "[mqtt] port invalide", "[mqtt] port is invalid")
    tls = mqtt.get("tls", True)
    if not isinstance(tls, bool):
        raise _fail(path, "[mqtt] tls doit valoir true ou false", "[mqtt] tls must be true or false")
    ca = mqtt.get("ca")
    if tls and (not isinstance(ca, str) or "BEGIN CERTIFICATE" not in ca):
        raise _fail(
            path,
            "[mqtt] ca : certificat de la boutique manquant",
            "[mqtt] ca: the shop's certificate is missing",
        )
    return Provisioning(
        data["shop"], data["kiosk"], mqtt["host"], port, mqtt["username"], mqtt["password"], tls, ca,
        _updates_url(data.get("updates"), path),
    )  # fmt: skip


def _updates_url(updates: object, path: Path) -> str | None:
    if updates is None:
        return None
    if not isinstance(updates, dict):
        raise _fail(path, "[updates] doit être une section", "[updates] must be a table")
    unknown = set(updates) - _UPDATES
    if unknown:
        raise _fail(
            path,
            f"clé inconnue dans [updates] {sorted(unknown)}",
            f"unknown key in [updates] {sorted(unknown)}",
        )
    url = updates.get("url")
    try:
        if not isinstance(url, str) or any(c.isspace() or not c.isprintable() for c in url):
            raise ValueError(url)
        parts = urlsplit(url)
        parts.port  # noqa: B018 (ValueError on a port that is no number or out of range)
        if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(url)
    except ValueError:
        raise _fail(
            path,
            "[updates] url : une adresse https://… du hub est requise",
            "[updates] url: an https://… address of the hub is required",
        ) from None
    return url


def load_provisioning(path: Path) -> Provisioning:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _fail(path, "fichier introuvable", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise _fail(path, f"TOML invalide ({exc})", f"invalid TOML ({exc})") from None
    return parse_provisioning(data, Path(path))
