"""Words for what the ledger stores (rules, accounts, voucher values, dates, money), FR / EN. Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hub.program import Program
from hub.program.arith import euros_en, euros_fr, int_en, int_fr
from hub.program.words import BONUS_LABELS
from hub.web.i18n import text

ACCOUNTS = {
    "points": ("points", "points"),
    "stamps": ("tampons", "stamps"),
    "cashback_cents": ("cagnotte", "kitty"),
    "spend_cents": ("dépense", "spend"),
    "visits": ("visites", "visits"),
    "purchases": ("achats", "purchases"),
}
RULES = {
    "visit": ("visite", "visit"),
    "purchase": ("achat", "purchase"),
    "points.purchase": ("points de l'achat", "points for the purchase"),
    "cashback.purchase": ("cagnotte de l'achat", "kitty for the purchase"),
    "stamps.visit": ("tampon de visite", "visit stamp"),
    "expiry.fixed": ("expiration (durée fixe)", "expiry (fixed term)"),
    "expiry.inactivity": ("expiration (inactivité)", "expiry (inactivity)"),
    "manual_adjustment": ("ajustement manuel", "manual adjustment"),
    "merge": ("fusion", "merge"),
}


def money(cents: int, lang: str) -> str:
    return euros_en(cents) if lang == "en" else euros_fr(cents)


def number(n: int, lang: str) -> str:
    return int_en(n) if lang == "en" else int_fr(n)


def per_mille(value: int, lang: str) -> str:
    """425 -> '42,5 %' / '42.5%' (a rate kept in integers)."""
    whole, tenth = divmod(value, 10)
    return f"{whole}.{tenth}%" if lang == "en" else f"{whole},{tenth} %"


def tenths(value: int, lang: str) -> str:
    """34 -> '3,4' / '3.4'."""
    whole, tenth = divmod(value, 10)
    return f"{whole}.{tenth}" if lang == "en" else f"{whole},{tenth}"


def amount(account: str, delta: int, lang: str, signed: bool = True) -> str:
    sign = ("+" if delta > 0 else "-" if delta < 0 else "") if signed else ""
    size = abs(delta) if signed else delta
    if account in ("cashback_cents", "spend_cents"):
        return f"{sign}{money(size, lang)}"
    return f"{sign}{number(size, lang)} {account_name(account, lang, size)}"


#: The singular of the account names that count things (1 visite, 1 visit).
_ONE = {"points": ("point", "point"), "stamps": ("tampon", "stamp"), "visits": ("visite", "visit"),
        "purchases": ("achat", "purchase")}  # fmt: skip


def account_name(account: str, lang: str, n: int = 2) -> str:
    one = abs(n) == 1 if lang == "en" else abs(n) <= 1  # French: 0 and 1 are singular
    fr, en = (_ONE if one and account in _ONE else ACCOUNTS).get(account, (account, account))
    return en if lang == "en" else fr


def rule_label(rule: str, program: Program, lang: str) -> str:
    """'points.purchase' -> "points de l'achat"; 'redeem:bon-5' -> 'échange : Bon de 5 €'."""
    if rule in RULES:
        fr, en = RULES[rule]
        return en if lang == "en" else fr
    if rule in BONUS_LABELS:
        label = BONUS_LABELS[rule]
        return label.en if lang == "en" else label.fr
    for prefix, (fr, en) in (
        ("redeem:", ("échange", "redemption")),
        ("stamps.reward:", ("carte de tampons", "stamp card")),
    ):
        if rule.startswith(prefix):
            reward_id = rule[len(prefix) :]
            reward = program.rewards.get(reward_id)
            name = (reward.name.en if lang == "en" else reward.name.fr) if reward else reward_id
            return f"{en}: {name}" if lang == "en" else f"{fr} : {name}"
    return rule


def voucher_value(value: dict[str, Any], lang: str) -> str:
    kind = value.get("kind")
    if kind == "amount_off":
        return text("value.amount_off", lang, amount=money(int(value["amount_cents"]), lang))
    if kind == "percent_off":
        return text("value.percent_off", lang, percent=value["percent"])
    for key in ("product", "description"):
        if isinstance(value.get(key), dict):
            return str(value[key].get(lang) or value[key].get("fr", ""))
    return str(kind)


def tier_label(program: Program, name: str | None, lang: str) -> str:
    if name is None:
        return "—"
    for tier in program.summary().get("tiers", []):
        if tier["name"] == name:
            return tier["label"].get(lang, name)
    return name


def progress_amount(progress: dict[str, Any], lang: str) -> str:
    basis, missing = progress["basis"], int(progress["missing"])
    if basis == "spend_cents":
        return money(missing, lang)
    return amount(basis, missing, lang, signed=False)


def local_time(stamp: str | None, tz: ZoneInfo, lang: str) -> str:
    """'2026-11-24T09:15:00.000000Z' -> '24/11/2026 10:15' (shop time) / '2026-11-24 10:15'."""
    if not stamp:
        return "—"
    moment = datetime.fromisoformat(stamp).astimezone(tz)
    return moment.strftime("%Y-%m-%d %H:%M" if lang == "en" else "%d/%m/%Y %H:%M")
