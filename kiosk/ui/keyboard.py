"""The docked on-screen keyboard: touch only (no physical keyboard, no system IME), one Tap per key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kiosk.session.model import Lang
from kiosk.ui.i18n import Tr
from kiosk.ui.keys import Key, Page, rows, typed
from kiosk.ui.theme import Theme
from kiosk.ui.widgets import SYMBOL_FONT, Box, Tap, spacer

KEY_FACE = "#FFFFFF"
KEY_SPECIAL = "#C9D0D7"


class Keyboard(Box):
    """Types into whatever the screen says (`on_type(text)`, `on_back()`); shift is one-shot."""

    def __init__(
        self,
        theme: Theme,
        lang: Lang,
        *,
        on_type: Callable[[str], None],
        on_back: Callable[[], None],
        page: Page = "letters",
        **kwargs: Any,
    ) -> None:
        super().__init__(orientation="vertical", bg="#AEB7C0", name="keyboard", **kwargs)
        self.theme = theme
        self.lang = lang
        self.tr = Tr(lang)
        self.page: Page = page
        self.shift = False
        self._on_type = on_type
        self._on_back = on_back
        self._draw()

    def set_page(self, page: Page) -> None:
        if page != self.page:
            self.page = page
            self.shift = False
            self._draw()

    def _draw(self) -> None:
        self.clear_widgets()
        for row in rows(self.lang, self.page):
            line = Box(orientation="horizontal")
            for key in row:
                line.add_widget(self._key(key))
            self.add_widget(line)

    def _label(self, key: Key) -> tuple[str, str | None]:
        _ = self.tr
        if key.action == "shift":
            return "⇧", SYMBOL_FONT
        if key.action == "back":
            return "⌫", SYMBOL_FONT
        if key.action == "space":
            return _("space"), None
        if key.action == "page":
            return ("?123" if key.value == "symbols" else "ABC"), None
        return typed(key, self.shift), None

    def _key(self, key: Key) -> Any:
        if key.action == "gap":
            return spacer(size_hint_x=key.width)
        text, font = self._label(key)
        special = key.action in ("shift", "back", "page")
        bg = (
            self.theme.accent
            if (key.action == "shift" and self.shift)
            else (KEY_SPECIAL if special else KEY_FACE)
        )
        extra = {"font_name": font} if font else {}
        name = f"key-{key.action}" if key.action != "char" else f"key-{key.value}"
        return Tap(
            text,
            lambda: self._press(key),
            bg=bg,
            radius=self.theme.px(6),
            inset=self.theme.px(2),
            size_hint_x=key.width,
            font_size=self.theme.px(24 if self.page != "numeric" else 28),
            name=name,
            **extra,
        )

    def _press(self, key: Key) -> None:
        if key.action == "back":
            self._on_back()
        elif key.action == "shift":
            self.shift = not self.shift
            self._draw()
        elif key.action == "page":
            self.set_page(key.value)  # type: ignore[arg-type]
        else:
            self._on_type(typed(key, self.shift))
            if self.shift:
                self.shift = False
                self._draw()
