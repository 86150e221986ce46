"""Turn the validated file (`schema.ProgramFile`) into the integer form the rules use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hub.program.arith import date_en, date_fr, scaled
from hub.program.model import Text
from hub.program.rewards import text
from hub.program.schema import WEEKDAYS_EN, WEEKDAYS_FR, ProgramFile
from hub.program.schema import DayMultiplier as RawDayMultiplier
from hub.program.tiers import TierLadder, TierLevel


@dataclass(frozen=True)
class DayMultiplier:
    weekday: int | None  # 0 = Monday
    day: date | None
    percent: int  # 200 = ×2
    label: Text

    def matches(self, today: date) -> bool:
        return self.day == today if self.day is not None else today.weekday() == self.weekday


def ladder(cfg: ProgramFile) -> TierLadder:
    if cfg.tiers is None:
        return TierLadder.implicit()
    levels = []
    for lv in cfg.tiers.levels:
        threshold = lv.threshold if lv.threshold is not None else scaled(lv.threshold_euros or 0, 2)
        label = text(lv.label) if lv.label else Text(lv.name, lv.name)
        fr = lv.privileges.fr if lv.privileges else []
        en = lv.privileges.en if lv.privileges else []
        privileges = tuple(
            Text(fr[i] if i < len(fr) else en[i], en[i] if i < len(en) else fr[i])
            for i in range(max(len(fr), len(en)))
        )
        levels.append(TierLevel(lv.name, label, threshold, scaled(lv.multiplier, 2), privileges))
    return TierLadder(cfg.tiers.basis, cfg.tiers.window_months, tuple(levels))


def bonuses(cfg: ProgramFile) -> dict[str, dict[str, int]]:
    """Posting rule -> what it grants, for the bonuses the file defines."""
    raw = cfg.bonuses
    referral = raw.referral
    out: dict[str, dict[str, int]] = {}
    for rule, grant in (
        ("bonus.welcome", raw.welcome),
        ("bonus.first_purchase", raw.first_purchase),
        ("bonus.newsletter", raw.newsletter_optin),
        ("bonus.birthday", raw.birthday),
        ("bonus.referral.referrer", referral.referrer if referral else None),
        ("bonus.referral.referee", referral.referee if referral else None),
    ):
        if grant is not None:
            out[rule] = grant.amounts()
    return out


def day_multiplier(raw: RawDayMultiplier) -> DayMultiplier:
    percent = scaled(raw.multiplier, 2)
    if raw.date is not None:
        label = text(raw.label) if raw.label else Text(date_fr(raw.date), date_en(raw.date))
        return DayMultiplier(None, raw.date, percent, label)
    names = WEEKDAYS_EN if raw.weekday in WEEKDAYS_EN else WEEKDAYS_FR
    index = names.index(raw.weekday or "")
    label = text(raw.label) if raw.label else Text(WEEKDAYS_FR[index], WEEKDAYS_EN[index].capitalize())
    return DayMultiplier(index, None, percent, label)


def day_multipliers(cfg: ProgramFile) -> tuple[DayMultiplier, ...]:
    return tuple(day_multiplier(d) for d in cfg.bonuses.day_multiplier)
