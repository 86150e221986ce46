#!/usr/bin/env python3
"""The kiosk screens' gettext catalogues (kiosk/ui/locale/{fr,en}/LC_MESSAGES/fidelio.po and .mo).

    .venv/bin/python scripts/i18n.py update    # new msgids from kiosk/ui into both .po (then translate fr)
    .venv/bin/python scripts/i18n.py compile   # .po → .mo (commit both)
    .venv/bin/python scripts/i18n.py check     # exit 1 if a msgid is missing, untranslated, or a .mo stale

Source strings are English: the English catalogue copies them, the French one is translated by hand.
Needs Babel (the dev extra); the kiosk itself reads the .mo files with the standard library.
"""

from __future__ import annotations

import io
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "kiosk" / "ui"
LOCALE = SOURCES / "locale"
DOMAIN = "fidelio"
LANGS = ("fr", "en")
SOURCE_LANG = "en"
_FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)  # no header churn from one run to the next
_FIELD = re.compile(r"{(\w*)}")
_HIDDEN = re.compile(r"""\bf(["']).*\{\s*(_|_\.ngettext|ngettext|N_)\(""")


def po_path(lang: str, locale: Path = LOCALE) -> Path:
    return locale / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str, locale: Path = LOCALE) -> Path:
    return po_path(lang, locale).with_suffix(".mo")


def extract() -> Catalog:
    """Every `_()`, `ngettext()` and `N_()` string under kiosk/ui."""
    template = Catalog(domain=DOMAIN, creation_date=_FIXED_DATE)
    method_map = [("**/locale/**", "ignore"), ("**.py", "python")]
    for _file, _lineno, message, comments, context in extract_from_dir(
        str(SOURCES), method_map=method_map, keywords=DEFAULT_KEYWORDS
    ):
        if isinstance(message, tuple):  # ngettext: (singular, plural[, None])
            message = tuple(m for m in message if m is not None)
        template.add(message, None, [], auto_comments=comments, context=context)
    return template


def load(lang: str, locale: Path = LOCALE) -> Catalog:
    path = po_path(lang, locale)
    if not path.exists():
        catalog = Catalog(locale=lang, domain=DOMAIN, creation_date=_FIXED_DATE, revision_date=_FIXED_DATE)
        # gettext's classic rules (CLDR's newer French one has a third form for millions, no help here)
        catalog._num_plurals, catalog._plural_expr = 2, "(n > 1)" if lang == "fr" else "(n != 1)"
        return catalog
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def save_po(catalog: Catalog, lang: str) -> None:
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog.revision_date = _FIXED_DATE
    catalog.fuzzy = False
    catalog.project, catalog.version = "Fidelio kiosk", "1"
    catalog.language_team = "Fidelio"
    catalog.last_translator = "Fidelio"
    with path.open("wb") as f:
        write_po(
            f, catalog, width=110, no_location=True, sort_output=True, omit_header=False, ignore_obsolete=True
        )


def compiled(lang: str, locale: Path = LOCALE) -> bytes:
    out = io.BytesIO()
    write_mo(out, load(lang, locale), use_fuzzy=False)
    return out.getvalue()


def update() -> None:
    template = extract()
    for lang in LANGS:
        catalog = load(lang)
        catalog.update(template, no_fuzzy_matching=True)
        if lang == SOURCE_LANG:
            for message in catalog:
                if message.id and not _translated(message.string):
                    message.string = message.id
        save_po(catalog, lang)
        print(f"{po_path(lang).relative_to(REPO)}: {len(catalog)} messages")


def compile_all() -> None:
    for lang in LANGS:
        mo_path(lang).write_bytes(compiled(lang))
        print(f"{mo_path(lang).relative_to(REPO)} written")


def _translated(string: str | tuple[str, ...] | list[str] | None) -> bool:
    if isinstance(string, tuple | list):
        return all(string)
    return bool(string)


def _fields(text: str | tuple[str, ...] | list[str]) -> set[str]:
    texts = [text] if isinstance(text, str) else list(text)
    return {name for t in texts for name in _FIELD.findall(t)}


def hidden_calls() -> list[str]:
    """gettext calls inside f-strings: Babel cannot see them, so their msgids would never be extracted."""
    found = []
    for path in sorted(SOURCES.rglob("*.py")):
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if _HIDDEN.search(line):
                found.append(
                    f"{path.relative_to(REPO)}:{lineno}: a gettext call inside an f-string is not extracted"
                )
    return found


def problems(locale: Path = LOCALE) -> list[str]:
    """What is wrong with the catalogues under `locale`, in words (empty: all good)."""
    found: list[str] = hidden_calls()
    wanted = {m.id: m for m in extract() if m.id}
    for lang in LANGS:
        po, mo = po_path(lang, locale), mo_path(lang, locale)
        if not po.exists():
            found.append(f"{lang}: {po} is missing")
            continue
        have = {m.id: m for m in load(lang, locale) if m.id}
        for msgid in wanted:
            if msgid not in have:
                found.append(f"{lang}: msgid {msgid!r} used in kiosk/ui is missing from the catalogue")
            elif have[msgid].fuzzy or not _translated(have[msgid].string):
                found.append(f"{lang}: msgid {msgid!r} is not translated")
            elif _fields(have[msgid].string) != _fields(msgid):
                found.append(
                    f"{lang}: msgid {msgid!r}: the translation's {{fields}} differ from the source's"
                )
        for msgid in have:
            if msgid not in wanted:
                found.append(f"{lang}: msgid {msgid!r} is no longer used (run scripts/i18n.py update)")
        if not mo.exists():
            found.append(f"{lang}: {mo} is missing (run scripts/i18n.py compile)")
        elif mo.read_bytes() != compiled(lang, locale):
            found.append(f"{lang}: {mo.name} is stale against its .po (run scripts/i18n.py compile)")
    return found


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        found = problems()
        for line in found:
            print(line, file=sys.stderr)
        print("catalogues: OK" if not found else f"catalogues: {len(found)} problem(s)")
        return 1 if found else 0
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
