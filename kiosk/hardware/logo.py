"""The shop's logo made ready for paper or screen: flattened on white, grey, scaled to fit the printable
width and a third of it in height (a square logo must not eat the roll), centred on a full-width strip."""

from __future__ import annotations

import io

from PIL import Image

from kiosk.hardware.voucher_layout import Logo

HEIGHT_RATIO = 3  # at most width / 3 tall


def logo_image(logo: Logo, width: int) -> Image.Image:
    """A grey-scale ("L") image exactly `width` dots wide, the logo centred in it. Raises OSError
    (Pillow's UnidentifiedImageError is one) when the file is missing or not an image."""
    source = io.BytesIO(logo.png) if isinstance(logo.png, bytes) else logo.png
    with Image.open(source) as img:
        rgba = img.convert("RGBA")
    flat = Image.new("RGBA", rgba.size, "white")
    flat.alpha_composite(rgba)  # transparent parts print as paper, not black
    gray = flat.convert("L")
    scale = min(width / gray.width, max(1, width // HEIGHT_RATIO) / gray.height)
    size = (max(1, round(gray.width * scale)), max(1, round(gray.height * scale)))
    strip = Image.new("L", (width, size[1]), 255)
    strip.paste(gray.resize(size, Image.Resampling.LANCZOS), ((width - size[0]) // 2, 0))
    return strip
