"""The program file's schema (pydantic v2): strict types, unknown keys refused.

Only per-field checks live here; checks that relate several keys (references, ordering,
"which keys a reward kind needs") are in `checks.py`, so their errors can point at the right key.
Decimal values (rates, multipliers) come from TOML ints or floats and are kept as exact `Decimal`s
(converted through `str`, precision checked); `rules.py` turns them into scaled integers.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

BalanceName = Literal["points", "stamps", "cashback_cents"]
RoundingName = Literal["down", "nearest", "up"]
WEEKDAYS_EN = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
WeekdayName = Literal[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
]


def issue(fr: str, en: str, fix_fr: str, fix_en: str) -> PydanticCustomError:
    """A validation error carrying its own French/English text and fix (type "fidelio")."""
    return PydanticCustomError("fidelio", "{en}", {"fr": fr, "en": en, "fix_fr": fix_fr, "fix_en": fix_en})


def _decimal(places: int):  # type: ignore[no-untyped-def]
    def convert(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise issue(
                "un nombre est attendu",
                "a number is expected",
                "écrivez un nombre sans guillemets, p. ex. 1 ou 1.5",
                "write a number without quotes, e.g. 1 or 1.5",
            )
        number = Decimal(str(value))
        if not number.is_finite():
            raise issue(
                "nombre invalide", "invalid number", "écrivez un nombre fini", "write a finite number"
            )
        exponent = number.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -places:
            raise issue(
                f"au plus {places} chiffres après la virgule (reçu {value})",
                f"at most {places} decimal places (got {value})",
                f"arrondissez à {places} décimales",
                f"round it to {places} decimal places",
            )
        return number

    return convert


Dec2 = Annotated[Decimal, BeforeValidator(_decimal(2))]
Dec3 = Annotated[Decimal, BeforeValidator(_decimal(3))]


def _text(value: Any) -> Any:
    """A bilingual text may be written as a plain string, used for both languages."""
    if isinstance(value, str):
        return {"fr": value, "en": value}
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


NonEmpty = Annotated[str, Field(min_length=1, max_length=200)]


class BilingualModel(Strict):
    fr: NonEmpty
    en: NonEmpty


Bilingual = Annotated[BilingualModel, BeforeValidator(_text)]


class BilingualList(Strict):
    fr: list[NonEmpty] = []
    en: list[NonEmpty] = []


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise issue(
            f"fuseau horaire inconnu « {value} »",
            f"unknown time zone “{value}”",
            'utilisez un nom IANA, p. ex. "Europe/Paris"',
            'use an IANA name, e.g. "Europe/Paris"',
        ) from exc
    return value


class Shop(Strict):
    name: NonEmpty
    timezone: Annotated[str, Field(min_length=1), AfterValidator(_zone)] = "Europe/Paris"
    currency: Literal["EUR"] = "EUR"


class Points(Strict):
    per_euro: Annotated[Dec3, Field(gt=0, le=10_000)]
    rounding: RoundingName = "down"


class Stamps(Strict):
    per_visit: Annotated[int, Field(ge=1, le=100)] = 1
    max_per_day: Annotated[int, Field(ge=1, le=100)] = 1
    every: Annotated[int, Field(ge=1, le=1000)] | None = None
    reward: NonEmpty | None = None


class Cashback(Strict):
    percent: Annotated[Dec2, Field(gt=0, le=100)]
    rounding: RoundingName = "down"
    multipliers: bool = False  # apply tier and day multipliers to cashback too


class Privileges(BilingualList):
    pass


class Level(Strict):
    name: Annotated[str, Field(min_length=1, max_length=40)]
    label: Bilingual | None = None
    threshold: Annotated[int, Field(ge=0)] | None = None
    threshold_euros: Annotated[Dec2, Field(ge=0)] | None = None
    multiplier: Annotated[Dec2, Field(gt=0, le=100)] = Decimal(1)
    privileges: Privileges | None = None


class Tiers(Strict):
    basis: Literal["spend_cents", "visits", "points"] = "spend_cents"
    window_months: Annotated[int, Field(ge=1, le=120)] = 12
    levels: Annotated[list[Level], Field(min_length=1)]


Amount = Annotated[int, Field(ge=0, le=10_000_000)]


class Grant(Strict):
    """What a bonus gives, per balance, e.g. {points = 50}."""

    points: Amount | None = None
    stamps: Amount | None = None
    cashback_cents: Amount | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Grant:
        if not any(self.amounts().values()):
            raise issue(
                "ce bonus ne donne rien",
                "this bonus grants nothing",
                "donnez une quantité, p. ex. {points = 50}, ou supprimez la ligne",
                "give an amount, e.g. {points = 50}, or remove the line",
            )
        return self

    def amounts(self) -> dict[str, int]:
        raw = {"points": self.points, "stamps": self.stamps, "cashback_cents": self.cashback_cents}
        return {k: v for k, v in raw.items() if v}


class Birthday(Grant):
    window_days: Annotated[int, Field(ge=0, le=31)] = 7


class Referral(Strict):
    referrer: Grant | None = None
    referee: Grant | None = None


class DayMultiplier(Strict):
    weekday: WeekdayName | None = None
    date: dt.date | None = None
    multiplier: Annotated[Dec2, Field(gt=0, le=100)]
    label: Bilingual | None = None


class Bonuses(Strict):
    welcome: Grant | None = None
    first_purchase: Grant | None = None
    newsletter_optin: Grant | None = None
    birthday: Birthday | None = None
    referral: Referral | None = None
    day_multiplier: list[DayMultiplier] = []


class Expiry(Strict):
    mode: Literal["none", "fixed", "inactivity"] = "none"
    months: Annotated[int, Field(ge=1, le=120)] | None = None
    balances: list[BalanceName] = ["points", "stamps", "cashback_cents"]


class Vouchers(Strict):
    valid_days: Annotated[int, Field(ge=1, le=3650)] = 30


class Cost(Strict):
    points: Annotated[int, Field(ge=1)] | None = None
    stamps: Annotated[int, Field(ge=1)] | None = None
    cashback_cents: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Cost:
        if not self.amounts():
            raise issue(
                "coût vide",
                "empty cost",
                "indiquez ce que coûte la récompense, p. ex. {points = 100}",
                "say what the reward costs, e.g. {points = 100}",
            )
        return self

    def amounts(self) -> dict[str, int]:
        raw = {"points": self.points, "stamps": self.stamps, "cashback_cents": self.cashback_cents}
        return {k: v for k, v in raw.items() if v is not None}


_REWARD_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def _reward_id(value: Any) -> Any:
    if isinstance(value, str) and not _REWARD_ID.match(value):
        raise issue(
            f"identifiant invalide « {value} »",
            f"invalid id “{value}”",
            'minuscules, chiffres, - et _ (40 au plus), p. ex. "cafe-offert"',
            'lower-case letters, digits, - and _ (at most 40), e.g. "free-coffee"',
        )
    return value


class Reward(Strict):
    id: Annotated[str, BeforeValidator(_reward_id)]
    name: Bilingual
    kind: Literal["amount_off", "percent_off", "free_product", "experience"]
    cost: Cost | None = None
    amount_cents: Annotated[int, Field(ge=1)] | None = None
    percent: Annotated[int, Field(ge=1, le=100)] | None = None
    product: Bilingual | None = None
    description: Bilingual | None = None
    min_tier: NonEmpty | None = None
    stock: Annotated[int, Field(ge=0)] | None = None
    valid_days: Annotated[int, Field(ge=1, le=3650)] | None = None


class Enrolment(Strict):
    policy: Literal["everyone", "spend_threshold"] = "everyone"
    threshold_cents: Annotated[int, Field(ge=1)] | None = None


class ProgramFile(Strict):
    """The whole file."""

    shop: Shop
    points: Points | None = None
    stamps: Stamps | None = None
    cashback: Cashback | None = None
    tiers: Tiers | None = None
    bonuses: Bonuses = Bonuses()
    expiry: Expiry = Expiry()
    vouchers: Vouchers = Vouchers()
    rewards: list[Reward] = []
    enrolment: Enrolment = Enrolment()
