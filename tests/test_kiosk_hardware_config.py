"""Hardware configuration: strict, and each kind builds its driver."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from kiosk.hardware.config import HardwareConfig, build_printer, build_reader
from kiosk.hardware.hid import HidReader
from kiosk.hardware.nfc import NfcReader
from kiosk.hardware.pcsc import PcscReader
from kiosk.hardware.printer import PrinterState
from kiosk.hardware.reader import SimulatedReader

CONFIG = """
paper_mm = 58
[[readers]]
kind = "pcsc"
reader_pattern = "ACS ACR122"
[[readers]]
kind = "hid"
format = "hex"
reverse = true
[[readers]]
kind = "nfc"
device = "usb:072f:2200"
[[readers]]
kind = "simulated"
[printer]
kind = "file"
path = "{path}"
"""


def test_a_full_configuration_builds_its_drivers(tmp_path: Path):
    out = tmp_path / "lp0"
    cfg = HardwareConfig.model_validate(tomllib.loads(CONFIG.format(path=out)))
    readers = [build_reader(r) for r in cfg.readers]
    assert [type(r) for r in readers] == [PcscReader, HidReader, NfcReader, SimulatedReader]
    assert readers[2].device == "usb:072f:2200"  # type: ignore[attr-defined]
    printer = build_printer(cfg)
    assert printer is not None and printer.state() is PrinterState.READY
    printer.print_blocks([])
    assert out.read_bytes().startswith(b"\x1bt\x13")  # CP858 pinned, then the cut


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('[[readers]]\nkind = "pcsc"\nreader_patern = "x"\n', "reader_patern"),  # typo: unknown key
        ('[[readers]]\nkind = "nfcpy"\n', "kind"),
        ('[[readers]]\nkind = "nfc"\ndevice = "ubs:072f"\n', "device"),  # typo: refused, not searched
        ('[[readers]]\nkind = "nfc"\npath = "usb"\n', "path"),
        ('[[readers]]\nkind = "simulated"\n[printer]\nkind = "simulated"\nout = "/tmp"\n', "out"),
        ('[[readers]]\nkind = "simulated"\n[printer]\nkind = "network"\n', "host"),
        (
            '[[readers]]\nkind = "simulated"\n[printer]\nkind = "usb"\nvendor_id = 70000\nproduct_id = 1\n',
            "vendor_id",
        ),
        ("readers = []\n", "readers"),
        ('paper_mm = 76\n[[readers]]\nkind = "simulated"\n', "paper_mm"),
    ],
)
def test_mistakes_are_refused(text: str, where: str):
    with pytest.raises(ValidationError) as info:
        HardwareConfig.model_validate(tomllib.loads(text))
    assert where in str(info.value)


@pytest.mark.parametrize("device", ["usb", "usb:072f", "usb:072f:2200", "usb:001:023", "tty:USB0:pn532",
                                    "udp", "udp:127.0.0.1:54321", "udp:localhost"])  # fmt: skip
def test_nfcpy_device_paths_are_accepted(device: str):
    cfg = HardwareConfig.model_validate({"readers": [{"kind": "nfc", "device": device}]})
    assert build_reader(cfg.readers[0]).device == device  # type: ignore[attr-defined]


def test_usb_and_serial_printers_are_built_without_opening_a_device():
    for printer_cfg, name in (
        ({"kind": "usb", "vendor_id": 0x04B8, "product_id": 0x0202}, "usb 04b8:0202"),
        ({"kind": "serial", "device": "/dev/ttyUSB7", "baudrate": 9600}, "/dev/ttyUSB7"),
    ):
        cfg = HardwareConfig.model_validate({"readers": [{"kind": "simulated"}], "printer": printer_cfg})
        printer = build_printer(cfg)
        assert printer is not None and printer.name == name
        assert printer.state() is PrinterState.UNREACHABLE  # no such device here: said, not crashed
