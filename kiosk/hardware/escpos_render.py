"""Voucher layout → ESC/POS bytes with python-escpos. The code page is pinned to CP858 (€ and French
accents): left to itself python-escpos switches code pages character by character."""

from __future__ import annotations

import logging

from escpos.escpos import Escpos

from kiosk.hardware.logo import logo_image
from kiosk.hardware.voucher_layout import QR, Barcode128, Block, Logo, Rule, Text

log = logging.getLogger(__name__)
CODE_PAGE = "CP858"
#: Characters per line in font A: 58 mm paper, 80 mm paper.
PAPER_COLUMNS = {58: 32, 80: 48}
#: Printable dots across at 203 dpi, the common head (72 mm of 80 mm paper, 48 mm of 58 mm paper).
PAPER_DOTS = {58: 384, 80: 576}


def logo_dots(printer: Escpos, paper_mm: int) -> int:
    """Dots across the paper: the printer profile's 80 mm width when it knows it (a TM-T88V has 512
    at 180 dpi), in proportion for 58 mm; a whole number of bytes, as raster images are sent."""
    try:
        full = int(printer.profile.profile_data["media"]["width"]["pixels"])
    except (KeyError, TypeError, ValueError):  # the profile does not say: a 203 dpi head
        full = PAPER_DOTS[80]
    return full * PAPER_DOTS[paper_mm] // PAPER_DOTS[80] // 8 * 8


def _print_logo(printer: Escpos, logo: Logo, paper_mm: int) -> None:
    try:
        image = logo_image(logo, logo_dots(printer, paper_mm))
    except OSError as exc:  # a voucher without its logo beats no voucher
        log.warning("voucher logo unreadable; printed without it", extra={"error": str(exc)})
        return
    printer.image(image, impl="bitImageRaster")  # GS v 0, the raster command every ESC/POS printer has


def render_escpos(printer: Escpos, blocks: list[Block], paper_mm: int = 80) -> None:
    columns = PAPER_COLUMNS[paper_mm]
    printer.charcode(CODE_PAGE)
    for block in blocks:
        if isinstance(block, Text):
            large = block.size == "large"
            printer.set(
                align=block.align,
                bold=block.bold,
                double_height=large,
                double_width=large and len(block.text) * 2 <= columns,
            )
            printer.text(block.text + "\n")
        elif isinstance(block, Rule):
            printer.set(align="left", bold=False, double_height=False, double_width=False)
            printer.text("-" * columns + "\n")
        elif isinstance(block, QR):
            printer.set(align="center")
            printer.qr(block.data, size=6 if paper_mm == 80 else 4, center=True)
        elif isinstance(block, Barcode128):
            printer.barcode("{B" + block.data, "CODE128", function_type="B", pos="OFF", align_ct=True)
        elif isinstance(block, Logo):
            _print_logo(printer, block, paper_mm)
    printer.set(align="left", bold=False, double_height=False, double_width=False)
    printer.cut()
