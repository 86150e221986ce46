"""Voucher layout → PNG (Pillow, qrcode): the on-screen preview and the review copy of the paper."""

from __future__ import annotations

import io
import logging
import textwrap
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from kiosk.hardware.logo import logo_image
from kiosk.hardware.voucher_layout import QR, Barcode128, Block, Logo, Rule, Text

log = logging.getLogger(__name__)
WIDTH = 576  # dots across 80 mm paper at 203 dpi
MARGIN = 16
_FONT_CANDIDATES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf")


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in _FONT_CANDIDATES:
        try:
            return ImageFont.truetype(candidate, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def _qr_image(data: str, box: int = 8) -> Image.Image:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box, border=4)
    qr.add_data(data)
    return qr.make_image(fill_color="black", back_color="white").get_image().convert("L")


def render_png(blocks: list[Block]) -> bytes:
    parts: list[Image.Image] = []
    for block in blocks:
        if isinstance(block, Text):
            font = _font(40 if block.size == "large" else 22)
            width = 24 if block.size == "large" else 44
            for line in textwrap.wrap(block.text, width) or [""]:
                img = Image.new("L", (WIDTH, font.size + 14), 255)
                draw = ImageDraw.Draw(img)
                text_w = draw.textlength(line, font=font)
                x = (WIDTH - text_w) / 2 if block.align == "center" else 16
                draw.text((x, 6), line, font=font, fill=0)
                parts.append(img)
        elif isinstance(block, Rule):
            img = Image.new("L", (WIDTH, 16), 255)
            ImageDraw.Draw(img).line((16, 8, WIDTH - 16, 8), fill=0, width=2)
            parts.append(img)
        elif isinstance(block, QR):
            qr = _qr_image(block.data)
            img = Image.new("L", (WIDTH, qr.height), 255)
            img.paste(qr, ((WIDTH - qr.width) // 2, 0))
            parts.append(img)
        elif isinstance(block, Logo):
            try:
                logo = logo_image(block, WIDTH - 2 * MARGIN)
            except OSError as exc:  # as on paper: the voucher without its logo
                log.warning("voucher logo unreadable; drawn without it", extra={"error": str(exc)})
                continue
            img = Image.new("L", (WIDTH, logo.height + 12), 255)
            img.paste(logo, (MARGIN, 0))
            parts.append(img)
        elif isinstance(block, Barcode128):
            continue  # the QR carries the same code on screen; Code 128 is for the till's scanner on paper
    height = sum(p.height for p in parts) + 32
    page = Image.new("L", (WIDTH, height), 255)
    y = 16
    for part in parts:
        page.paste(part, (0, y))
        y += part.height
    out = io.BytesIO()
    page.save(out, format="PNG")
    return out.getvalue()


def save_png(blocks: list[Block], path: Path) -> Path:
    path.write_bytes(render_png(blocks))
    return path
