"""What a program would give a member for a purchase and for a visit: the current program and a candidate
side by side, computed with the same pure program code as the ledger (`Program.apply`). Pure."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from hub.program import BALANCES, TOTALS, MemberState, Program, Purchase, Refusal, Tap, Text

SAMPLE_PURCHASE_CENTS = 4250


def sample_member(now: datetime) -> MemberState:
    """A regular customer: joined three months ago, 3 purchases (90 €), 5 visits, last seen a week ago."""
    return MemberState(
        enrolled_at=now - timedelta(days=90),
        balances=dict.fromkeys(BALANCES, 0) | {"points": 90, "stamps": 2},
        totals=dict.fromkeys(TOTALS, 0) | {"spend_cents": 9000, "visits": 5, "purchases": 3},
        tier=None,
        last_activity_at=now - timedelta(days=7),
        last_stamp_at=now - timedelta(days=7),
        rolling={"spend_cents": 9000, "visits": 5, "points": 90},
        stamps_today=0,
    )


@dataclass(frozen=True)
class Result:
    """What one event would do: the balances' changes and what the member would be told."""

    changes: dict[str, int]  # account (points, stamps, cashback_cents) -> delta
    told: list[Text]


@dataclass(frozen=True)
class Preview:
    purchase: Result
    visit: Result
    refused: Text | None = None


def _result(program: Program, state: MemberState, event: Tap | Purchase, now: datetime) -> Result:
    outcome = program.apply(state, event, now)
    changes: dict[str, int] = {}
    for p in outcome.postings:
        if p.account in BALANCES and p.delta:
            changes[p.account] = changes.get(p.account, 0) + p.delta
    return Result(changes, [e.reason for e in outcome.effects])


def preview(
    program: Program, state: MemberState, now: datetime, cents: int = SAMPLE_PURCHASE_CENTS
) -> Preview:
    """`state` as this program sees it: a member with no tier yet gets the one the program gives them
    (so that the preview does not announce a tier change that is only the first computation)."""
    if state.tier is None:
        state = replace(state, tier=program.tier_status(state.rolling).name)
    try:
        return Preview(_result(program, state, Purchase(cents), now), _result(program, state, Tap(), now))
    except Refusal as exc:
        empty = Result({}, [])
        return Preview(empty, empty, Text(str(exc), str(exc)))


def as_json(p: Preview) -> dict[str, Any]:
    return {"purchase": p.purchase.changes, "visit": p.visit.changes}
