"""Checks a laid-out widget tree the way a person would look at it: everything inside the window, no
text cut off, no two touch targets on top of each other, targets big enough, text readable on its
background (WCAG 4.5:1). Used by the screen tests on every screen, size and language; it only reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.ui.branding import contrast, to_hex
from kiosk.ui.widgets import HoldCorner

MIN_TARGET = 48.0  # px, the smaller side of anything touchable
MIN_CONTRAST = 4.5
SLACK = 1.0  # px of rounding
_COLOUR_TAG = re.compile(r"\[color=(#[0-9A-Fa-f]{6})\]")
_MARKUP = re.compile(r"\[/?[a-z]+(=[^\]]*)?\]")


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    def overlap(self, other: Rect) -> float:
        dx = min(self.x + self.w, other.x + other.w) - max(self.x, other.x)
        dy = min(self.y + self.h, other.y + other.h) - max(self.y, other.y)
        return dx * dy if dx > SLACK and dy > SLACK else 0.0


def describe(widget: Widget) -> str:
    name = getattr(widget, "name", "") or ""
    kind = type(widget).__name__
    text = getattr(widget, "text", "")
    plain = _MARKUP.sub("", text).replace("\n", " ") if isinstance(text, str) else ""
    excerpt = f" {plain[:40]!r}" if plain else ""
    return f"{name or '?'} ({kind}{excerpt})"


def window_rect(widget: Widget) -> Rect:
    x, y = widget.to_window(*widget.pos)
    return Rect(x, y, widget.width, widget.height)


def walk(widget: Widget) -> Iterator[tuple[Widget, list[Widget]]]:
    """Every widget shown (opacity > 0), with its ancestors, parents first."""
    stack: list[tuple[Widget, list[Widget]]] = [(widget, [])]
    while stack:
        node, ancestors = stack.pop()
        if node.opacity <= 0:
            continue
        yield node, ancestors
        for child in reversed(node.children):
            stack.append((child, [*ancestors, node]))


def background_of(widget: Widget, ancestors: list[Widget]) -> str | None:
    for candidate in [widget, *reversed(ancestors)]:
        bg = getattr(candidate, "bg", None)
        if bg:
            return bg
    return None


def check(root: Widget, window_size: tuple[float, float]) -> list[str]:
    """Problems found, each naming the widget; empty when the screen is fine."""
    width, height = window_size
    problems: list[str] = []
    targets: list[tuple[Widget, Rect]] = []
    for widget, ancestors in walk(root):
        rect = window_rect(widget)
        if rect.w <= 0 or rect.h <= 0:
            if isinstance(widget, Label) and widget.text:
                problems.append(f"{describe(widget)}: has text but no room ({rect.w:.0f}×{rect.h:.0f})")
            continue
        if (
            rect.x < -SLACK
            or rect.y < -SLACK
            or rect.x + rect.w > width + SLACK
            or rect.y + rect.h > height + SLACK
        ):
            problems.append(
                f"{describe(widget)}: outside the {width:.0f}×{height:.0f} window "
                f"at ({rect.x:.0f}, {rect.y:.0f}) {rect.w:.0f}×{rect.h:.0f}"
            )
        if isinstance(widget, Label) and widget.text:
            problems += _text_problems(widget, ancestors, rect)
        if isinstance(widget, ButtonBehavior | HoldCorner):
            if isinstance(widget, ButtonBehavior) and min(rect.w, rect.h) < MIN_TARGET - 0.01:
                problems.append(
                    f"{describe(widget)}: touch target {rect.w:.0f}×{rect.h:.0f} px, under {MIN_TARGET:.0f} px"
                )
            targets.append((widget, rect))
    for i, (a, ra) in enumerate(targets):
        for b, rb in targets[i + 1 :]:
            if ra.overlap(rb) > 0:
                problems.append(f"{describe(a)} and {describe(b)}: touch targets overlap")
    return problems


def _text_problems(label: Label, ancestors: list[Widget], rect: Rect) -> list[str]:
    problems = []
    label.texture_update()
    tw, th = label.texture_size
    if tw > rect.w + SLACK or th > rect.h + SLACK:
        problems.append(
            f"{describe(label)}: text clipped, needs {tw:.0f}×{th:.0f} px in a {rect.w:.0f}×{rect.h:.0f} box"
        )
    bg = background_of(label, ancestors)
    if bg is not None:
        colours = [getattr(label, "fg", None) or to_hex(label.color)]
        colours += _COLOUR_TAG.findall(label.text) if label.markup else []
        for colour in colours:
            ratio = contrast(colour, bg)
            if ratio < MIN_CONTRAST:
                problems.append(
                    f"{describe(label)}: contrast {ratio:.1f}:1 ({colour} on {bg}), under {MIN_CONTRAST}:1"
                )
    return problems


def shrunk(root: Widget, below: float = 0.75) -> list[str]:
    """Texts whose type had to shrink under `below` of the size they asked for to fit their box (they
    fit, but a person may find them small): for reviewing a layout, not a fault by itself."""
    found = []
    for widget, _ancestors in walk(root):
        base = getattr(widget, "base_font", None)
        if base and isinstance(widget, Label) and widget.text and widget.font_size < below * base:
            found.append(f"{describe(widget)}: {widget.font_size:.0f} px instead of {base:.0f}")
    return found
