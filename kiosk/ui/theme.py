"""Colours and sizes for one window size: every length is `u` (1 at 800×480) times a design size, so a
1280×800 screen gets bigger type and targets, a portrait screen the same scale as its landscape twin."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.ui.branding import Branding, shade, text_on

BASE_SHORT_SIDE = 480  # the design's reference: 800×480


@dataclass(frozen=True)
class Theme:
    branding: Branding
    width: int
    height: int

    # customer screens: dark text on light surfaces
    background: str = "#F3F5F7"
    surface: str = "#FFFFFF"
    text: str = "#111111"
    muted: str = "#46515C"
    secondary: str = "#DDE2E7"  # secondary buttons ("Retour")
    unavailable: str = "#E4E7EA"  # rewards out of reach
    warning: str = "#8E1B1B"  # offline banner, print problems (white text)
    notice: str = "#FFF1C2"  # a notice over a screen (dark text)
    why_not: str = "#8E1B1B"
    # staff screens: light text on dark surfaces
    staff_background: str = "#1C2731"
    staff_surface: str = "#2D3C49"
    staff_text: str = "#FFFFFF"
    staff_good: str = "#1E6B3A"

    @property
    def u(self) -> float:
        return min(self.width, self.height) / BASE_SHORT_SIDE

    @property
    def portrait(self) -> bool:
        return self.height > self.width

    def px(self, design: float) -> float:
        return design * self.u

    # type sizes (px)
    @property
    def small(self) -> float:
        return self.px(17)

    @property
    def body(self) -> float:
        return self.px(21)

    @property
    def large(self) -> float:
        return self.px(28)

    @property
    def title(self) -> float:
        return self.px(34)

    @property
    def huge(self) -> float:
        return self.px(50)

    # targets (px): actions ≥ 64 px high at 800×480; keyboard keys ≥ 48 px
    @property
    def target(self) -> float:
        return self.px(64)

    @property
    def key(self) -> float:
        return self.px(48)

    @property
    def gap(self) -> float:
        return self.px(8)

    @property
    def header(self) -> float:
        return self.px(64)

    @property
    def banner(self) -> float:
        return self.px(40)

    # brand colours and what reads on them
    @property
    def primary(self) -> str:
        return self.branding.primary

    @property
    def on_primary(self) -> str:
        return text_on(self.branding.primary)

    @property
    def accent(self) -> str:
        return self.branding.accent

    @property
    def on_accent(self) -> str:
        return text_on(self.branding.accent)

    @staticmethod
    def pressed(colour: str) -> str:
        return shade(colour, 0.8)
