"""The screens' own sentences, from gettext catalogues (kiosk/ui/locale/{fr,en}/LC_MESSAGES/fidelio.mo).

Source strings (msgids) are English; `scripts/i18n.py` extracts them, updates the .po files and compiles
the .mo files. Texts that arrive in a `View` as `Words` are already in both languages and skip this.
Mark a string for extraction with `_("…")` / `_.ngettext("…", "…", n)` where `_ = Tr(lang)`, and
`N_("…")` for a module-level constant translated later.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kiosk.session.model import Lang

DOMAIN = "fidelio"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGS: tuple[Lang, ...] = ("fr", "en")


def N_(message: str) -> str:
    """Marks a string for extraction; translate it later with `Tr(lang)(message)`."""
    return message


@cache
def _catalogue(lang: str) -> gettext.NullTranslations:
    # fallback=False: a missing catalogue is a packaging fault, said loudly rather than shown in English.
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[lang])


@dataclass(frozen=True)
class Tr:
    """The translator for one language: `_ = Tr(lang)`, `_("Back")`, `_.ngettext("{n} item", "{n} items", n)`."""

    lang: Lang

    def __call__(self, message: str) -> str:
        return _catalogue(self.lang).gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return _catalogue(self.lang).ngettext(singular, plural, count)


def translators() -> dict[Lang, Callable[[str], str]]:
    return {lang: Tr(lang) for lang in LANGS}
