"""Voucher layout → ESC/POS bytes with python-escpos. The code page is pinned to CP858 (€ and French
accents): left to itself python-escpos switches code pages character by character."""

from __future__ import annotations

from escpos.escpos import Escpos

from kiosk.hardware.voucher_layout import QR, Barcode128, Block, Rule, Text

CODE_PAGE = "CP858"
#: Characters per line in font A: 58 mm paper, 80 mm paper.
PAPER_COLUMNS = {58: 32, 80: 48}


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
    printer.set(align="left", bold=False, double_height=False, double_width=False)
    printer.cut()
