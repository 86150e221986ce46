"""A 3×4 digit pad (PIN and purchase amount): 1–9, ⌫, 0, OK."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kiosk.ui.i18n import Tr
from kiosk.ui.theme import Theme
from kiosk.ui.widgets import SYMBOL_FONT, Grid, Tap

KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "back", "0", "ok")


class Keypad(Grid):
    def __init__(
        self,
        theme: Theme,
        tr: Tr,
        on_key: Callable[[str], None],
        *,
        ok_enabled: bool = True,
        enabled: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(cols=3, rows=4, spacing=theme.px(8), name="keypad", **kwargs)
        t = theme
        for key in KEYS:
            if key == "back":
                text, bg, extra = "⌫", t.staff_surface, {"font_name": SYMBOL_FONT}
            elif key == "ok":
                text, bg, extra = tr("OK"), t.staff_good, {"bold": True}
            else:
                text, bg, extra = key, "#F3F5F7", {}
            disabled = not enabled or (key == "ok" and not ok_enabled)
            self.add_widget(
                Tap(
                    text,
                    (lambda k=key: on_key(k)) if not disabled else None,
                    bg=bg if not disabled else "#5B6670",
                    fg=None if not disabled else "#FFFFFF",
                    radius=t.px(10),
                    font_size=t.title,
                    disabled=disabled,
                    name=f"pad-{key}",
                    **extra,
                )
            )
