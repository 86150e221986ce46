"""Doctor checks that need no daemon: the kernel module trap, permissions, a ready printer's test print."""

from __future__ import annotations

import errno
import os
import socket
import threading
from pathlib import Path

from kiosk.cli import main
from kiosk.doctor import check_hid, check_nfc, check_pcsc, check_pn533, check_printer
from kiosk.doctor_cli import printer_from_spec
from kiosk.hardware.nfc_udp_tag import UdpTag
from kiosk.hardware.socket_printer_sim import SocketPrinterSim


def test_pn533_holding_the_reader_is_named_with_the_fix(tmp_path: Path):
    modules = tmp_path / "modules"
    modules.write_text("pn533_usb 20480 0 - Live 0x0\npn533 45056 1 pn533_usb, Live 0x0\nnfc 1 0 - Live\n")
    [finding] = check_pn533(modules)
    assert (
        finding.level == "fail"
        and "pn533, pn533_usb" in finding.fr
        and "neither pcscd nor nfcpy" in finding.en
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


def test_nfc_reader_missing_busy_or_there():
    [missing] = check_nfc("usb:ffff:ffff")  # nfcpy's real USB search: no such reader
    assert missing.level == "fail" and "Aucun lecteur NFC (nfcpy) sur « usb:ffff:ffff »" in missing.fr
    assert "pcscd" in missing.fix_en and "pn533" in missing.fix_en

    def held_by_pcscd(device: str) -> str:  # what nfcpy raises when pcscd has claimed the USB reader
        raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))

    [busy] = check_nfc("usb:072f:2200", held_by_pcscd)
    assert busy.level == "fail" and "pcscd's or nfcpy's, never both" in busy.fix_en
    [there] = check_nfc("udp:127.0.0.1:54321")
    assert there.level == "ok" and "UDP at udp:127.0.0.1:54321" in there.en


def test_doctor_reads_a_tap_on_an_nfcpy_reader(capsys):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cards: list[UdpTag] = []
    tapper = threading.Timer(0.5, lambda: cards.append(UdpTag(bytes.fromhex("04A1B2C3"), port)))
    tapper.start()
    try:
        main(["doctor", "--nfc", f"udp:127.0.0.1:{port}", "--tap", "8"])
    finally:
        tapper.join()
        for card in cards:
            card.remove()
    out = capsys.readouterr().out
    assert f"Lecteur NFC (nfcpy) : Linux IP-Stack UDP at udp:127.0.0.1:{port}" in out
    assert "Carte lue : pcsc:04A1B2C3 (nfc)" in out
