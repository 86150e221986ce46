"""Manager actions as ledger requests: adjust a balance, replace a lost card, merge two members.

They come from the staff web as `DirectRequest`s (type `adjust`, `card_replace`, `merge`; `member` is the
member's code; the body carries the manager's `reason`) and are applied by `Ledger.apply_batch` like a
kiosk's request: same batch, same SAVEPOINT, dedupe by id (a form sent twice is applied once), an event
with its stored reply, postings and the projection updated together, and the event on `hub/events`.

- adjust: one posting, rule `manual_adjustment`, on a balance; never below zero (refused).
- card_replace: the old card is detached, the new one attached to the same member: the balance stays
  with the member, so the old card is an unknown card from then on and the new one works at once.
- merge: the other member's postings, summed per account (credits per expiry date, so they expire as
  they would have), are posted to the kept member (rule `merge`) and zeroed on the other one, whose
  cards move over and who is marked `merged_into`. Moved spend counts in the kept member's tier window
  from the merge on.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING

from fidelio.contract import ErrorCode
from hub.ledger.clock import parse_iso
from hub.ledger.search import card_token
from hub.ledger.state import MEMBER_COLUMNS, MemberRow, load_member, rolling_after
from hub.program.arith import add_months
from hub.program.model import ACCOUNTS, BALANCES, Effect, Outcome, Posting, Text

if TYPE_CHECKING:
    from hub.ledger.ledger import DirectRequest, Ledger, _Plan

STAFF_TYPES = ("adjust", "card_replace", "merge")
MAX_ADJUST = 10_000_000
_UNITS = {"points": ("point(s)", "point(s)"), "stamps": ("tampon(s)", "stamp(s)"),
          "cashback_cents": ("centime(s) de cagnotte", "kitty cent(s)")}  # fmt: skip


class StaffRefusal(Exception):
    def __init__(self, code: ErrorCode, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _reason(req: DirectRequest) -> str:
    reason = req.body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise StaffRefusal(ErrorCode.MALFORMED, "a reason is required")
    return reason.strip()


def plan_staff_action(ledger: Ledger, cur: sqlite3.Cursor, req: DirectRequest, row: tuple | None,
                      now: datetime) -> _Plan:  # fmt: skip
    if row is None:
        raise StaffRefusal(ErrorCode.MALFORMED, f"no member {req.member}")
    _reason(req)
    member = load_member(cur, row, ledger.program, now)
    if req.type == "adjust":
        postings, effects = _adjust(ledger, req, member, now)
    elif req.type == "card_replace":
        postings, effects = _card_replace(cur, req, member, now)
    else:
        return _merge(ledger, cur, req, member, now)
    return _plan(ledger, req, member, postings, effects, now)


def _plan(ledger: Ledger, req: DirectRequest, member: MemberRow, postings: list[Posting],
          effects: list[Effect], now: datetime, others: list[tuple[int, Posting]] | None = None) -> _Plan:  # fmt: skip
    from hub.ledger.ledger import _Plan

    tier = ledger.program.tier_status(rolling_after(member.state.rolling, postings)).name
    outcome = Outcome(postings=tuple(postings), effects=tuple(effects), tier=tier)
    plan = _Plan(reply={}, member_id=member.id, effects=list(effects))
    plan.postings = [(member.id, p) for p in postings] + list(others or [])
    plan.projection = [(member.id, ledger._projection(member, postings, outcome, now, activity=False))]
    plan.reply = ledger._ok(req, member, postings, outcome, plan.effects, [], now)
    return plan


def _adjust(
    ledger: Ledger, req: DirectRequest, member: MemberRow, now: datetime
) -> tuple[list[Posting], list[Effect]]:
    account, delta = req.body.get("account"), req.body.get("delta")
    if account not in BALANCES or not isinstance(delta, int) or isinstance(delta, bool):
        raise StaffRefusal(ErrorCode.MALFORMED, "account must be a balance and delta an integer")
    if delta == 0 or abs(delta) > MAX_ADJUST:
        raise StaffRefusal(ErrorCode.MALFORMED, f"delta must be non-zero and at most {MAX_ADJUST}")
    balance = member.state.balances[account]
    if balance + delta < 0:
        raise StaffRefusal(
            ErrorCode.INSUFFICIENT_BALANCE, f"{account} is {balance}; {delta} would make it negative"
        )
    rule = ledger.program.expiry_rule
    expires = None
    if delta > 0 and rule.applies_to(account):  # a credit expires like any other (hub/program/rules.py)
        expires = add_months(now, rule.months, ledger.program.timezone)
    fr_unit, en_unit = _UNITS[account]
    reason = _reason(req)
    effect = Effect(
        {"points": "points", "stamps": "stamps", "cashback_cents": "cashback"}[account],
        Text(f"Ajustement par l'équipe ({delta:+d} {fr_unit}) : {reason}",
             f"Adjustment by the staff ({delta:+d} {en_unit}): {reason}"),
        delta,
    )  # fmt: skip
    return [Posting(account, delta, "manual_adjustment", expires)], [effect]


def _card_replace(
    cur: sqlite3.Cursor, req: DirectRequest, member: MemberRow, now: datetime
) -> tuple[list[Posting], list[Effect]]:
    from hub.ledger.clock import iso

    old, new = card_token(str(req.body.get("old_card", ""))), card_token(str(req.body.get("new_card", "")))
    if old is None or new is None or old == new:
        raise StaffRefusal(ErrorCode.MALFORMED, "old_card and new_card must be two card tokens")
    owner = cur.execute("SELECT member_id FROM cards WHERE token = ?", (old,)).fetchone()
    if owner is None or owner[0] != member.id:
        raise StaffRefusal(ErrorCode.UNKNOWN_CARD, f"{old} is not this member's card")
    if cur.execute("SELECT 1 FROM cards WHERE token = ?", (new,)).fetchone() is not None:
        raise StaffRefusal(ErrorCode.ALREADY_ENROLLED, f"{new} already belongs to a member")
    cur.execute("DELETE FROM cards WHERE token = ?", (old,))
    cur.execute("INSERT INTO cards (token, member_id, added_at) VALUES (?, ?, ?)", (new, member.id, iso(now)))
    effect = Effect("card", Text(f"Carte remplacée : {new} à la place de {old}.",
                                 f"Card replaced: {new} instead of {old}."))  # fmt: skip
    return [], [effect]


def _merge(ledger: Ledger, cur: sqlite3.Cursor, req: DirectRequest, kept: MemberRow, now: datetime) -> _Plan:
    other_code = str(req.body.get("from", "")).strip().upper()
    other_row = cur.execute(
        f"SELECT {MEMBER_COLUMNS} FROM members WHERE code = ? AND erased_at IS NULL AND merged_into IS NULL",
        (other_code,),
    ).fetchone()
    if other_row is None or other_row[0] == kept.id:
        raise StaffRefusal(ErrorCode.MALFORMED, f"{other_code} is not another live member")
    other_id = int(other_row[0])
    moved: list[Posting] = []
    for account, expires, total in cur.execute(
        "SELECT account, expires_at, SUM(delta) FROM postings WHERE member_id = ? AND delta > 0 "
        "GROUP BY account, expires_at ORDER BY account, expires_at",
        (other_id,),
    ).fetchall():
        moved.append(Posting(account, total, "merge", parse_iso(expires) if expires else None))
    for account, total in cur.execute(
        "SELECT account, SUM(delta) FROM postings WHERE member_id = ? AND delta < 0 GROUP BY account ORDER BY account",
        (other_id,),
    ).fetchall():
        moved.append(Posting(account, total, "merge"))
    net = {a: sum(p.delta for p in moved if p.account == a) for a in ACCOUNTS}
    zeroed = [Posting(a, -n, "merge") for a, n in net.items() if n]
    cur.execute("UPDATE cards SET member_id = ? WHERE member_id = ?", (kept.id, other_id))
    cur.execute("UPDATE members SET merged_into = ? WHERE id = ?", (kept.id, other_id))
    reason = _reason(req)
    effects = [Effect("merge", Text(f"Fusion : le membre {other_code} est réuni à celui-ci. {reason}",
                                    f"Merge: member {other_code} is joined to this one. {reason}"))]  # fmt: skip
    effects += [Effect(_kind(a), Text(f"Repris de {other_code}", f"Taken over from {other_code}"), n)
                for a, n in net.items() if n and a in BALANCES]  # fmt: skip
    plan = _plan(ledger, req, kept, moved, effects, now, others=[(other_id, p) for p in zeroed])
    other = load_member(cur, other_row, ledger.program, now)
    plan.projection.append((other_id, ledger._projection(other, zeroed, None, now, activity=False)))
    return plan


def _kind(account: str) -> str:
    return {"cashback_cents": "cashback"}.get(account, account)
