"""Balances, tier progress and shortfalls in words for the kiosk's screens (pure, integers only).

The phrasing follows kiosk/words.py (the headless kiosk's): « Plus que 116 points pour le statut Or » /
"116 more points to Gold", money with kiosk.words.euros (French comma, "12,50 €" / "€12.50").
French nouns are singular for 0 and 1, English ones for 1 only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kiosk.session.model import MemberView, Words
from kiosk.words import euros

#: The balances a program can use, in the order screens show them.
BALANCE_ORDER = ("points", "stamps", "cashback_cents")

_UNITS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "points": (("point", "points"), ("point", "points")),
    "stamps": (("tampon", "tampons"), ("stamp", "stamps")),
    "visits": (("visite", "visites"), ("visit", "visits")),
}
_MONEY = ("cashback_cents", "spend_cents")


def number(n: int, lang: str) -> str:
    """1234 → "1 234" (narrow no-break space, as kiosk.words.euros) / "1,234"."""
    grouped = f"{n:,}"
    return grouped.replace(",", "\u202f") if lang == "fr" else grouped


def count(unit: str, n: int) -> Words:
    """("points", 12) → "12 points"; ("stamps", 1) → "1 tampon" / "1 stamp"."""
    (fr_one, fr_many), (en_one, en_many) = _UNITS.get(unit, ((unit, unit), (unit, unit)))
    fr = fr_one if abs(n) <= 1 else fr_many
    en = en_one if abs(n) == 1 else en_many
    return Words(f"{number(n, 'fr')} {fr}", f"{number(n, 'en')} {en}")


def money(cents: int) -> Words:
    return Words(euros(cents, "fr"), euros(cents, "en"))


def balance_line(account: str, n: int) -> Words:
    if account == "cashback_cents":
        return Words(f"Cagnotte : {euros(n, 'fr')}", f"Kitty: {euros(n, 'en')}")
    if account in _UNITS:
        return count(account, n)
    return Words(f"{account} : {number(n, 'fr')}", f"{account}: {number(n, 'en')}")


def balance_lines(balances: Mapping[str, int], shown: Iterable[str] | None = None) -> tuple[Words, ...]:
    """One line per balance: `shown` (the program's balances, from hub/program) or every one present."""
    if shown is not None:
        keys = list(shown)
    else:
        keys = [k for k in BALANCE_ORDER if k in balances] + sorted(
            k for k in balances if k not in BALANCE_ORDER
        )
    return tuple(balance_line(k, balances.get(k, 0)) for k in keys)


def tier_words(member: MemberView) -> Words:
    """« Statut Or » / "Gold tier" (the catalogue's label, else the hub's tier id)."""
    label = member.tier_label or Words(member.tier, member.tier)
    return Words(f"Statut {label.fr}", f"{label.en} tier")


def progress_words(member: MemberView) -> Words | None:
    """How far the next tier is, or None at the top tier (and in a program without tiers)."""
    if not member.next_tier:
        return None
    missing, basis = member.progress.get("missing"), member.progress.get("basis")
    if not isinstance(missing, int) or isinstance(missing, bool) or missing < 0:
        return None
    nxt = member.next_tier_label or Words(member.next_tier, member.next_tier)
    if basis == "spend_cents":
        return Words(
            f"Plus que {euros(missing, 'fr')} d'achats pour le statut {nxt.fr}",
            f"{euros(missing, 'en')} more to {nxt.en}",
        )
    if basis in ("points", "visits"):
        many = count(basis, missing)
        en_unit = many.en.split(" ", 1)[1]
        return Words(
            f"Plus que {many.fr} pour le statut {nxt.fr}",
            f"{number(missing, 'en')} more {en_unit} to {nxt.en}",
        )
    return None


def greeting(member: MemberView) -> Words:
    name = (member.display_name or "").strip()
    return Words(f"Bonjour {name} !", f"Hello {name}!") if name else Words("Bonjour !", "Hello!")


def stale_words(member: MemberView) -> Words | None:
    """The mark on a balance that is the kiosk's last known copy, not the hub's answer."""
    if not member.stale:
        return None
    return Words(
        "Dernier solde connu : il sera mis à jour dès le retour du réseau",
        "Last known balance: it will be brought up to date when the network is back",
    )


def shortfall_words(short: Mapping[str, int]) -> Words:
    """{"points": 12} → « Il vous manque 12 points » / "12 more points needed"."""
    fr, en = [], []
    for account, n in short.items():
        if account in _MONEY:
            fr.append(f"{euros(n, 'fr')} de cagnotte")
            en.append(f"{euros(n, 'en')} more in your kitty")
        else:
            q = count(account, n)
            fr.append(q.fr)
            en.append(f"{number(n, 'en')} more {q.en.split(' ', 1)[1]}")
    return Words(f"Il vous manque {' et '.join(fr)}", f"{' and '.join(en)} needed")


def tier_only_words(label: Words) -> Words:
    """« Réservé au statut Or » / "Gold members only"."""
    return Words(f"Réservé au statut {label.fr}", f"{label.en} members only")


def enrolment_missing_words(cents: int) -> Words:
    """An unknown card whose program enrols from a spend threshold not yet reached."""
    return Words(
        f"Plus que {euros(cents, 'fr')} d'achats pour rejoindre le programme",
        f"{euros(cents, 'en')} more in purchases to join the programme",
    )
