"""What expires, given the member's state and hub time.

Mode "fixed": every credit of an expiring balance is a lot with its own expiry date. Debits are
taken from the lots in expiry order (FIFO, the customer's best case); whatever is left of a lot
whose date has passed expires. `state.debited[account]` is the sum of every debit on that
balance, expiry postings included, so running `expire` again after folding its postings finds
nothing more. Mode "inactivity": everything expires when the last activity is `months` old.
Neither ever takes more than the balance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from hub.program.arith import add_months
from hub.program.model import MemberState


@dataclass(frozen=True)
class ExpiryRule:
    mode: str  # "none" | "fixed" | "inactivity"
    months: int
    balances: tuple[str, ...]

    def applies_to(self, account: str) -> bool:
        return self.mode == "fixed" and account in self.balances


def fixed_due(state: MemberState, account: str, now: datetime) -> int:
    """Amount of `account` whose lots have expired at `now` and were not spent."""
    unspent_debit = max(0, state.debited.get(account, 0))
    due = 0
    for lot in sorted(state.lots.get(account, ()), key=lambda lot: lot.expires_at):
        used = min(lot.amount, unspent_debit)
        unspent_debit -= used
        if lot.expires_at <= now:
            due += lot.amount - used
    return min(due, max(0, state.balances.get(account, 0)))


def inactive(state: MemberState, rule: ExpiryRule, now: datetime, tz: ZoneInfo) -> bool:
    last = state.last_activity_at or state.enrolled_at
    return add_months(last, rule.months, tz) <= now


def due(state: MemberState, rule: ExpiryRule, now: datetime, tz: ZoneInfo) -> dict[str, int]:
    """account -> amount to expire now (only positive amounts)."""
    out: dict[str, int] = {}
    if rule.mode == "fixed":
        for account in rule.balances:
            amount = fixed_due(state, account, now)
            if amount > 0:
                out[account] = amount
    elif rule.mode == "inactivity" and inactive(state, rule, now, tz):
        for account in rule.balances:
            amount = max(0, state.balances.get(account, 0))
            if amount > 0:
                out[account] = amount
    return out
