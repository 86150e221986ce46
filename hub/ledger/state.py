"""Reading a member's state from the ledger for the program (I/O side of the pure rules)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import date, datetime

from hub.ledger.clock import iso, parse_iso
from hub.program import Program
from hub.program.model import BALANCES, TOTALS, Lot, MemberState, Posting

MEMBER_COLUMNS = (
    "id, code, first_name, birth_date, enrolled_at, tier, points, stamps, cashback_cents, "
    "spend_cents, visits, purchases, last_activity_at, last_stamp_at, birthday_bonus_years"
)


@dataclass(frozen=True)
class MemberRow:
    id: int
    code: str
    first_name: str | None
    state: MemberState


def _opt_time(text: str | None) -> datetime | None:
    return parse_iso(text) if text else None


def member_by_card(cur: sqlite3.Cursor, card: str) -> tuple | None:
    return cur.execute(
        f"SELECT {MEMBER_COLUMNS} FROM members WHERE id = (SELECT member_id FROM cards WHERE token = ?)",
        (card,),
    ).fetchone()


def member_by_id(cur: sqlite3.Cursor, member_id: int) -> tuple | None:
    return cur.execute(f"SELECT {MEMBER_COLUMNS} FROM members WHERE id = ?", (member_id,)).fetchone()


def rolling_sums(cur: sqlite3.Cursor, member_id: int, since: datetime) -> dict[str, int]:
    """Spend, visits and points EARNED (credits only) since the start of the tier window."""
    out = {"spend_cents": 0, "visits": 0, "points": 0}
    for account, total, credits in cur.execute(
        "SELECT account, SUM(delta), SUM(MAX(delta, 0)) FROM postings "
        "WHERE member_id = ? AND at >= ? AND account IN ('spend_cents', 'visits', 'points') "
        "GROUP BY account",
        (member_id, iso(since)),
    ):
        out[account] = credits if account == "points" else total
    return out


def expiring_lots(
    cur: sqlite3.Cursor, member_id: int, now: datetime
) -> tuple[dict[str, tuple[Lot, ...]], dict[str, int]]:
    """What the program's FIFO expiry needs, in two aggregate queries whatever the member's history.

    Debits consume lots in expiry order, so the lots already due at `now` are consumed first: what
    expires is max(0, due − debited) per balance. One lot per balance holding the sum of the due lots
    therefore gives the program exactly the answer that all the lots would.
    """
    debited: dict[str, int] = {
        account: total
        for account, total in cur.execute(
            "SELECT account, -SUM(delta) FROM postings WHERE member_id = ? AND delta < 0 "
            "AND account IN ('points', 'stamps', 'cashback_cents') GROUP BY account",
            (member_id,),
        )
    }
    lots = {
        account: (Lot(total, parse_iso(latest)),)
        for account, total, latest in cur.execute(
            "SELECT account, SUM(delta), MAX(expires_at) FROM postings WHERE member_id = ? AND delta > 0 "
            "AND expires_at IS NOT NULL AND expires_at <= ? AND account IN ('points', 'stamps', 'cashback_cents') "
            "GROUP BY account",
            (member_id, iso(now)),
        )
    }
    return lots, debited


def load_member(cur: sqlite3.Cursor, row: tuple, program: Program, now: datetime) -> MemberRow:
    (mid, code, first_name, birth, enrolled, tier, points, stamps, cashback, spend, visits, purchases,
     last_activity, last_stamp, bday_years) = row  # fmt: skip
    window_start = program.tier_window_start(now)
    rolling = rolling_sums(cur, mid, window_start) if window_start is not None else {}
    lots, debited = expiring_lots(cur, mid, now) if program.expiry_mode == "fixed" else ({}, {})
    stamps_today = None
    if last_stamp and parse_iso(last_stamp) >= (day_start := program.local_day_start(now)):
        stamps_today = cur.execute(
            "SELECT COALESCE(SUM(delta), 0) FROM postings WHERE member_id = ? AND account = 'stamps' "
            "AND rule = 'stamps.visit' AND at >= ?",
            (mid, iso(day_start)),
        ).fetchone()[0]
    elif last_stamp:
        stamps_today = 0
    state = MemberState(
        enrolled_at=parse_iso(enrolled),
        balances={"points": points, "stamps": stamps, "cashback_cents": cashback},
        totals={"spend_cents": spend, "visits": visits, "purchases": purchases},
        tier=tier,
        birth_date=date.fromisoformat(birth) if birth else None,
        last_activity_at=_opt_time(last_activity),
        last_stamp_at=_opt_time(last_stamp),
        birthday_bonus_years=frozenset(int(y) for y in bday_years.split(",") if y),
        rolling=rolling,
        lots=lots,
        debited=debited,
        stamps_today=stamps_today,
    )
    return MemberRow(mid, code, first_name, state)


def deltas(postings: list[Posting] | tuple[Posting, ...]) -> dict[str, int]:
    out = dict.fromkeys(BALANCES + TOTALS, 0)
    for p in postings:
        out[p.account] += p.delta
    return out


def after(state: MemberState, postings: list[Posting] | tuple[Posting, ...]) -> MemberState:
    """The state once `postings` are applied (used after expiry, before the event itself)."""
    d = deltas(postings)
    debited = dict(state.debited)
    for p in postings:
        if p.delta < 0 and p.account in BALANCES:
            debited[p.account] = debited.get(p.account, 0) - p.delta
    return replace(
        state,
        balances={k: state.balances[k] + d[k] for k in BALANCES},
        totals={k: state.totals[k] + d[k] for k in TOTALS},
        debited=debited,
    )


def rolling_after(rolling: dict[str, int], postings: list[Posting] | tuple[Posting, ...]) -> dict[str, int]:
    out = {"spend_cents": 0, "visits": 0, "points": 0, **rolling}
    for p in postings:
        if p.account in ("spend_cents", "visits"):
            out[p.account] += p.delta
        elif p.account == "points" and p.delta > 0:
            out["points"] += p.delta
    return out
