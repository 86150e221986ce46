"""The on-screen keyboard's layouts (pure data): AZERTY in French, QWERTY in English, a page of digits,
accents and symbols, and a numeric pad for the phone and the birth date.

Each row adds up to ROW_UNITS widths, so on a 480 px wide portrait screen a one-unit key is 48 px.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kiosk.session.model import Lang

ROW_UNITS = 10
Page = Literal["letters", "symbols", "numeric"]


@dataclass(frozen=True)
class Key:
    action: str  # "char", "shift", "back", "space", "page", "gap"
    value: str = ""  # the character, or the page to go to
    width: float = 1.0


def _chars(chars: str) -> list[Key]:
    return [Key("char", c) for c in chars]


_BOTTOM = {
    "letters": [
        Key("page", "symbols", 2),
        Key("char", "@"),
        Key("space", " ", 4),
        Key("char", "."),
        Key("char", "-"),
    ],
    "symbols": [
        Key("page", "letters", 2),
        Key("char", "@"),
        Key("space", " ", 4),
        Key("char", "."),
        Key("char", "-"),
    ],
}

LETTERS: dict[str, list[list[Key]]] = {
    "azerty": [
        _chars("azertyuiop"),
        _chars("qsdfghjklm"),
        [Key("shift", width=1.5), *_chars("wxcvbn'"), Key("back", width=1.5)],
        [*_BOTTOM["letters"], Key("char", "é")],
    ],
    "qwerty": [
        _chars("qwertyuiop"),
        [Key("gap", width=0.5), *_chars("asdfghjkl"), Key("gap", width=0.5)],
        [Key("shift", width=1.5), *_chars("zxcvbnm"), Key("back", width=1.5)],
        [*_BOTTOM["letters"], Key("char", "_")],
    ],
}

SYMBOLS: list[list[Key]] = [
    _chars("1234567890"),
    _chars("éèêëàâçîïô"),
    [Key("shift", width=2), *_chars("ùûüœ'+"), Key("back", width=2)],
    [*_BOTTOM["symbols"], Key("char", "_")],
]

NUMERIC: list[list[Key]] = [
    [Key("char", "1", 10 / 3), Key("char", "2", 10 / 3), Key("char", "3", 10 / 3)],
    [Key("char", "4", 10 / 3), Key("char", "5", 10 / 3), Key("char", "6", 10 / 3)],
    [Key("char", "7", 10 / 3), Key("char", "8", 10 / 3), Key("char", "9", 10 / 3)],
    [Key("char", "+", 10 / 3), Key("char", "0", 10 / 3), Key("back", width=10 / 3)],
]


def layout_for(lang: Lang) -> str:
    return "azerty" if lang == "fr" else "qwerty"


def rows(lang: Lang, page: Page) -> list[list[Key]]:
    if page == "numeric":
        return NUMERIC
    if page == "symbols":
        return SYMBOLS
    return LETTERS[layout_for(lang)]


def typed(key: Key, shift: bool) -> str:
    """The character a key types (upper case while shift is on)."""
    if key.action == "space":
        return " "
    if key.action != "char":
        return ""
    return key.value.upper() if shift and key.value.isalpha() else key.value
