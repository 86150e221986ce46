"""The kiosk screens' pure parts, without a display: branding colours and contrast, money and dates as
shown, the keypads and the enrolment form's rules, the keyboard layouts, and the gettext catalogues."""

from __future__ import annotations

import importlib.util
import shutil
from datetime import date
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.session.model import DetailsDone, EnrolDraft, MemberView, View, Words
from kiosk.ui.branding import Branding, contrast, text_on
from kiosk.ui.formatting import (
    MAX_AMOUNT_DIGITS,
    balance_texts,
    birth_date_iso,
    birth_date_shown,
    cost_text,
    email_plausible,
    keypad_amount,
    keypad_push,
    money,
    progress_ratio,
    progress_text,
    seen_at_parts,
    stale_text,
)
from kiosk.ui.forms import DetailsState
from kiosk.ui.i18n import Tr
from kiosk.ui.keys import LETTERS, NUMERIC, ROW_UNITS, SYMBOLS, rows, typed

REPO = Path(__file__).resolve().parents[1]
PARIS = ZoneInfo("Europe/Paris")
MEMBER = MemberView(
    code="7K3Q9PXA",
    display_name="Camille",
    balances={"points": 384, "stamps": 3, "cashback_cents": 250},
    totals={},
    tier="Argent",
    tier_label=Words("Argent", "Silver"),
    next_tier="Or",
    next_tier_label=Words("Or", "Gold"),
    progress={"basis": "points", "current": 384, "target": 500, "missing": 116},
    stale=True,
    seen_at="2026-11-24T09:15:00.412345Z",
)


def i18n_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fidelio_i18n", REPO / "scripts" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- branding ---------------------------------------------------------------------------------------


def test_branding_refuses_what_is_not_a_colour() -> None:
    Branding("Boulangerie Martin", primary="#1f4e79", accent="#F2A900")
    for bad in ("1F4E79", "#1F4E7", "#1F4E79FF", "blue", "#GGGGGG"):
        with pytest.raises(ValueError, match="colour"):
            Branding("Boulangerie Martin", primary=bad)
    with pytest.raises(ValueError, match="shop_name"):
        Branding("  ")


@given(st.integers(0, 0xFFFFFF))
def test_text_on_any_brand_colour_is_readable(value: int) -> None:
    background = f"#{value:06X}"
    assert contrast(text_on(background), background) >= 4.5


def test_contrast_matches_wcag_figures() -> None:
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)
    assert text_on("#1F4E79") == "#FFFFFF" and text_on("#F2A900") == "#111111"


# -- what the screens say ---------------------------------------------------------------------------


def test_amounts_typed_as_cents_read_as_euros() -> None:
    digits = ""
    for key in "0012" + "50":  # leading zeros of an amount are ignored
        digits = keypad_push(digits, key, MAX_AMOUNT_DIGITS, leading_zero=False)
    assert digits == "1250" and keypad_amount(digits) == 1250
    assert money(keypad_amount(digits), "fr") == "12,50 €"
    assert money(keypad_amount(digits), "en") == "€12.50"
    assert keypad_push(digits, "back", MAX_AMOUNT_DIGITS) == "125"
    full = "9" * MAX_AMOUNT_DIGITS
    assert keypad_push(full, "1", MAX_AMOUNT_DIGITS) == full
    assert keypad_amount("") == 0


def test_a_pin_keeps_its_leading_zero() -> None:
    digits = ""
    for key in "0420":
        digits = keypad_push(digits, key, 8)
    assert digits == "0420"
    assert keypad_push(digits, "ok", 8) == digits  # not a digit: ignored


def test_birth_dates_are_typed_day_month_year() -> None:
    assert birth_date_shown("2411") == "24/11"
    assert birth_date_shown("24111990") == "24/11/1990"
    today = date(2026, 11, 24)
    assert birth_date_iso("24111990", today) == "1990-11-24"
    assert birth_date_iso("", today) == ""
    for bad in ("2411199", "31021990", "01012030", "01011890"):
        assert birth_date_iso(bad, today) is None, bad


def test_email_check_catches_slips_only() -> None:
    assert email_plausible("") and email_plausible("camille@example.fr")
    for bad in ("camille", "camille@", "camille@example", "@example.fr", "cam ille@example.fr"):
        assert not email_plausible(bad), bad


def test_balances_progress_and_stale_mark_in_both_languages() -> None:
    assert balance_texts(MEMBER, "fr") == [
        ("points", "384 points"),
        ("stamps", "3 tampons"),
        ("cashback_cents", "Cagnotte : 2,50 €"),
    ]
    assert [line for _k, line in balance_texts(MEMBER, "en")] == ["384 points", "3 stamps", "Kitty: €2.50"]
    assert progress_text(MEMBER, "fr") == "Plus que 116 points pour le statut Or"
    assert progress_text(MEMBER, "en") == "116 more points to Gold"
    assert progress_ratio(MEMBER.progress) == pytest.approx(384 / 500)
    top = MemberView("X", None, {"points": 900}, {}, "Or", None, None, None, {})
    assert progress_ratio(top.progress) is None
    assert progress_text(top, "fr") == "Statut le plus élevé : merci de votre fidélité !"
    assert seen_at_parts(MEMBER.seen_at or "", PARIS) == ("24/11", "10:15")  # the hub's UTC, the shop's clock
    assert stale_text(MEMBER, "fr", PARIS) == "Dernier solde connu, du 24/11 à 10:15"
    assert stale_text(MEMBER, "en", PARIS) == "Last known balance, from 24/11 at 10:15"
    assert cost_text({"points": 80}, "fr") == "80 points"
    assert cost_text({"stamps": 1, "cashback_cents": 200}, "en") == "1 stamp + €2.00"


def test_plurals_follow_each_language() -> None:
    fr, en = Tr("fr"), Tr("en")
    assert fr.ngettext("{n} attempt left", "{n} attempts left", 0).format(n=0) == "0 essai restant"
    assert fr.ngettext("{n} attempt left", "{n} attempts left", 2).format(n=2) == "2 essais restants"
    assert en.ngettext("{n} attempt left", "{n} attempts left", 0).format(n=0) == "0 attempts left"
    assert en.ngettext("{n} attempt left", "{n} attempts left", 1).format(n=1) == "1 attempt left"


# -- keyboard and form -------------------------------------------------------------------------------


def test_keyboard_rows_fill_the_width() -> None:
    for layout in [*LETTERS.values(), SYMBOLS, NUMERIC]:
        for row in layout:
            assert sum(k.width for k in row) == pytest.approx(ROW_UNITS)


def test_french_gets_azerty_english_gets_qwerty() -> None:
    def top(lang: str) -> str:
        return "".join(k.value for k in rows(lang, "letters")[0])  # type: ignore[arg-type]

    assert top("fr") == "azertyuiop"
    assert top("en") == "qwertyuiop"
    accents = {k.value for row in rows("fr", "symbols") for k in row if k.action == "char"}
    assert {"é", "è", "ç", "à", "ô", "ù", "@", "."} <= accents
    assert typed(rows("fr", "letters")[0][0], shift=True) == "A"


def test_form_capitalises_names_and_filters_each_field() -> None:
    form = DetailsState()
    for ch in "jean-luc o'neil":
        form.type(ch)
    assert form.values["first_name"] == "Jean-Luc O'Neil"
    form.focus = "phone"
    for ch in "+33 6a12":
        form.type(ch)
    assert form.values["phone"] == "+33612"
    form.focus = "email"
    for ch in "zoe @x.fr":
        form.type(ch)
    form.back()
    assert form.values["email"] == "zoe@x.f"
    form.type("r")
    form.focus = "birth_date"
    for ch in "24/11/1990":
        form.type(ch)
    assert form.values["birth_date"] == "24111990"
    assert form.result() == DetailsDone("Jean-Luc O'Neil", "zoe@x.fr", "+33612", "1990-11-24")


def test_form_refuses_an_incomplete_date_or_email_and_focuses_it() -> None:
    form = DetailsState()
    form.focus = "birth_date"
    for ch in "2411":
        form.type(ch)
    assert form.result() is None and form.focus == "birth_date" and form.error
    form.values["birth_date"] = ""
    form.values["email"] = "zoe@"
    assert form.result() is None and form.focus == "email"


def test_form_starts_from_the_sessions_draft() -> None:
    view = View(draft=EnrolDraft(first_name="Camille", email="c@example.fr", birth_date="1990-11-24"))
    form = DetailsState.from_view(view)
    assert form.values == {
        "first_name": "Camille",
        "email": "c@example.fr",
        "phone": "",
        "birth_date": "24111990",
    }


# -- catalogues ---------------------------------------------------------------------------------------


def test_catalogues_are_complete_and_compiled() -> None:
    assert i18n_script().problems() == []


def test_catalogue_check_sees_a_stale_mo_and_a_missing_msgid(tmp_path: Path) -> None:
    i18n = i18n_script()
    locale = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE, locale)
    po = locale / "fr" / "LC_MESSAGES" / "fidelio.po"
    text = po.read_text()
    assert 'msgstr "Retour"' in text
    po.write_text(text.replace('msgstr "Retour"', 'msgstr "Revenir"'))
    assert any("fidelio.mo is stale" in p and p.startswith("fr") for p in i18n.problems(locale))
    en = locale / "en" / "LC_MESSAGES" / "fidelio.po"
    en.write_text(en.read_text().replace('msgid "Back"\nmsgstr "Back"\n', ""))
    assert any(p.startswith("en: msgid 'Back'") and "missing" in p for p in i18n.problems(locale))
