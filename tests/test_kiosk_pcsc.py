"""The PC/SC reader on the real path: Debian's pcscd, vsmartcard's virtual reader, a virtual card that
answers GET UID over vpcd's socket — taps, resting cards, two cards, pcscd killed and restarted."""

from __future__ import annotations

import subprocess
import time

import pytest

from kiosk.hardware.pcsc import PcscReader
from kiosk.hardware.reader import CardEvent
from kiosk.hardware.vpcd_card import VirtualCard
from tests.support import PCSC_TEST_READER as READER
from tests.support import Pcscd, wait_until


@pytest.fixture(scope="module")
def pcscd():
    subprocess.run(["pkill", "-x", "pcscd"], check=False)  # one pcscd only: ours
    time.sleep(0.5)
    daemon = Pcscd()
    daemon.start()
    yield daemon
    daemon.kill()


@pytest.fixture
def reader(pcscd):
    events: list[CardEvent] = []
    r = PcscReader(reader_pattern=READER, poll_seconds=0.03)
    r.start(events.append)
    yield r, events
    r.stop()


def kinds(events: list[CardEvent]) -> list[tuple[str, str]]:
    return [(e.kind, e.token) for e in events]


def test_tap_rest_remove_retap(reader):
    _r, events = reader
    card = VirtualCard(bytes.fromhex("04A1B2C3D4E5F6"))
    assert wait_until(lambda: len(events) == 1, 5)
    time.sleep(0.5)  # resting on the reader: still one tap
    card.remove()
    assert wait_until(lambda: len(events) == 2, 5)
    again = VirtualCard(bytes.fromhex("04A1B2C3D4E5F6"))
    assert wait_until(lambda: len(events) == 3, 5)
    again.remove()
    assert wait_until(lambda: len(events) == 4, 5)
    token = "pcsc:04A1B2C3D4E5F6"
    assert kinds(events) == [("presented", token), ("removed", token)] * 2


def test_two_cards_in_a_row(reader):
    _r, events = reader
    for uid in ("0A0B0C0D", "11223344"):
        card = VirtualCard(bytes.fromhex(uid))
        assert wait_until(lambda u=uid: ("presented", f"pcsc:{u}") in kinds(events), 5)
        card.remove()
        assert wait_until(lambda u=uid: ("removed", f"pcsc:{u}") in kinds(events), 5)
    assert [t for k, t in kinds(events) if k == "presented"] == ["pcsc:0A0B0C0D", "pcsc:11223344"]


def test_the_reader_survives_pcscd_restarting(reader, pcscd):
    r, events = reader
    assert wait_until(lambda: r.health == "ok", 5)
    pcscd.kill()
    assert wait_until(lambda: r.errors > 0, 10), "the loop never noticed pcscd was gone"
    assert r.health == "error"  # said in the kiosk's status and on the staff screen
    pcscd.start()
    card = VirtualCard(bytes.fromhex("DEADBEEF"))
    assert wait_until(lambda: ("presented", "pcsc:DEADBEEF") in kinds(events), 10)
    assert wait_until(lambda: r.health == "ok", 5)  # set once the round that saw the card ends
    card.remove()
    assert r._thread is not None and r._thread.is_alive()


def test_doctor_with_a_reader_a_tap_and_a_printer_out_of_paper(pcscd, capsys):
    import threading

    from kiosk.cli import main
    from kiosk.hardware.socket_printer_sim import SocketPrinterSim

    printer = SocketPrinterSim()
    printer.paper = "out"
    tapper = threading.Timer(1.0, lambda: VirtualCard(bytes.fromhex("0A0B0C0D")))
    tapper.start()
    try:
        code = main(["doctor", "--tap", "8", "--printer", f"tcp:127.0.0.1:{printer.port}", "--test-print"])
    finally:
        tapper.join()
        printer.close()
    out = capsys.readouterr().out
    assert "Lecteur(s) PC/SC : Virtual PCD 00 00" in out
    assert "Carte lue : pcsc:0A0B0C0D" in out
    assert "Plus de papier" in out and code == 1  # paper out is a failure the staff must fix
    assert printer.jobs == []  # nothing was sent to a printer without paper


def test_doctor_without_pcscd_says_how_to_start_it(pcscd, capsys):
    from kiosk.cli import main

    pcscd.kill()
    try:
        code = main(["doctor", "--lang", "en"])
    finally:
        pcscd.start()
    out = capsys.readouterr().out
    assert code == 1 and "pcscd service does not answer" in out and "systemctl enable --now pcscd" in out
