"""The simulated printer of the demo and the kiosk app: the voucher as a PNG (on screen, and in a
directory), and paper out or offline injected by hand, refused exactly like the real printer."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from hub.codes import new_voucher_code
from kiosk.hardware.config import HardwareConfig, build_printer
from kiosk.hardware.printer import PrinterError, PrinterState, VoucherSpool, print_voucher
from kiosk.hardware.simulated_printer import SimulatedPrinter
from kiosk.hardware.voucher_layout import voucher_layout


def voucher() -> dict:
    return {
        "code": new_voucher_code(os.urandom(10)),
        "name": {"fr": "Café offert", "en": "Free coffee"},
        "value": {"kind": "free_product", "product": {"fr": "Un café", "en": "A coffee"}},
        "expires": "2026-12-24T09:15:00.000000Z",
    }


def layout(v: dict) -> list:
    return voucher_layout("Boulangerie Élise", v)


def decoded(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_each_voucher_is_a_png_in_the_directory_and_on_screen(tmp_path: Path):
    shown: list[bytes] = []
    printer = SimulatedPrinter(tmp_path / "vouchers", on_print=shown.append)
    spool = VoucherSpool(tmp_path / "spool.sqlite")
    first, second = voucher(), voucher()
    assert print_voucher(printer, spool, first, layout) is None
    assert print_voucher(printer, spool, second, layout) is None
    files = sorted((tmp_path / "vouchers").iterdir())
    assert [f.name for f in files] == ["voucher-00001.png", "voucher-00002.png"]
    assert printer.last_path == files[1] and printer.last_png == files[1].read_bytes() == shown[1]
    assert decoded(files[0].read_bytes()) == [first["code"]] and decoded(shown[1]) == [second["code"]]
    assert spool.pending() == [] and printer.printed == 2
    again = SimulatedPrinter(tmp_path / "vouchers")  # the kiosk restarted: earlier files are kept
    again.print_blocks(layout(voucher()))
    assert again.last_path is not None and again.last_path.name == "voucher-00003.png"


def test_paper_out_is_refused_like_the_real_printer_and_prints_once_paper_is_back(tmp_path: Path):
    printer = SimulatedPrinter(tmp_path / "vouchers")
    spool = VoucherSpool(tmp_path / "spool.sqlite")
    printer.set_state(PrinterState.PAPER_OUT)
    assert printer.state() is PrinterState.PAPER_OUT
    v = voucher()
    problem = print_voucher(printer, spool, v, layout)
    assert problem is not None and problem.state is PrinterState.PAPER_OUT and "Plus de papier" in problem.fr
    assert printer.last_png is None and not (tmp_path / "vouchers").exists()
    assert [p["code"] for p in spool.pending()] == [v["code"]]
    printer.set_state(PrinterState.PAPER_LOW)  # a new roll soon: it still prints
    for pending in spool.pending():
        assert print_voucher(printer, spool, pending, layout) is None
    assert spool.pending() == [] and printer.last_png is not None and decoded(printer.last_png) == [v["code"]]


@pytest.mark.parametrize("state", [PrinterState.OFFLINE, PrinterState.UNREACHABLE])
def test_offline_and_unreachable_raise(state: PrinterState):
    printer = SimulatedPrinter()  # no directory: the PNG stays in memory, for the screen
    printer.set_state(state)
    with pytest.raises(PrinterError) as info:
        printer.print_blocks(layout(voucher()))
    assert info.value.state is state
    printer.set_state(PrinterState.READY)
    printer.print_blocks(layout(voucher()))
    assert printer.last_png is not None and printer.last_path is None


def test_configured_as_kind_simulated(tmp_path: Path):
    cfg = HardwareConfig.model_validate(
        {"readers": [{"kind": "simulated"}], "printer": {"kind": "simulated", "out_dir": str(tmp_path)}}
    )
    printer = build_printer(cfg)
    assert isinstance(printer, SimulatedPrinter) and printer.out_dir == tmp_path
    assert printer.state() is PrinterState.READY
    bare = build_printer(HardwareConfig.model_validate({"readers": [{"kind": "simulated"}],
                                                        "printer": {"kind": "simulated"}}))  # fmt: skip
    assert isinstance(bare, SimulatedPrinter) and bare.out_dir is None
