"""The shop's loyalty program: given a member's state, an event and hub time, what happens.

Pure: no clock, no I/O, no randomness. Every amount is an int; rates are scaled ints and each
computed amount is one exact fraction rounded once (see `arith.round_fraction`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from fidelio.contract import ErrorCode
from hub.program import build, expiry, words
from hub.program.arith import (
    Rounding,
    add_months,
    decimal_en,
    decimal_fr,
    local_date,
    require_aware,
    round_fraction,
    scaled,
)
from hub.program.build import DayMultiplier
from hub.program.model import (
    BALANCES,
    Effect,
    Enrol,
    MemberState,
    Outcome,
    Posting,
    Purchase,
    Redeem,
    Refusal,
    Tap,
    Text,
    TierStatus,
    VoucherGrant,
)
from hub.program.rewards import Reward
from hub.program.schema import ProgramFile
from hub.program.summary import build_summary

# Denominators of the integer rates.
CENTS_PER_EURO = 100
MILLI = 1000  # points.per_euro in thousandths
PERCENT = 100  # multipliers in percent (100 = ×1)
BASIS_POINTS = 10_000  # cashback percent × 100


@dataclass
class _Draft:
    """The outcome being built; tracks this event's own deltas per account."""

    program: Program
    state: MemberState | None
    now: datetime
    postings: list[Posting] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    vouchers: list[VoucherGrant] = field(default_factory=list)
    deltas: Counter[str] = field(default_factory=Counter)
    earned_points: int = 0

    def post(self, account: str, delta: int, rule: str) -> None:
        if delta == 0:
            return
        expires_at = None
        if delta > 0 and self.program.expiry_rule.applies_to(account):
            expires_at = add_months(self.now, self.program.expiry_rule.months, self.program.timezone)
        self.postings.append(Posting(account, delta, rule, expires_at))
        self.deltas[account] += delta
        if account == "points" and delta > 0:
            self.earned_points += delta

    def say(self, kind: str, reason: Text, delta: int | None = None) -> None:
        self.effects.append(Effect(kind, reason, delta))

    def balance(self, account: str) -> int:
        before = self.state.balances.get(account, 0) if self.state else 0
        return before + self.deltas[account]

    def grant(self, amounts: Mapping[str, int], rule: str) -> None:
        for account, amount in amounts.items():
            self.post(account, amount, rule)
            self.say("bonus", words.bonus(account, amount, rule), amount)

    def outcome(self, tier: str | None, birthday_year: int | None = None) -> Outcome:
        return Outcome(tuple(self.postings), tuple(self.effects), tuple(self.vouchers), tier, birthday_year)


class Program:
    """A validated program file, ready to apply. Build it with `load_program(text)`."""

    def __init__(self, text_: str, cfg: ProgramFile) -> None:
        self.text = text_
        self.sha256 = hashlib.sha256(text_.encode("utf-8")).hexdigest()
        self.config = cfg
        self.shop_name = cfg.shop.name
        self.timezone = ZoneInfo(cfg.shop.timezone)
        self.currency = cfg.shop.currency
        self.expiry_mode = cfg.expiry.mode
        self.expiry_rule = expiry.ExpiryRule(
            cfg.expiry.mode, cfg.expiry.months or 0, tuple(cfg.expiry.balances)
        )
        self.points_per_euro_milli = scaled(cfg.points.per_euro, 3) if cfg.points else None
        self.points_rounding: Rounding = cfg.points.rounding if cfg.points else "down"
        self.cashback_basis_points = scaled(cfg.cashback.percent, 2) if cfg.cashback else None
        self.cashback_rounding: Rounding = cfg.cashback.rounding if cfg.cashback else "down"
        self.cashback_multiplied = bool(cfg.cashback and cfg.cashback.multipliers)
        self.stamps = cfg.stamps
        self.tiers = build.ladder(cfg)
        self.bonuses = build.bonuses(cfg)  # rule ("bonus.welcome", …) -> {balance: amount}
        self.birthday_window_days = cfg.bonuses.birthday.window_days if cfg.bonuses.birthday else 0
        self.day_multipliers = build.day_multipliers(cfg)
        self.voucher_valid_days = cfg.vouchers.valid_days
        stamp_reward = cfg.stamps.reward if cfg.stamps else None
        every = cfg.stamps.every if cfg.stamps else None
        self.rewards: Mapping[str, Reward] = MappingProxyType(
            {
                r.id: Reward.from_schema(r, cfg.vouchers.valid_days, every if r.id == stamp_reward else None)
                for r in cfg.rewards
            }
        )
        self.enrolment_policy = cfg.enrolment.policy
        self.enrolment_threshold_cents = cfg.enrolment.threshold_cents or 0

    # --- time ---------------------------------------------------------------------------------

    def local_day_start(self, now: datetime) -> datetime:
        """The shop-local midnight that starts `now`'s day, in UTC (for counting today's stamps)."""
        today = local_date(now, self.timezone)
        return datetime.combine(today, time(0), tzinfo=self.timezone).astimezone(UTC)

    def tier_window_start(self, now: datetime) -> datetime | None:
        """Start of the rolling tier window ending at `now` (None when the program has no tiers)."""
        if not self.tiers.real:
            return None
        return add_months(now, -self.tiers.window_months, self.timezone)

    # --- enrolment ----------------------------------------------------------------------------

    def enrolment_offer(self, anonymous_spend_cents: int) -> dict[str, Any]:
        if self.enrolment_policy == "everyone":
            return {"offer": True, "missing_cents": 0}
        missing = max(0, self.enrolment_threshold_cents - anonymous_spend_cents)
        return {"offer": missing == 0, "missing_cents": missing}

    def enrol(self, event: Enrol, now: datetime) -> Outcome:
        now = require_aware(now)
        offer = self.enrolment_offer(event.anonymous_spend_cents)
        if not offer["offer"]:
            raise Refusal(
                ErrorCode.ENROLMENT_NOT_ELIGIBLE, f"{offer['missing_cents']} cents short of the threshold"
            )
        draft = _Draft(self, None, now)
        draft.grant(self.bonuses.get("bonus.welcome", {}), "bonus.welcome")
        if event.consent_email:
            draft.grant(self.bonuses.get("bonus.newsletter", {}), "bonus.newsletter")
        if event.referred:
            draft.grant(self.bonuses.get("bonus.referral.referee", {}), "bonus.referral.referee")
        self._settle_stamps(draft)
        return draft.outcome(self._tier_after(draft))

    def referral(self, now: datetime) -> Outcome:
        """The referrer's reward when someone enrols with their code; `tier` is left None."""
        draft = _Draft(self, None, require_aware(now))
        draft.grant(self.bonuses.get("bonus.referral.referrer", {}), "bonus.referral.referrer")
        return draft.outcome(None)

    # --- events -------------------------------------------------------------------------------

    def apply(self, state: MemberState, event: Tap | Purchase | Redeem, now: datetime) -> Outcome:
        """The postings and effects of `event` for a member in `state`; raises `Refusal`."""
        now = require_aware(now)
        draft = _Draft(self, state, now)
        birthday_year = None
        if isinstance(event, Tap):
            self._tap(draft, state)
            birthday_year = self._birthday(draft, state)
        elif isinstance(event, Purchase):
            self._purchase(draft, state, event.amount_cents)
            birthday_year = self._birthday(draft, state)
        elif isinstance(event, Redeem):
            self._redeem(draft, state, event)
        else:
            raise TypeError(f"not an event: {event!r}")
        self._settle_stamps(draft)
        return draft.outcome(self._tier_after(draft), birthday_year)

    def _tap(self, draft: _Draft, state: MemberState) -> None:
        draft.post("visits", 1, "visit")
        draft.say("visit", words.visit(), 1)
        if self.stamps is None:
            return
        give = min(self.stamps.per_visit, self.stamps.max_per_day - self._stamps_today(state, draft.now))
        if give <= 0:
            draft.say("stamps", words.stamps_already_today())
            return
        draft.post("stamps", give, "stamps.visit")
        draft.say("stamps", words.stamps_credit(give, draft.balance("stamps"), self.stamps.every), give)

    def _stamps_today(self, state: MemberState, now: datetime) -> int:
        if state.stamps_today is not None:
            return state.stamps_today
        if state.last_stamp_at is None:
            return 0
        same_day = local_date(state.last_stamp_at, self.timezone) == local_date(now, self.timezone)
        return self.stamps.max_per_day if same_day and self.stamps else 0

    def _purchase(self, draft: _Draft, state: MemberState, cents: int) -> None:
        if isinstance(cents, bool) or not isinstance(cents, int) or cents <= 0:
            raise ValueError("amount_cents must be a positive int")
        draft.post("spend_cents", cents, "purchase")
        draft.post("purchases", 1, "purchase")
        level = self.tiers.level_for(state.rolling)
        day = self._day_for(draft.now)
        tier_pct = level.multiplier_percent
        day_pct = day.percent if day else PERCENT
        notes = []
        if tier_pct != PERCENT:
            notes.append(
                Text(
                    f"niveau {level.label.fr} ×{decimal_fr(tier_pct, 2)}",
                    f"{level.label.en} tier ×{decimal_en(tier_pct, 2)}",
                )
            )
        if day is not None and day_pct != PERCENT:
            notes.append(
                Text(f"{day.label.fr} ×{decimal_fr(day_pct, 2)}", f"{day.label.en} ×{decimal_en(day_pct, 2)}")
            )
        told = False
        if self.points_per_euro_milli is not None:
            points = round_fraction(
                cents * self.points_per_euro_milli * tier_pct * day_pct,
                CENTS_PER_EURO * MILLI * PERCENT * PERCENT,
                self.points_rounding,
            )
            if points > 0:
                draft.post("points", points, "points.purchase")
                draft.say("points", words.purchase_points(points, cents, notes), points)
                told = True
        if self.cashback_basis_points is not None:
            factor = tier_pct * day_pct if self.cashback_multiplied else PERCENT * PERCENT
            cashback = round_fraction(
                cents * self.cashback_basis_points * factor,
                BASIS_POINTS * PERCENT * PERCENT,
                self.cashback_rounding,
            )
            if cashback > 0:
                bp = self.cashback_basis_points
                percent = Text(f"{decimal_fr(bp, 2)} %", f"{decimal_en(bp, 2)}%")
                draft.post("cashback_cents", cashback, "cashback.purchase")
                notes_here = notes if self.cashback_multiplied else []
                draft.say("cashback", words.purchase_cashback(cashback, cents, percent, notes_here), cashback)
                told = True
        if not told:
            draft.say("purchase", words.purchase_only(cents))
        if state.totals.get("purchases", 0) == 0:
            draft.grant(self.bonuses.get("bonus.first_purchase", {}), "bonus.first_purchase")

    def _day_for(self, now: datetime) -> DayMultiplier | None:
        today = local_date(now, self.timezone)
        matching = [d for d in self.day_multipliers if d.matches(today)]
        return max(matching, key=lambda d: d.percent) if matching else None

    def _birthday(self, draft: _Draft, state: MemberState) -> int | None:
        """Grant the birthday bonus if `now` is within the window of a birthday not yet rewarded."""
        grant = self.bonuses.get("bonus.birthday")
        if not grant or state.birth_date is None:
            return None
        today = local_date(draft.now, self.timezone)
        for year in (today.year - 1, today.year, today.year + 1):
            if year in state.birthday_bonus_years:
                continue
            if abs((today - _birthday_in(state.birth_date, year)).days) <= self.birthday_window_days:
                draft.grant(grant, "bonus.birthday")
                return year
        return None

    def _redeem(self, draft: _Draft, state: MemberState, event: Redeem) -> None:
        reward = self.rewards.get(event.reward_id)
        if reward is None:
            raise Refusal(ErrorCode.UNKNOWN_REWARD, f"no reward {event.reward_id!r}")
        if reward.min_tier is not None:
            needed = self.tiers.index_of(reward.min_tier) or 0
            current = self.tiers.index_for(self.tiers.metric(state.rolling))
            if current < needed:
                raise Refusal(ErrorCode.REWARD_UNAVAILABLE, f"needs tier {reward.min_tier}")
        if reward.stock is not None and event.issued_so_far >= reward.stock:
            raise Refusal(ErrorCode.REWARD_UNAVAILABLE, "out of stock")
        short = {
            a: c - state.balances.get(a, 0) for a, c in reward.cost.items() if c > state.balances.get(a, 0)
        }
        if short:
            missing = ", ".join(f"{n} {a}" for a, n in short.items())
            raise Refusal(ErrorCode.INSUFFICIENT_BALANCE, f"missing {missing}")
        for account, amount in reward.cost.items():
            draft.post(account, -amount, f"redeem:{reward.id}")
            draft.say(words.EFFECT_KINDS[account], words.redeem_debit(account, amount, reward.name), -amount)
        self._voucher(draft, reward)

    def _voucher(self, draft: _Draft, reward: Reward) -> None:
        expires_at = draft.now + timedelta(days=reward.valid_days)
        value = {k: dict(v) if isinstance(v, dict) else v for k, v in reward.value.items()}
        draft.vouchers.append(VoucherGrant(reward.id, value, expires_at, reward.name))
        until = local_date(expires_at, self.timezone)
        draft.say("voucher", words.voucher(reward.name, until, reward.automatic))

    def _settle_stamps(self, draft: _Draft) -> None:
        """A full stamp card becomes a voucher: debit `every` stamps per voucher."""
        if self.stamps is None or self.stamps.every is None or self.stamps.reward is None:
            return
        reward = self.rewards[self.stamps.reward]
        every = self.stamps.every
        while draft.balance("stamps") >= every:
            draft.post("stamps", -every, f"stamps.reward:{reward.id}")
            draft.say("stamps", words.redeem_debit("stamps", every, reward.name), -every)
            self._voucher(draft, reward)

    def _tier_after(self, draft: _Draft) -> str:
        """The tier after the event (rolling metric + this event's own contribution), with an
        Effect when it differs from the recorded one."""
        rolling = dict(draft.state.rolling) if draft.state else {}
        rolling["spend_cents"] = rolling.get("spend_cents", 0) + draft.deltas["spend_cents"]
        rolling["visits"] = rolling.get("visits", 0) + draft.deltas["visits"]
        rolling["points"] = rolling.get("points", 0) + draft.earned_points
        level = self.tiers.level_for(rolling)
        if draft.state is None:
            if self.tiers.real:
                draft.say("tier", words.tier_change(level.label, up=True, first=True))
            return level.name
        old = draft.state.tier
        if level.name != old:
            old_index = self.tiers.index_of(old)
            new_index = self.tiers.index_of(level.name) or 0
            up = old_index is not None and new_index > old_index
            draft.say("tier", words.tier_change(level.label, up=up, first=old is None))
        return level.name

    # --- expiry, status, summary ----------------------------------------------------------------

    def expire(self, state: MemberState, now: datetime) -> Outcome:
        """Expiry postings due at hub time `now` (negative deltas, never more than the balance)."""
        now = require_aware(now)
        rule = self.expiry_rule
        draft = _Draft(self, state, now)
        for account, amount in expiry.due(state, rule, now, self.timezone).items():
            draft.post(account, -amount, f"expiry.{rule.mode}")
            draft.say(
                "expiry", words.expired(account, amount, rule.months, rule.mode == "inactivity"), -amount
            )
        return draft.outcome(state.tier)

    def tier_status(self, rolling: dict[str, int]) -> TierStatus:
        return self.tiers.status(rolling)

    def balances_used(self) -> list[str]:
        cfg = self.config
        used = {
            "points": cfg.points is not None,
            "stamps": cfg.stamps is not None,
            "cashback_cents": cfg.cashback is not None,
        }
        for amounts in [*self.bonuses.values(), *(r.cost for r in self.rewards.values())]:
            for account in amounts:
                used[account] = True
        return [b for b in BALANCES if used[b]]

    def summary(self) -> dict[str, Any]:
        return build_summary(self)


def _birthday_in(born: date, year: int) -> date:
    """The birthday in `year` (29 February falls on the 28th in other years)."""
    if born.month == 2 and born.day == 29:
        try:
            return date(year, 2, 29)
        except ValueError:
            return date(year, 2, 28)
    return date(year, born.month, born.day)
