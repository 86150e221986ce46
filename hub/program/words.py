"""The customer-facing sentences of effects, in French and English.

Kept to characters the receipt printers' code page (CP858) has: no em dash, no curly English
quotes, no narrow no-break space (the French thousands separator is a plain no-break space).
"""

from __future__ import annotations

from datetime import date

from hub.program.arith import date_en, date_fr, euros_en, euros_fr, int_en, int_fr
from hub.program.model import Text

_UNITS = {
    "points": (("point", "points"), ("point", "points")),
    "stamps": (("tampon", "tampons"), ("stamp", "stamps")),
}

BONUS_LABELS = {
    "bonus.welcome": Text("bonus de bienvenue", "welcome bonus"),
    "bonus.first_purchase": Text("bonus premier achat", "first purchase bonus"),
    "bonus.birthday": Text("joyeux anniversaire !", "happy birthday!"),
    "bonus.newsletter": Text(
        "merci de votre inscription à la newsletter", "thanks for joining the newsletter"
    ),
    "bonus.referral.referee": Text("bonus de parrainage, bienvenue !", "referral bonus, welcome!"),
    "bonus.referral.referrer": Text("merci d'avoir parrainé un ami", "thanks for referring a friend"),
}

EFFECT_KINDS = {"points": "points", "stamps": "stamps", "cashback_cents": "cashback"}


def quantity(account: str, n: int, signed: bool = True) -> Text:
    """(points, 12) → "+12 points"; (cashback_cents, 250) → "+2,50 €" / "+2.50 €"."""
    sign = ("+" if n >= 0 else "-") if signed else ("-" if n < 0 else "")
    size = abs(n)
    if account == "cashback_cents":
        return Text(f"{sign}{euros_fr(size)}", f"{sign}{euros_en(size)}")
    (fr_one, fr_many), (en_one, en_many) = _UNITS[account]
    fr_word = fr_one if size <= 1 else fr_many
    en_word = en_one if size == 1 else en_many
    return Text(f"{sign}{int_fr(size)} {fr_word}", f"{sign}{int_en(size)} {en_word}")


def bonus(account: str, n: int, rule: str) -> Text:
    q = quantity(account, n)
    label = BONUS_LABELS[rule]
    kitty = (" dans votre cagnotte", " into your kitty") if account == "cashback_cents" else ("", "")
    return Text(f"{q.fr}{kitty[0]} : {label.fr}", f"{q.en}{kitty[1]}: {label.en}")


def visit() -> Text:
    return Text("Merci de votre visite !", "Thanks for your visit!")


def stamps_credit(n: int, balance: int, every: int | None) -> Text:
    q = quantity("stamps", n)
    if every:
        return Text(f"{q.fr} : {balance} sur {every}", f"{q.en}: {balance} of {every}")
    return Text(f"{q.fr} ({balance} au total)", f"{q.en} ({balance} in total)")


def stamps_already_today() -> Text:
    return Text(
        "Tampon du jour déjà reçu : à demain !",
        "Today's stamp already given: see you tomorrow!",
    )


def purchase_points(points: int, cents: int, multipliers: list[Text]) -> Text:
    q = quantity("points", points)
    extra_fr = f" ({', '.join(m.fr for m in multipliers)})" if multipliers else ""
    extra_en = f" ({', '.join(m.en for m in multipliers)})" if multipliers else ""
    return Text(
        f"{q.fr} pour votre achat de {euros_fr(cents)}{extra_fr}",
        f"{q.en} for your {euros_en(cents)} purchase{extra_en}",
    )


def purchase_cashback(cashback: int, cents: int, percent: Text, multipliers: list[Text]) -> Text:
    q = quantity("cashback_cents", cashback)
    extra_fr = "".join(f", {m.fr}" for m in multipliers)
    extra_en = "".join(f", {m.en}" for m in multipliers)
    return Text(
        f"{q.fr} dans votre cagnotte ({percent.fr} de votre achat de {euros_fr(cents)}{extra_fr})",
        f"{q.en} into your kitty ({percent.en} of your {euros_en(cents)} purchase{extra_en})",
    )


def purchase_only(cents: int) -> Text:
    return Text(f"Achat de {euros_fr(cents)} enregistré", f"{euros_en(cents)} purchase recorded")


def redeem_debit(account: str, n: int, name: Text) -> Text:
    q = quantity(account, -n)
    return Text(f"{q.fr} pour « {name.fr} »", f'{q.en} for "{name.en}"')


def voucher(name: Text, until: date, automatic: bool) -> Text:
    if automatic:
        return Text(
            f"Carte complète ! Bon « {name.fr} » offert, valable jusqu'au {date_fr(until)}",
            f'Card complete! Voucher "{name.en}" is yours, valid until {date_en(until)}',
        )
    return Text(
        f"Bon « {name.fr} » valable jusqu'au {date_fr(until)}",
        f'Voucher "{name.en}" valid until {date_en(until)}',
    )


def tier_change(label: Text, up: bool, first: bool) -> Text:
    if first:
        return Text(f"Vous êtes au niveau {label.fr}", f"You are in the {label.en} tier")
    if up:
        return Text(
            f"Bravo ! Vous passez au niveau {label.fr}", f"Congratulations! You reached the {label.en} tier"
        )
    return Text(f"Vous êtes maintenant au niveau {label.fr}", f"You are now in the {label.en} tier")


def expired(account: str, n: int, months: int, inactivity: bool) -> Text:
    q = quantity(account, -n)
    if inactivity:
        return Text(
            f"{q.fr} expiré(s) après {months} mois sans visite",
            f"{q.en} expired after {months} months without a visit",
        )
    return Text(f"{q.fr} expiré(s) (validité de {months} mois)", f"{q.en} expired ({months}-month validity)")
