"""The program in words, for the retained `hub/program` topic (kiosk screens, staff pages)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.program.arith import (
    date_en,
    date_fr,
    decimal_en,
    decimal_fr,
    euros_en,
    euros_fr,
    plural_en,
    plural_fr,
)
from hub.program.model import Text
from hub.program.schema import WEEKDAYS_FR
from hub.program.words import quantity

if TYPE_CHECKING:
    from hub.program.rules import Program

_ROUNDING = {
    "down": ("arrondi à l'inférieur", "rounded down"),
    "nearest": ("arrondi au plus proche", "rounded to the nearest"),
    "up": ("arrondi au supérieur", "rounded up"),
}
_BASIS = {
    "spend_cents": ("vos achats", "your spending"),
    "visits": ("vos visites", "your visits"),
    "points": ("les points gagnés", "the points you earn"),
}
_EXPIRY_FIXED = {
    "points": (
        "Les points expirent {m} mois après avoir été gagnés",
        "Points expire {m} months after they are earned",
    ),
    "stamps": (
        "Les tampons expirent {m} mois après avoir été reçus",
        "Stamps expire {m} months after they are given",
    ),
    "cashback_cents": (
        "Chaque somme de la cagnotte expire {m} mois après son versement",
        "Each amount in the kitty expires {m} months after it is paid in",
    ),
}
_EXPIRY_IDLE = {
    "points": (
        "Les points expirent après {m} mois sans visite",
        "Points expire after {m} months without a visit",
    ),
    "stamps": (
        "Les tampons expirent après {m} mois sans visite",
        "Stamps expire after {m} months without a visit",
    ),
    "cashback_cents": (
        "La cagnotte expire après {m} mois sans visite",
        "The kitty expires after {m} months without a visit",
    ),
}


def _grant(amounts: dict[str, int]) -> Text:
    fr, en = [], []
    for account, n in amounts.items():
        q = quantity(account, n)
        kitty = account == "cashback_cents"
        fr.append(f"{q.fr} dans la cagnotte" if kitty else q.fr)
        en.append(f"{q.en} into the kitty" if kitty else q.en)
    return Text(", ".join(fr), ", ".join(en))


def _threshold(basis: str | None, value: int) -> Text:
    if basis == "spend_cents":
        return Text(euros_fr(value, compact=True), euros_en(value, compact=True))
    if basis == "visits":
        return Text(
            f"{value} {plural_fr(value, 'visite', 'visites')}",
            f"{value} {plural_en(value, 'visit', 'visits')}",
        )
    return Text(
        f"{value} {plural_fr(value, 'point', 'points')}", f"{value} {plural_en(value, 'point', 'points')}"
    )


def rules_in_words(program: Program) -> list[Text]:
    out: list[Text] = []
    if program.points_per_euro_milli is not None:
        rate = program.points_per_euro_milli
        fr_round, en_round = _ROUNDING[program.points_rounding]
        out.append(
            Text(
                f"{decimal_fr(rate, 3)} {plural_fr(rate // 1000, 'point', 'points')} par euro dépensé "
                f"({fr_round})",
                f"{decimal_en(rate, 3)} {'point' if rate == 1000 else 'points'} per euro spent ({en_round})",
            )
        )
    stamps = program.stamps
    if stamps is not None:
        out.append(
            Text(
                f"{stamps.per_visit} {plural_fr(stamps.per_visit, 'tampon', 'tampons')} par visite, "
                f"{stamps.max_per_day} par jour au plus",
                f"{stamps.per_visit} {plural_en(stamps.per_visit, 'stamp', 'stamps')} per visit, "
                f"at most {stamps.max_per_day} a day",
            )
        )
        if stamps.every and stamps.reward:
            name = program.rewards[stamps.reward].name
            out.append(
                Text(
                    f"Tous les {stamps.every} tampons : {name.fr}, automatiquement",
                    f"Every {stamps.every} stamps: {name.en}, automatically",
                )
            )
    if program.cashback_basis_points is not None:
        bp = program.cashback_basis_points
        out.append(
            Text(
                f"{decimal_fr(bp, 2)} % de chaque achat dans votre cagnotte",
                f"{decimal_en(bp, 2)}% of every purchase into your kitty",
            )
        )
    ladder = program.tiers
    if ladder.real:
        fr_basis, en_basis = _BASIS[ladder.basis or "spend_cents"]
        levels_fr, levels_en = [], []
        for level in ladder.levels:
            limit = _threshold(ladder.basis, level.threshold)
            mult_fr = (
                f" (points ×{decimal_fr(level.multiplier_percent, 2)})"
                if level.multiplier_percent != 100
                else ""
            )
            mult_en = (
                f" (points ×{decimal_en(level.multiplier_percent, 2)})"
                if level.multiplier_percent != 100
                else ""
            )
            levels_fr.append(f"{level.label.fr} dès {limit.fr}{mult_fr}")
            levels_en.append(f"{level.label.en} from {limit.en}{mult_en}")
        out.append(
            Text(
                f"Niveaux selon {fr_basis} sur {ladder.window_months} mois glissants : "
                f"{', '.join(levels_fr)}",
                f"Tiers by {en_basis} over a rolling {ladder.window_months} months: {', '.join(levels_en)}",
            )
        )
    bonus_words = {
        "bonus.welcome": ("Bienvenue", "Welcome"),
        "bonus.newsletter": ("Inscription à la newsletter", "Newsletter sign-up"),
        "bonus.first_purchase": ("Premier achat", "First purchase"),
        "bonus.birthday": ("Anniversaire", "Birthday"),
        "bonus.referral.referrer": ("Parrainage, pour le parrain", "Referral, for the referrer"),
        "bonus.referral.referee": ("Parrainage, pour le filleul", "Referral, for the new member"),
    }
    for rule, (fr, en) in bonus_words.items():
        amounts = program.bonuses.get(rule)
        if amounts:
            grant = _grant(amounts)
            if rule == "bonus.birthday":
                days = program.birthday_window_days
                out.append(
                    Text(
                        f"{fr} : {grant.fr} (à {days} {plural_fr(days, 'jour', 'jours')} près, "
                        "une fois par an)",
                        f"{en}: {grant.en} (within {days} {plural_en(days, 'day', 'days')}, once a year)",
                    )
                )
            else:
                out.append(Text(f"{fr} : {grant.fr}", f"{en}: {grant.en}"))
    for day in program.day_multipliers:
        factor_fr, factor_en = decimal_fr(day.percent, 2), decimal_en(day.percent, 2)
        if day.weekday is not None and day.label.fr == WEEKDAYS_FR[day.weekday]:
            out.append(
                Text(f"Points ×{factor_fr} le {day.label.fr}", f"Points ×{factor_en} on {day.label.en}s")
            )
            continue
        when_fr, when_en = day.label.fr, day.label.en
        if day.day is not None and day.label.fr != date_fr(day.day):
            when_fr, when_en = f"{when_fr} ({date_fr(day.day)})", f"{when_en} ({date_en(day.day)})"
        out.append(Text(f"Points ×{factor_fr} : {when_fr}", f"Points ×{factor_en}: {when_en}"))
    rule = program.expiry_rule
    if rule.mode != "none":
        for balance in rule.balances:
            if balance not in program.balances_used():
                continue
            fr, en = (_EXPIRY_FIXED if rule.mode == "fixed" else _EXPIRY_IDLE)[balance]
            out.append(Text(fr.format(m=rule.months), en.format(m=rule.months)))
    out.append(
        Text(
            f"Bons valables {program.voucher_valid_days} jours",
            f"Vouchers are valid for {program.voucher_valid_days} days",
        )
    )
    if program.enrolment_policy == "everyone":
        out.append(Text("Inscription ouverte à tous", "Anyone can join"))
    else:
        cents = program.enrolment_threshold_cents
        out.append(
            Text(
                f"Inscription dès {euros_fr(cents, compact=True)} d'achats",
                f"You can join once you have spent {euros_en(cents, compact=True)}",
            )
        )
    return out


def build_summary(program: Program) -> dict[str, Any]:
    ladder = program.tiers
    return {
        "shop": program.shop_name,
        "sha256": program.sha256,
        "currency": program.currency,
        "timezone": program.timezone.key,
        "balances": program.balances_used(),
        "tiers": [level.to_json(ladder.basis) for level in ladder.levels],
        "tier_window_months": ladder.window_months if ladder.real else None,
        "rules": [t.to_json() for t in rules_in_words(program)],
        "rewards": [r.to_catalogue() for r in program.rewards.values()],
    }
