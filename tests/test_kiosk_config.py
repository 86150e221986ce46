"""The kiosk's configuration file: the bare provisioning file runs a kiosk; extra sections are strict."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import KioskConfigError, load_kiosk_config, parse_kiosk_config

PROVISIONING = """
shop = "boulangerie-martin"
kiosk = "comptoir"
[mqtt]
host = "hub.local"
port = 8883
username = "kiosk-comptoir"
password = "s3cret"
tls = false
"""


def write(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(PROVISIONING + extra, encoding="utf-8")
    return path


def test_bare_provisioning_file_has_a_default_for_everything(tmp_path: Path):
    config = load_kiosk_config(write(tmp_path))
    assert config.provisioning.kiosk == "comptoir"
    assert [r.kind for r in config.hardware.readers] == ["simulated"]
    assert config.hardware.printer is None
    assert (config.display.width, config.display.height, config.display.lang) == (800, 480, "fr")
    assert config.staff.pin is None and config.staff.cards == []
    assert config.storage.dir.name == "fidelio-kiosk"


def test_every_section_is_read(tmp_path: Path):
    extra = """
[hardware]
paper_mm = 58
[[hardware.readers]]
kind = "pcsc"
reader_pattern = "ACS"
[hardware.printer]
kind = "network"
host = "127.0.0.1"
[display]
shop_name = "Boulangerie Martin"
primary = "#112233"
width = 1024
height = 600
lang = "en"
[staff]
pin = "4821"
cards = ["pcsc:04AABBCC"]
[storage]
dir = "/tmp/kiosk-data"
"""
    config = load_kiosk_config(write(tmp_path, extra))
    assert config.hardware.paper_mm == 58 and config.hardware.readers[0].kind == "pcsc"
    assert config.display.shop_name == "Boulangerie Martin" and config.display.lang == "en"
    assert config.staff.pin == "4821" and config.staff.cards == ["pcsc:04AABBCC"]
    assert str(config.storage.dir) == "/tmp/kiosk-data"


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ("[display]\ncolour = 'red'\n", "[display.colour] clé inconnue / unknown key"),
        ("[display]\nprimary = 'blue'\n", "#RRGGBB"),
        ("[staff]\npin = '12'\n", "[staff.pin]"),
        ("[staff]\ncards = ['04AABBCC']\n", "not a card token"),
        ("[storage]\ndir = '/x'\nsize = 3\n", "[storage.size] clé inconnue"),
        ("[printer]\nkind = 'file'\n", "clé inconnue ['printer']"),
        ("display = 3\n", "must be a table"),
    ],
)
def test_mistakes_are_named_in_french_and_english(tmp_path: Path, extra: str, said: str):
    # top-level keys must come before the [mqtt] table in TOML: put them first
    path = tmp_path / "kiosk.toml"
    path.write_text(
        extra + PROVISIONING if not extra.startswith("[") else PROVISIONING + extra, encoding="utf-8"
    )
    with pytest.raises(KioskConfigError) as err:
        load_kiosk_config(path)
    assert said in str(err.value)


def test_missing_and_broken_files_are_explained(tmp_path: Path):
    with pytest.raises(KioskConfigError, match="fichier introuvable / file not found"):
        load_kiosk_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("shop = ", encoding="utf-8")
    with pytest.raises(KioskConfigError, match="TOML invalide / invalid TOML"):
        load_kiosk_config(bad)


def test_the_provisioning_part_stays_strict():
    with pytest.raises(KioskConfigError, match="section \\[mqtt\\] manquante"):
        parse_kiosk_config({"shop": "s", "kiosk": "k", "display": {}})


def test_the_kiosks_files_are_private_and_a_shared_directory_keeps_its_mode(tmp_path: Path):
    import os
    import stat

    from kiosk.app import build_kiosk

    shared = tmp_path / "data"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    config = load_kiosk_config(write(tmp_path, f"[storage]\ndir = '{shared}'\n"))
    runtime = build_kiosk(config)
    try:
        assert stat.S_IMODE(shared.stat().st_mode) == 0o755  # not locked away from other services
        for name in ("outbox.sqlite", "members.sqlite", "vouchers.sqlite"):
            assert stat.S_IMODE((shared / name).stat().st_mode) == 0o600, name
    finally:
        runtime.stop()
    fresh = tmp_path / "new" / "kiosk"
    runtime = build_kiosk(load_kiosk_config(write(tmp_path, f"[storage]\ndir = '{fresh}'\n")))
    runtime.stop()
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700
