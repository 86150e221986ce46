"""Integer arithmetic and formatting helpers for the program rules.

No floats anywhere: rates are scaled integers (thousandths, percent, basis points) and every
computation is an exact fraction rounded once, at the end.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

Rounding = Literal["down", "nearest", "up"]

NBSP = "\u00a0"  # no-break space (CP858 has it; the narrow one it has not): thousands, before "€"


def scaled(value: Decimal | int, places: int) -> int:
    """`value` × 10**places as an exact int (the schema already refused extra precision)."""
    out = Decimal(value).scaleb(places)
    if out != out.to_integral_value():
        raise ValueError(f"{value} has more than {places} decimal places")
    return int(out)


def round_fraction(num: int, den: int, rule: Rounding) -> int:
    """Round num/den (den > 0) to an int: "down" = floor, "up" = ceiling, "nearest" = half up."""
    if den <= 0:
        raise ValueError("denominator must be positive")
    if rule == "down":
        return num // den
    if rule == "up":
        return -((-num) // den)
    return (2 * num + den) // (2 * den)


def require_aware(now: datetime) -> datetime:
    """Hub time must be timezone-aware; normalise it to UTC."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` must be a timezone-aware datetime (hub time, UTC)")
    return now.astimezone(UTC)


def add_months(moment: datetime, months: int, tz: ZoneInfo) -> datetime:
    """`moment` plus calendar months in the shop's zone (day of month clamped), returned in UTC."""
    local = require_aware(moment).astimezone(tz)
    index = local.year * 12 + (local.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(UTC)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return require_aware(moment).astimezone(tz).date()


# --- formatting -------------------------------------------------------------------------------


def _group(n: int, sep: str) -> str:
    digits = f"{abs(n):,}".replace(",", sep)
    return f"-{digits}" if n < 0 else digits


def int_fr(n: int) -> str:
    return _group(n, NBSP)


def int_en(n: int) -> str:
    return _group(n, ",")


def euros_fr(cents: int, compact: bool = False) -> str:
    """1234 → "12,34 €"; 123456 → "1 234,56 €" (French style); compact: 15000 → "150 €"."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    if compact and frac == 0:
        return f"{sign}{_group(whole, NBSP)}{NBSP}€"
    return f"{sign}{_group(whole, NBSP)},{frac:02d}{NBSP}€"


def euros_en(cents: int, compact: bool = False) -> str:
    """1234 → "12.34 €"; compact: 15000 → "150 €"."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    if compact and frac == 0:
        return f"{sign}{_group(whole, ',')} €"
    return f"{sign}{_group(whole, ',')}.{frac:02d} €"


def plural_fr(n: int, one: str, many: str) -> str:
    """French: singular for 0 and 1."""
    return one if abs(n) < 2 else many


def plural_en(n: int, one: str, many: str) -> str:
    return one if abs(n) == 1 else many


def decimal_fr(value: int, places: int) -> str:
    """A scaled integer shown as a decimal the French way: (150, 2) → "1,5"."""
    text = str(Decimal(value).scaleb(-places).normalize())
    if "E" in text:  # normalize() gives "1E+1" for 10
        text = str(Decimal(value).scaleb(-places).quantize(Decimal(1)))
    return text.replace(".", ",")


def decimal_en(value: int, places: int) -> str:
    return decimal_fr(value, places).replace(",", ".")


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def date_fr(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def date_en(day: date) -> str:
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"
