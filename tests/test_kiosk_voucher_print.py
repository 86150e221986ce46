"""Vouchers on paper and on screen: real ESC/POS bytes (python-escpos), a PNG whose QR decodes back."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
import zxingcpp
from escpos.printer import Dummy
from PIL import Image, ImageDraw

from hub.codes import new_voucher_code
from kiosk.hardware.escpos_render import render_escpos
from kiosk.hardware.png_render import render_png
from kiosk.hardware.voucher_layout import Logo, voucher_layout

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


GS_V0 = b"\x1dv0"  # GS v 0: print a raster bit image (python-escpos draws the QR code as one, too)


@pytest.fixture
def logo_png(tmp_path: Path) -> Path:
    """A wide shop logo with a transparent background, as shops have them."""
    img = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.ellipse((10, 10, 190, 190), fill=(120, 60, 20, 255))
    draw.rectangle((220, 60, 590, 140), fill=(0, 0, 0, 255))
    path = tmp_path / "logo.png"
    img.save(path)
    return path


def rasters(raw: bytes) -> list[tuple[int, int, int]]:
    """(offset, bytes across, dots high) of each GS v 0 image, walking over each one's data."""
    found, at = [], 0
    while (at := raw.find(GS_V0, at)) != -1:
        across, high = raw[at + 4] | raw[at + 5] << 8, raw[at + 6] | raw[at + 7] << 8
        found.append((at, across, high))
        at += 8 + across * high
    return found


def test_the_logo_prints_as_a_raster_image_scaled_to_the_paper(logo_png: Path):
    voucher = a_voucher()
    for paper, across in ((80, 512 // 8), (58, 336 // 8)):  # TM-T88V: 512 dots on 80 mm, pro rata on 58
        plain, from_path, from_bytes = (Dummy(profile="TM-T88V") for _ in range(3))
        render_escpos(plain, voucher_layout("Boulangerie Élise", voucher), paper)
        render_escpos(from_path, voucher_layout("Boulangerie Élise", voucher, logo=Logo(logo_png)), paper)
        render_escpos(
            from_bytes, voucher_layout("Boulangerie Élise", voucher, logo=Logo(logo_png.read_bytes())), paper
        )
        raw = from_path.output
        assert len(rasters(plain.output)) == 1 and len(rasters(raw)) == 2  # the QR; the logo and the QR
        assert raw == from_bytes.output
        at, width_bytes, height = rasters(raw)[0]
        assert at < raw.index(b"Boulangerie") < rasters(raw)[1][0]  # the logo heads the voucher
        assert width_bytes == across and height == across * 8 // 3  # 3:1, so a third of the width high
        assert any(raw[at + 8 : at + 8 + width_bytes * height])  # black dots: not a blank strip
        assert voucher["code"] in raw.decode("cp858", errors="replace")


def test_an_unreadable_logo_leaves_the_voucher_printable(tmp_path: Path):
    printer = Dummy(profile="TM-T88V")
    layout = voucher_layout("Boulangerie Élise", a_voucher(), logo=Logo(tmp_path / "missing.png"))
    render_escpos(printer, layout, 80)
    assert len(rasters(printer.output)) == 1 and b"\x1dkI" in printer.output  # QR and Code 128 only
    assert Image.open(io.BytesIO(render_png(layout))).height > 0


def test_png_preview_is_taller_with_the_logo_and_its_qr_still_decodes(logo_png: Path):
    voucher = a_voucher()
    plain = Image.open(io.BytesIO(render_png(voucher_layout("Boulangerie Élise", voucher))))
    png = render_png(voucher_layout("Boulangerie Élise", voucher, logo=Logo(logo_png)))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "voucher-logo-fr.png").write_bytes(png)
    image = Image.open(io.BytesIO(png))
    assert image.width == 576 and image.height > plain.height + 100
    assert voucher["code"] in [r.text for r in zxingcpp.read_barcodes(image)]
