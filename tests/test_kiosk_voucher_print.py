"""Vouchers on paper and on screen: real ESC/POS bytes (python-escpos), a PNG whose QR decodes back."""

from __future__ import annotations

import io
import os
from pathlib import Path

import zxingcpp
from escpos.printer import Dummy
from PIL import Image

from hub.codes import new_voucher_code
from kiosk.hardware.escpos_render import render_escpos
from kiosk.hardware.png_render import render_png
from kiosk.hardware.voucher_layout import voucher_layout

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def a_voucher() -> dict:
    return {
        "code": new_voucher_code(os.urandom(10)),
        "reward": "cafe-offert",
        "name": {"fr": "Café offert", "en": "Free coffee"},
        "value": {"kind": "amount_off", "amount_cents": 500},
        "issued": "2026-11-24T09:15:00.000000Z",
        "expires": "2026-12-24T09:15:00.000000Z",
    }


def test_escpos_bytes_pin_cp858_and_say_it_in_french():
    voucher = a_voucher()
    for paper in (58, 80):
        printer = Dummy(profile="TM-T88V")
        render_escpos(printer, voucher_layout("Boulangerie Élise", voucher), paper_mm=paper)
        raw = printer.output
        assert b"\x1bt\x13" in raw  # ESC t 19: code page CP858, chosen once
        text = raw.decode("cp858", errors="replace")
        for expected in ("Boulangerie Élise", "Café offert", "5,00 € de remise", voucher["code"],
                         "Valable jusqu'au 24/12/2026", "BON DE FIDÉLITÉ"):  # fmt: skip
            assert expected in text, expected
        assert raw.rstrip().endswith(b"\x1dV\x00") or b"\x1dV" in raw[-8:]  # cut
        assert b"\x1dkI" in raw  # GS k 73: Code 128


def test_png_preview_qr_decodes_back_to_the_code():
    voucher = a_voucher()
    png = render_png(voucher_layout("Boulangerie Élise", voucher, "fr"))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "voucher-fr.png").write_bytes(png)
    (ARTIFACTS / "voucher-en.png").write_bytes(render_png(voucher_layout("Boulangerie Élise", voucher, "en")))
    image = Image.open(io.BytesIO(png))
    assert image.width == 576
    decoded = [r.text for r in zxingcpp.read_barcodes(image)]
    assert voucher["code"] in decoded
