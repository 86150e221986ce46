"""The python-escpos Network backend against a loopback printer on a TCP port: status, paper out, spool."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from escpos.printer import File, Network

from hub.codes import new_voucher_code
from kiosk.hardware.printer import EscposReceiptPrinter, PrinterState, VoucherSpool, print_voucher
from kiosk.hardware.socket_printer_sim import SocketPrinterSim
from kiosk.hardware.voucher_layout import voucher_layout


def voucher() -> dict:
    return {
        "code": new_voucher_code(os.urandom(10)),
        "name": {"fr": "Café offert", "en": "Free coffee"},
        "value": {"kind": "free_product", "product": {"fr": "Un café", "en": "A coffee"}},
        "expires": "2026-12-24T09:15:00.000000Z",
    }


@pytest.fixture
def sim():
    printer = SocketPrinterSim()
    yield printer
    printer.close()


def network_printer(sim: SocketPrinterSim) -> EscposReceiptPrinter:
    return EscposReceiptPrinter(
        "comptoir", lambda: Network("127.0.0.1", sim.port, timeout=5, profile="TM-T88V"), paper_mm=80
    )


def layout(v: dict) -> list:
    return voucher_layout("Boulangerie Élise", v)


def test_prints_over_the_network_and_the_bytes_read_back(sim: SocketPrinterSim, tmp_path: Path):
    spool = VoucherSpool(tmp_path / "spool.sqlite")
    v = voucher()
    assert print_voucher(network_printer(sim), spool, v, layout) is None
    text = bytes(sim.received).decode("cp858", errors="replace")
    assert "Café offert" in text and v["code"] in text and "Un café" in text
    assert spool.pending() == [] and spool.last()["code"] == v["code"]


@pytest.mark.parametrize(
    ("paper", "online", "state"),
    [
        ("out", True, PrinterState.PAPER_OUT),
        ("ok", False, PrinterState.OFFLINE),
        ("low", True, PrinterState.PAPER_LOW),
    ],
)
def test_status_is_read_with_dle_eot(sim: SocketPrinterSim, paper, online, state):
    sim.paper, sim.online = paper, online
    assert network_printer(sim).state() is state


def test_paper_out_keeps_the_voucher_and_prints_it_once_paper_is_back(sim: SocketPrinterSim, tmp_path: Path):
    spool = VoucherSpool(tmp_path / "spool.sqlite")
    printer = network_printer(sim)
    sim.paper = "out"
    v = voucher()
    problem = print_voucher(printer, spool, v, layout)
    assert problem is not None and problem.state is PrinterState.PAPER_OUT
    assert "Plus de papier" in problem.fr and "Out of paper" in problem.en
    assert v["code"] not in bytes(sim.received).decode("cp858", errors="replace")
    # the kiosk restarts meanwhile: the spool is on disk
    spool = VoucherSpool(tmp_path / "spool.sqlite")
    assert [p["code"] for p in spool.pending()] == [v["code"]]
    sim.paper = "ok"
    for pending in spool.pending():
        assert print_voucher(printer, spool, pending, layout) is None
    assert spool.pending() == []
    assert v["code"] in bytes(sim.received).decode("cp858", errors="replace")


def test_an_unreachable_printer_is_said_so(tmp_path: Path):
    dead = SocketPrinterSim()
    port = dead.port
    dead.close()
    printer = EscposReceiptPrinter("x", lambda: Network("127.0.0.1", port, timeout=1, profile="TM-T88V"))
    assert printer.state() is PrinterState.UNREACHABLE
    problem = print_voucher(printer, VoucherSpool(tmp_path / "s.sqlite"), voucher(), layout)
    assert problem is not None and problem.state is PrinterState.UNREACHABLE


def test_file_backend_58mm(tmp_path: Path):
    out = tmp_path / "lp0"
    printer = EscposReceiptPrinter(
        "file", lambda: File(str(out), profile="TM-T88V"), paper_mm=58, answers_status=False
    )
    v = voucher()
    assert print_voucher(printer, VoucherSpool(tmp_path / "s.sqlite"), v, layout) is None
    text = out.read_bytes().decode("cp858", errors="replace")
    assert v["code"] in text and "-" * 32 + "\n" in text and "-" * 48 not in text
