"""`wifi.toml` on the boot partition -> NetworkManager's keyfile. Pure: parse, validate, render.

```toml
ssid = "Boulangerie Martin"
psk = "the Wi-Fi password"    # 8 to 63 characters, or 64 hex digits; leave it out for an open network
country = "FR"                 # two letters: the radio rules of the country the shop is in
hidden = false                 # optional: the network does not broadcast its name
```
"""

from __future__ import annotations

import re
import tomllib
import uuid
from dataclasses import dataclass

_KEYS = {"ssid", "psk", "country", "hidden"}
_HEX64 = re.compile(r"^[0-9A-Fa-f]{64}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
#: SSID characters written as text in the keyfile; any other SSID is written as its bytes (NM's "1;2;3;").
_PLAIN_SSID = re.compile(r"^[A-Za-z0-9 _.@+'()\-]+$")
#: A fixed namespace: the same SSID always gets the same connection UUID (re-provisioning replaces it).
_NAMESPACE = uuid.UUID("5b0f3b5e-5f2a-4c1e-9a64-6e1d2c0f1d10")


class WifiError(ValueError):
    """What is wrong with wifi.toml, in French and English."""


@dataclass(frozen=True)
class Wifi:
    ssid: str
    psk: str | None
    country: str
    hidden: bool = False


def _fail(fr: str, en: str) -> WifiError:
    return WifiError(f"wifi.toml : {fr} / wifi.toml: {en}")


def parse_wifi(text: str) -> Wifi:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _fail(f"TOML invalide ({exc})", f"invalid TOML ({exc})") from None
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise _fail(f"clé inconnue {unknown}", f"unknown key {unknown}")
    ssid = data.get("ssid")
    if not isinstance(ssid, str) or not ssid:
        raise _fail("« ssid » (le nom du réseau Wi-Fi) manquant", "'ssid' (the Wi-Fi network's name) missing")
    if len(ssid.encode()) > 32 or any(not c.isprintable() for c in ssid):
        raise _fail(
            "« ssid » : 32 octets au plus, sans caractère de contrôle",
            "'ssid': at most 32 bytes, no control characters",
        )
    psk = data.get("psk")
    if psk is not None:
        if not isinstance(psk, str):
            raise _fail("« psk » doit être du texte", "'psk' must be text")
        ascii_ok = psk.isascii() and all(" " <= c <= "~" for c in psk)
        if not (_HEX64.match(psk) or (8 <= len(psk) <= 63 and ascii_ok)):
            raise _fail(
                "« psk » : le mot de passe Wi-Fi fait de 8 à 63 caractères (sans accent) ou 64 chiffres hexadécimaux",
                "'psk': the Wi-Fi password is 8 to 63 characters (no accents) or 64 hex digits",
            )
    country = data.get("country")
    if not isinstance(country, str) or not _COUNTRY.match(country.upper()):
        raise _fail(
            "« country » : le pays en deux lettres, par exemple FR, BE, CH",
            "'country': the country in two letters, e.g. FR, BE, CH",
        )
    hidden = data.get("hidden", False)
    if not isinstance(hidden, bool):
        raise _fail("« hidden » vaut true ou false", "'hidden' is true or false")
    return Wifi(ssid, psk, country.upper(), hidden)


def _escape(value: str) -> str:
    """GLib key-file escaping (NetworkManager's keyfile is one)."""
    out = value.replace("\\", "\\\\")
    if out.startswith(" "):
        out = "\\s" + out[1:]
    return out


def _ssid_value(ssid: str) -> str:
    if _PLAIN_SSID.match(ssid) and not ssid.startswith(" ") and not ssid.endswith(" "):
        return ssid
    return "".join(f"{b};" for b in ssid.encode())


def nm_keyfile(wifi: Wifi) -> str:
    """The `.nmconnection` keyfile NetworkManager reads from /etc/NetworkManager/system-connections
    (it must be root's, mode 0600, or NetworkManager ignores it)."""
    lines = [
        "[connection]",
        "id=fidelio-wifi",
        f"uuid={uuid.uuid5(_NAMESPACE, wifi.ssid)}",
        "type=wifi",
        "autoconnect=true",
        "",
        "[wifi]",
        "mode=infrastructure",
        f"ssid={_ssid_value(wifi.ssid)}",
        f"hidden={'true' if wifi.hidden else 'false'}",
        "",
    ]
    if wifi.psk is not None:
        lines += ["[wifi-security]", "key-mgmt=wpa-psk", f"psk={_escape(wifi.psk)}", ""]
    lines += ["[ipv4]", "method=auto", "", "[ipv6]", "method=auto", "addr-gen-mode=default", ""]
    return "\n".join(lines)


def country_modprobe(wifi: Wifi) -> str:
    """The radio's regulatory domain, set when the Wi-Fi stack loads (channels allowed in that country)."""
    return f"# Written by Fidelio's first boot from wifi.toml\noptions cfg80211 ieee80211_regdom={wifi.country}\n"
