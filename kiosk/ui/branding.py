"""The shop's look on the kiosk: name, two colours and an optional logo (built by the kiosk's config)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
BLACK = "#111111"
PURE_BLACK = "#000000"
WHITE = "#FFFFFF"


@dataclass(frozen=True)
class Branding:
    shop_name: str
    primary: str = "#1F4E79"
    accent: str = "#F2A900"
    logo: Path | None = None

    def __post_init__(self) -> None:
        for name in ("primary", "accent"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _HEX.match(value):
                raise ValueError(f"Branding.{name} must be a colour such as #1F4E79, not {value!r}")
        if not self.shop_name.strip():
            raise ValueError("Branding.shop_name must not be empty")


def rgb(hex_colour: str) -> tuple[float, float, float]:
    """'#1F4E79' → (0.12, 0.31, 0.47), the 0..1 floats Kivy draws with."""
    if not _HEX.match(hex_colour):
        raise ValueError(f"not a #RRGGBB colour: {hex_colour!r}")
    return tuple(int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def rgba(hex_colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    return (*rgb(hex_colour), alpha)


def luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb(hex_colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio, 1..21 (text needs 4.5)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def text_on(background: str) -> str:
    """Near-black or white, whichever reads better on `background`; pure black on the few mid-tones where
    neither reaches 4.5:1 (pure black or white always does: at worst 4.58:1)."""
    dark, light = contrast(BLACK, background), contrast(WHITE, background)
    if dark >= light and dark >= 4.5:
        return BLACK
    if light >= 4.5:
        return WHITE
    return PURE_BLACK


def to_hex(colour: tuple[float, ...]) -> str:
    return "#" + "".join(f"{round(max(0.0, min(1.0, c)) * 255):02X}" for c in colour[:3])


def shade(hex_colour: str, factor: float) -> str:
    """Darker (factor < 1) or lighter towards white (factor > 1): the pressed look of a button."""
    r, g, b = rgb(hex_colour)
    if factor <= 1:
        return to_hex((r * factor, g * factor, b * factor))
    t = factor - 1
    return to_hex((r + (1 - r) * t, g + (1 - g) * t, b + (1 - b) * t))
