"""Expiry: fixed lots consumed FIFO, inactivity, and the expiry date put on credits."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.program import Lot, MemberState, Program, Purchase, Tap, load_program

SHOP = '[shop]\nname = "Test"\n'
T0 = datetime(2025, 1, 31, 12, tzinfo=UTC)


def program(mode: str, months: int = 1, balances: str = '["points"]') -> Program:
    return load_program(
        SHOP + "[points]\nper_euro = 1\n[stamps]\n"
        f'[expiry]\nmode = "{mode}"\nmonths = {months}\nbalances = {balances}\n'
    )


def state(points: int, lots: tuple[Lot, ...] = (), debited: int = 0, **extra: object) -> MemberState:
    return MemberState(
        enrolled_at=datetime(2024, 1, 1, tzinfo=UTC),
        balances={"points": points, "stamps": 5, "cashback_cents": 0},
        totals={"spend_cents": 0, "visits": 0, "purchases": 1},
        tier="Membre",
        lots={"points": lots},
        debited={"points": debited},
        **extra,  # type: ignore[arg-type]
    )


def test_fixed_credits_carry_a_calendar_month_expiry_clamped() -> None:
    out = program("fixed").apply(state(0), Purchase(1000), T0)
    (points,) = [p for p in out.postings if p.account == "points"]
    # 31 January + 1 month = 28 February (same wall-clock time in Paris).
    assert points.expires_at == datetime(2025, 2, 28, 12, tzinfo=UTC)
    assert all(p.expires_at is None for p in out.postings if p.account != "points")


def test_only_listed_balances_get_an_expiry() -> None:
    out = program("fixed").apply(state(0), Tap(), T0)
    assert [p.expires_at for p in out.postings if p.account == "stamps"] == [None]
    out = program("inactivity").apply(state(0), Purchase(1000), T0)
    assert [p.expires_at for p in out.postings if p.account == "points"] == [None]


def test_fixed_expiry_consumes_debits_first_in_expiry_order() -> None:
    prog = program("fixed")
    lots = (Lot(50, datetime(2025, 6, 1, tzinfo=UTC)), Lot(100, datetime(2025, 2, 1, tzinfo=UTC)))
    member = state(30, lots, debited=120)  # 150 earned, 120 spent
    assert prog.expire(member, datetime(2025, 3, 1, tzinfo=UTC)).postings == ()  # the February lot was spent
    (posting,) = prog.expire(member, datetime(2025, 6, 1, tzinfo=UTC)).postings
    assert (posting.account, posting.delta, posting.rule) == ("points", -30, "expiry.fixed")


def test_fixed_expiry_takes_what_is_left_of_each_expired_lot() -> None:
    prog = program("fixed")
    lots = (Lot(100, datetime(2025, 2, 1, tzinfo=UTC)), Lot(40, datetime(2025, 3, 1, tzinfo=UTC)))
    member = state(110, lots, debited=30)
    out = prog.expire(member, datetime(2025, 2, 1, tzinfo=UTC))  # due exactly at `now`
    assert [p.delta for p in out.postings] == [-70]
    (effect,) = out.effects
    assert (effect.kind, effect.delta) == ("expiry", -70)
    assert effect.reason.fr.startswith("-70 points expiré")
    # Fold it, then nothing more until the next lot.
    folded = state(40, lots, debited=100)
    assert prog.expire(folded, datetime(2025, 2, 15, tzinfo=UTC)).postings == ()
    assert [p.delta for p in prog.expire(folded, datetime(2025, 3, 2, tzinfo=UTC)).postings] == [-40]


def test_fixed_expiry_never_takes_more_than_the_balance() -> None:
    prog = program("fixed")
    lots = (Lot(100, datetime(2025, 2, 1, tzinfo=UTC)),)
    assert [p.delta for p in prog.expire(state(25, lots), datetime(2025, 3, 1, tzinfo=UTC)).postings] == [-25]
    assert prog.expire(state(-5, lots), datetime(2025, 3, 1, tzinfo=UTC)).postings == ()


def test_inactivity_expires_everything_listed() -> None:
    prog = program("inactivity", months=6, balances='["points", "stamps"]')
    last = datetime(2025, 1, 31, 11, tzinfo=UTC)  # 12:00 in Paris (winter)
    member = state(80, last_activity_at=last)
    assert prog.expire(member, datetime(2025, 7, 31, 9, tzinfo=UTC)).postings == ()
    out = prog.expire(member, datetime(2025, 7, 31, 10, tzinfo=UTC))  # 12:00 Paris in summer
    assert [(p.account, p.delta, p.rule) for p in out.postings] == [
        ("points", -80, "expiry.inactivity"),
        ("stamps", -5, "expiry.inactivity"),
    ]
    assert out.tier == "Membre"


def test_inactivity_counts_from_enrolment_when_never_active() -> None:
    prog = program("inactivity", months=12)
    assert [p.delta for p in prog.expire(state(10), datetime(2025, 1, 1, tzinfo=UTC)).postings] == [-10]
    assert prog.expire(state(10), datetime(2024, 12, 31, tzinfo=UTC)).postings == ()


def test_no_expiry_mode() -> None:
    prog = load_program(SHOP + "[points]\nper_euro = 1\n")
    assert prog.expiry_mode == "none"
    member = state(
        10, (Lot(10, datetime(2000, 1, 1, tzinfo=UTC)),), last_activity_at=datetime(2000, 1, 1, tzinfo=UTC)
    )
    assert prog.expire(member, T0).postings == ()
    assert all(p.expires_at is None for p in prog.apply(member, Purchase(500), T0).postings)
