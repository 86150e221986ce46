"""wifi.toml -> NetworkManager keyfile: what is refused (with a reason in French and English) and how
awkward names and passwords are written so that NetworkManager reads back exactly what was typed."""

from __future__ import annotations

import pytest

from fidelio.appliance.wifi import Wifi, WifiError, nm_keyfile, parse_wifi


def _value(keyfile: str, key: str) -> str:
    return next(line.split("=", 1)[1] for line in keyfile.splitlines() if line.startswith(f"{key}="))


@pytest.mark.parametrize(
    ("text", "fr", "en"),
    [
        ('psk = "12345678"\ncountry = "FR"\n', "« ssid »", "'ssid'"),
        ('ssid = "x"\npsk = "1234567"\ncountry = "FR"\n', "8 à 63", "8 to 63"),
        ('ssid = "x"\npsk = "mot de passé"\ncountry = "FR"\n', "sans accent", "no accents"),
        ('ssid = "x"\ncountry = "France"\n', "deux lettres", "two letters"),
        ('ssid = "x"\ncountry = "FR"\npassword = "oops"\n', "clé inconnue", "unknown key"),
        ('ssid = "' + "é" * 17 + '"\ncountry = "FR"\n', "32 octets", "32 bytes"),
        ("ssid = \n", "TOML invalide", "invalid TOML"),
    ],
)
def test_refused_with_a_reason(text, fr, en):
    with pytest.raises(WifiError) as exc:
        parse_wifi(text)
    assert fr in str(exc.value) and en in str(exc.value)


def test_a_plain_network():
    wifi = parse_wifi('ssid = "Boulangerie"\npsk = "croissant"\ncountry = "ch"\n')
    assert wifi == Wifi("Boulangerie", "croissant", "CH")
    keyfile = nm_keyfile(wifi)
    assert _value(keyfile, "ssid") == "Boulangerie" and _value(keyfile, "psk") == "croissant"
    assert _value(keyfile, "type") == "wifi" and _value(keyfile, "autoconnect") == "true"
    assert _value(keyfile, "uuid") == _value(nm_keyfile(wifi), "uuid")  # stable: a new file replaces it


def test_awkward_names_are_written_as_bytes_and_passwords_escaped():
    wifi = Wifi("Café; #1 ", r"a\b;c #d", "FR", hidden=True)
    keyfile = nm_keyfile(wifi)
    ssid = _value(keyfile, "ssid")
    assert bytes(int(b) for b in ssid.rstrip(";").split(";")).decode() == "Café; #1 "
    assert _value(keyfile, "psk") == r"a\\b;c #d"  # GLib key file: only the backslash is escaped
    assert _value(keyfile, "hidden") == "true"
    assert _value(nm_keyfile(Wifi("x", " lead", "FR")), "psk") == r"\slead"


def test_a_64_hex_digit_key_is_accepted():
    key = "0123456789abcdef" * 4
    assert parse_wifi(f'ssid = "x"\npsk = "{key}"\ncountry = "FR"\n').psk == key
