"""Pure helpers the screens format with: money, balances, dates, keypad and keyboard input.

No Kivy here (tested without a display). Money stays integer cents until it becomes text.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any

from kiosk.session import texts
from kiosk.session.model import Lang, MemberView
from kiosk.ui.i18n import Tr

MAX_AMOUNT_DIGITS = 7  # 99 999,99 €: more is a typing slip at a shop counter
PIN_MAX_DIGITS = 8


def money(cents: int, lang: Lang) -> str:
    """12,50 € / €12.50."""
    return texts.money(cents)(lang)


def cost_text(cost: dict[str, int], lang: Lang) -> str:
    """A reward's price: "80 points", "10 tampons + 2,00 €"."""
    return " + ".join(
        money(v, lang) if k.endswith("_cents") else texts.count(k, v)(lang) for k, v in cost.items()
    )


def balance_texts(member: MemberView, lang: Lang) -> list[tuple[str, str]]:
    """(balance name, "384 points") for each balance the member's view holds (the program's ones)."""
    keys = [k for k in texts.BALANCE_ORDER if k in member.balances]
    keys += sorted(k for k in member.balances if k not in texts.BALANCE_ORDER)
    return [(k, texts.balance_line(k, member.balances[k])(lang)) for k in keys]


def progress_ratio(progress: dict[str, Any]) -> float | None:
    """current/target for drawing the gauge (0..1), None at the top tier or when the hub sent no target."""
    current, target = progress.get("current"), progress.get("target")
    if not isinstance(current, int) or not isinstance(target, int) or target <= 0:
        return None
    return max(0, min(current, target)) / target


def seen_at_parts(seen_at: str, tz: tzinfo | None = None) -> tuple[str, str]:
    """The hub's UTC time → ("24/11", "10:15") in the kiosk's time zone (or `tz`)."""
    when = datetime.fromisoformat(seen_at.replace("Z", "+00:00")).astimezone(tz)
    return when.strftime("%d/%m"), when.strftime("%H:%M")


def keypad_amount(digits: str) -> int:
    """Digits typed on the amount keypad are cents: "1250" → 1250 (shown as 12,50 €)."""
    return int(digits) if digits else 0


def keypad_push(digits: str, key: str, max_digits: int, *, leading_zero: bool = True) -> str:
    """The keypad's text after one key: a digit appends, "back" removes the last one. An amount has no
    leading zero (leading_zero=False); a PIN may start with one."""
    if key == "back":
        return digits[:-1]
    if len(key) != 1 or not key.isdigit() or len(digits) >= max_digits:
        return digits
    if not leading_zero and not digits and key == "0":
        return digits
    return digits + key


def birth_date_shown(digits: str) -> str:
    """What the birth-date field shows while typing: "24/11/19" (day/month/year in both languages)."""
    parts = [digits[:2], digits[2:4], digits[4:8]]
    return "/".join(p for p in parts if p)


def birth_date_iso(digits: str, today: date | None = None) -> str | None:
    """Eight digits DDMMYYYY → "YYYY-MM-DD"; "" when left empty; None when not a plausible birthday."""
    if not digits:
        return ""
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        day = date(int(digits[4:8]), int(digits[2:4]), int(digits[:2]))
    except ValueError:
        return None
    today = today or date.today()
    if day > today or day.year < today.year - 120:
        return None
    return day.isoformat()


def email_plausible(email: str) -> bool:
    """Enough to catch a slip on a touch keyboard; the hub has the last word."""
    if not email:
        return True
    local, at, domain = email.partition("@")
    return bool(local and at and "." in domain.strip(".") and " " not in email)


def progress_text(member: MemberView, lang: Lang) -> str:
    """ "Plus que 116 points pour le statut Or" / "116 more points to Gold"; a thank-you at the top tier."""
    _ = Tr(lang)
    words = texts.progress_words(member)
    return words(lang) if words is not None else _("Top tier: thank you for your loyalty!")


def stale_text(member: MemberView, lang: Lang, tz: tzinfo | None = None) -> str:
    """ "Dernier solde connu, du 24/11 à 10:15" (the kiosk's copy while the hub cannot answer)."""
    if not member.seen_at:
        words = texts.stale_words(member)
        return words(lang) if words is not None else ""
    _ = Tr(lang)
    day, time = seen_at_parts(member.seen_at, tz)
    return _("Last known balance, from {day} at {time}").format(day=day, time=time)
