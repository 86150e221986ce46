"""Value types exchanged between the loyalty program (pure rules) and the ledger (SQLite).

The ledger builds a `MemberState` from its tables, asks the program what an event does, and writes
the `Outcome`'s postings. Nothing here knows about SQLite, MQTT or the clock: times come in as
arguments (timezone-aware UTC datetimes; the program converts to the shop's zone where a rule
speaks of days, weekdays or birthdays).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from fidelio.contract import ErrorCode

#: Spendable balances, in their own integer units.
BALANCES = ("points", "stamps", "cashback_cents")
#: Lifetime counters; they are postings too, so the members table is a pure fold of postings.
TOTALS = ("spend_cents", "visits", "purchases")
ACCOUNTS = BALANCES + TOTALS
#: What a tier threshold can be measured on (rolling window).
TIER_BASES = ("spend_cents", "visits", "points")


@dataclass(frozen=True)
class Text:
    fr: str
    en: str

    def to_json(self) -> dict[str, str]:
        return {"fr": self.fr, "en": self.en}


@dataclass(frozen=True)
class Posting:
    """One movement on one account of one member. `rule` names the rule that made it."""

    account: str
    delta: int
    rule: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Effect:
    """What the customer is told about an event (`effects` in the reply)."""

    kind: str  # points | stamps | cashback | tier | bonus | voucher | expiry | visit | purchase
    reason: Text
    delta: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.delta is not None:
            out["delta"] = self.delta
        out["reason"] = self.reason.to_json()
        return out


@dataclass(frozen=True)
class Lot:
    """A credit that expires on a fixed date (expiry mode "fixed")."""

    amount: int
    expires_at: datetime


@dataclass(frozen=True)
class MemberState:
    """What the program needs to know about a member, as of `now`, before the event."""

    enrolled_at: datetime
    balances: dict[str, int]  # BALANCES -> value
    totals: dict[str, int]  # TOTALS -> value
    tier: str | None  # tier recorded in the projection (None before the first computation)
    birth_date: date | None = None
    last_activity_at: datetime | None = None  # last tap, purchase or redemption
    last_stamp_at: datetime | None = None  # when the last visit stamp was credited
    birthday_bonus_years: frozenset[int] = frozenset()  # years a birthday bonus was already given
    #: Sums over the tier window (TIER_BASES -> value), as of now, before the event: postings made
    #: since `Program.tier_window_start(now)`; for "points" only the positive ones (points earned,
    #: bonuses included: redemptions and expiry do not lower a tier).
    rolling: dict[str, int] = field(default_factory=dict)
    #: Expiring credits per balance (postings with an `expires_at`), and the total ever debited
    #: from that balance (every negative delta, expiry postings included): see `expiry.py` (FIFO).
    lots: dict[str, tuple[Lot, ...]] = field(default_factory=dict)
    debited: dict[str, int] = field(default_factory=dict)
    #: Visit stamps ("stamps.visit" postings) already credited since the shop-local midnight of
    #: `now` (`Program.local_day_start(now)`). None = not counted: then a `last_stamp_at` on the same
    #: local day as `now` counts as the whole day's quota (exact when max_per_day is 1, the default).
    stamps_today: int | None = None


# Events, as the program sees them (the contract's request bodies, validated).
@dataclass(frozen=True)
class Tap:
    pass


@dataclass(frozen=True)
class Purchase:
    amount_cents: int


@dataclass(frozen=True)
class Redeem:
    reward_id: str
    issued_so_far: int  # vouchers already issued for this reward (stock)


@dataclass(frozen=True)
class Enrol:
    consent_email: bool
    consent_sms: bool
    referred: bool  # a valid referrer code was given
    anonymous_spend_cents: int  # what this card spent before enrolling (enrolment threshold)
    birth_date: date | None = None


@dataclass(frozen=True)
class VoucherGrant:
    """A voucher to issue; the ledger draws its code (randomness is I/O)."""

    reward_id: str
    #: {"kind": "amount_off", "amount_cents": 500} | percent_off | free_product | experience
    value: dict[str, Any]
    expires_at: datetime
    name: Text


@dataclass(frozen=True)
class TierStatus:
    name: str
    next: str | None
    progress: dict[str, Any]  # {"basis", "current", "target", "missing", "window_months"} or {} at the top

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "next": self.next, "progress": dict(self.progress)}


@dataclass(frozen=True)
class Outcome:
    postings: tuple[Posting, ...] = ()
    effects: tuple[Effect, ...] = ()
    vouchers: tuple[VoucherGrant, ...] = ()
    tier: str | None = None  # the member's tier after the event
    birthday_bonus_year: int | None = None  # set when this event gave the birthday bonus


class Refusal(Exception):
    """The program refuses the event (insufficient balance, reward unavailable, …)."""

    def __init__(self, code: ErrorCode, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
