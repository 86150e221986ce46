"""Doctor checks that need no daemon: the kernel module trap, permissions, a ready printer's test print."""

from __future__ import annotations

import os
from pathlib import Path

from kiosk.doctor import check_hid, check_pcsc, check_pn533, check_printer
from kiosk.doctor_cli import printer_from_spec
from kiosk.hardware.socket_printer_sim import SocketPrinterSim


def test_pn533_holding_the_reader_is_named_with_the_fix(tmp_path: Path):
    modules = tmp_path / "modules"
    modules.write_text("pn533_usb 20480 0 - Live 0x0\npn533 45056 1 pn533_usb, Live 0x0\nnfc 1 0 - Live\n")
    [finding] = check_pn533(modules)
    assert (
        finding.level == "fail"
        and "pn533, pn533_usb" in finding.fr
        and "blacklist-pn533.conf" in finding.fix_en
    )
    modules.write_text("ext4 1 0 - Live\n")
    assert check_pn533(modules)[0].level == "ok"


def test_no_reader_and_unreadable_hid(tmp_path: Path):
    findings, names = check_pcsc(lambda: [])
    assert names == [] and findings[0].level == "warn"
    locked = tmp_path / "event7"
    locked.write_text("")
    locked.chmod(0o000)
    if os.geteuid() != 0:  # root reads anything: the permission case only means something for the kiosk user
        assert check_hid(str(locked))[0].level == "fail"
    assert check_hid(str(tmp_path / "missing"))[0].level == "warn"


def test_ready_printer_prints_the_test_voucher():
    sim = SocketPrinterSim()
    try:
        printer = printer_from_spec(f"tcp:127.0.0.1:{sim.port}", 58)
        findings = check_printer(printer, lambda: printer.print_blocks([]))
        assert [f.level for f in findings] == ["ok", "ok"]
    finally:
        sim.close()
