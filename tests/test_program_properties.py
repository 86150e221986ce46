"""Property tests: random programs, random event sequences, folded into a member state here.

What must hold for every program and every sequence:
- every delta is an int (never a float or a bool);
- no balance ever goes negative (redemptions are refused instead);
- the tier is the highest level whose threshold is <= the rolling metric, and a tier effect
  appears exactly when the tier changes;
- points and cashback are the exact amount rounded once;
- expiry depends only on the instant `now` (not on how it is written), never takes more than the
  balance, and is idempotent (expire, fold, expire again: nothing).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import hypothesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fidelio.contract import ErrorCode
from hub.program import (
    BALANCES,
    Enrol,
    Lot,
    MemberState,
    Outcome,
    Program,
    Purchase,
    Redeem,
    Refusal,
    Tap,
    load_program,
)

PROPERTY_SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
START = datetime(2024, 1, 1, 8, tzinfo=UTC)


# --- random program files -------------------------------------------------------------------------


def _dec(scaled: int, places: int) -> str:
    return (
        str(Decimal(scaled).scaleb(-places).normalize()) if scaled % 10**places else str(scaled // 10**places)
    )


def _grant(draw: st.DrawFn) -> str | None:
    amounts = draw(
        st.dictionaries(st.sampled_from(BALANCES), st.integers(1, 500), min_size=1, max_size=3) | st.none()
    )
    if not amounts:
        return None
    return "{ " + ", ".join(f"{k} = {v}" for k, v in amounts.items()) + " }"


@st.composite
def program_texts(draw: st.DrawFn) -> str:
    rounding = st.sampled_from(["down", "nearest", "up"])
    lines = ['[shop]\nname = "Propriété"\ntimezone = "Europe/Paris"\n']
    if draw(st.booleans()):
        lines.append(
            f'[points]\nper_euro = {_dec(draw(st.integers(1, 20_000)), 3)}\nrounding = "{draw(rounding)}"\n'
        )
    if draw(st.booleans()):
        multiplied = "true" if draw(st.booleans()) else "false"
        lines.append(
            f"[cashback]\npercent = {_dec(draw(st.integers(1, 5000)), 2)}\n"
            f'rounding = "{draw(rounding)}"\nmultipliers = {multiplied}\n'
        )
    stamps_every = None
    if draw(st.booleans()):
        stamps_every = draw(st.integers(2, 8) | st.none())
        lines.append(
            f"[stamps]\nper_visit = {draw(st.integers(1, 3))}\nmax_per_day = {draw(st.integers(1, 3))}\n"
        )
        if stamps_every:
            lines.append(f'every = {stamps_every}\nreward = "card"\n')
    tier_names: list[str] = []
    if draw(st.booleans()):
        basis = draw(st.sampled_from(["spend_cents", "visits", "points"]))
        lines.append(f'[tiers]\nbasis = "{basis}"\nwindow_months = {draw(st.integers(1, 24))}\n')
        steps = draw(
            st.lists(st.integers(1, 20_000 if basis == "spend_cents" else 40), min_size=0, max_size=3)
        )
        threshold = 0
        for i, step in enumerate([0, *steps]):
            threshold += step
            tier_names.append(f"T{i}")
            multiplier = _dec(draw(st.integers(50, 400)), 2)
            lines.append(
                f'[[tiers.levels]]\nname = "T{i}"\nthreshold = {threshold}\nmultiplier = {multiplier}\n'
            )
    bonuses = []
    for name in ("welcome", "first_purchase", "newsletter_optin"):
        grant = _grant(draw)
        if grant:
            bonuses.append(f"{name} = {grant}")
    grant = _grant(draw)
    if grant:
        bonuses.append(f"birthday = {grant[:-2]}, window_days = {draw(st.integers(0, 10))} }}")
    if bonuses:
        lines.append("[bonuses]\n" + "\n".join(bonuses) + "\n")
    for _ in range(draw(st.integers(0, 2))):
        day = draw(st.sampled_from(["lundi", "wednesday", "samedi", "sunday"]))
        lines.append(
            f'[[bonuses.day_multiplier]]\nweekday = "{day}"\nmultiplier = {_dec(draw(st.integers(1, 500)), 2)}\n'
        )
    mode = draw(st.sampled_from(["none", "fixed", "inactivity"]))
    if mode != "none":
        balances = draw(st.lists(st.sampled_from(BALANCES), min_size=1, max_size=3, unique=True))
        listed = ", ".join(f'"{b}"' for b in balances)
        lines.append(
            f'[expiry]\nmode = "{mode}"\nmonths = {draw(st.integers(1, 6))}\nbalances = [{listed}]\n'
        )
    if stamps_every:
        lines.append('[[rewards]]\nid = "card"\nname = "Carte"\nkind = "free_product"\nproduct = "Un café"\n')
    for i in range(draw(st.integers(1, 3))):
        cost = draw(st.dictionaries(st.sampled_from(BALANCES), st.integers(1, 300), min_size=1, max_size=2))
        lines.append(
            f'[[rewards]]\nid = "r{i}"\nname = "R{i}"\nkind = "amount_off"\namount_cents = 500\n'
            "cost = { " + ", ".join(f"{k} = {v}" for k, v in cost.items()) + " }\n"
        )
        if len(tier_names) > 1 and draw(st.booleans()):
            lines.append(f'min_tier = "{draw(st.sampled_from(tier_names[1:]))}"\n')
        if draw(st.booleans()):
            lines.append(f"stock = {draw(st.integers(0, 3))}\n")
    return "".join(lines)


programs = program_texts().map(load_program)

# --- folding outcomes into a member, as the ledger does ------------------------------------------


def fresh_member(program: Program, now: datetime, birth_date: date | None) -> MemberState:
    empty = MemberState(
        enrolled_at=now,
        balances=dict.fromkeys(BALANCES, 0),
        totals={"spend_cents": 0, "visits": 0, "purchases": 0},
        tier=None,
        birth_date=birth_date,
    )
    return fold(empty, program.enrol(Enrol(True, False, True, 0), now), now, activity=False)


def fold(state: MemberState, outcome: Outcome, now: datetime, activity: bool = True) -> MemberState:
    balances, totals = dict(state.balances), dict(state.totals)
    rolling: Counter[str] = Counter(state.rolling)
    lots = {k: list(v) for k, v in state.lots.items()}
    debited = Counter(state.debited)
    last_stamp = state.last_stamp_at
    for p in outcome.postings:
        target = balances if p.account in balances else totals
        target[p.account] += p.delta
        if p.account in ("spend_cents", "visits") or (p.account == "points" and p.delta > 0):
            rolling[p.account] += p.delta
        if p.delta < 0:
            debited[p.account] -= p.delta
        if p.expires_at is not None:
            lots.setdefault(p.account, []).append(Lot(p.delta, p.expires_at))
        if p.rule == "stamps.visit":
            last_stamp = now
    years = state.birthday_bonus_years
    if outcome.birthday_bonus_year is not None:
        years = years | {outcome.birthday_bonus_year}
    return dataclasses.replace(
        state,
        balances=balances,
        totals=totals,
        rolling=dict(rolling),
        lots={k: tuple(v) for k, v in lots.items()},
        debited=dict(debited),
        last_stamp_at=last_stamp,
        last_activity_at=now if activity else state.last_activity_at,
        birthday_bonus_years=years,
        tier=outcome.tier if outcome.tier is not None else state.tier,
    )


# --- checks ------------------------------------------------------------------------------------------


def assert_ints(outcome: Outcome) -> None:
    for p in outcome.postings:
        assert type(p.delta) is int and p.delta != 0, p
        assert p.expires_at is None or p.expires_at.tzinfo is not None
    for e in outcome.effects:
        assert e.delta is None or type(e.delta) is int, e
        assert e.reason.fr and e.reason.en


def expected_tier(program: Program, metric: int) -> str:
    return [lv.name for lv in program.tiers.levels if lv.threshold <= metric][-1]


def assert_tier(program: Program, before: MemberState, outcome: Outcome) -> None:
    own: Counter[str] = Counter()
    for p in outcome.postings:
        if p.account in ("spend_cents", "visits") or (p.account == "points" and p.delta > 0):
            own[p.account] += p.delta
    basis = program.tiers.basis
    metric = before.rolling.get(basis, 0) + own[basis] if basis else 0
    assert outcome.tier == expected_tier(program, metric)
    tier_effects = [e for e in outcome.effects if e.kind == "tier"]
    assert len(tier_effects) == (1 if outcome.tier != before.tier else 0)


def assert_expiry_sound(program: Program, state: MemberState, now: datetime) -> MemberState:
    outcome = program.expire(state, now)
    assert_ints(outcome)
    elsewhere = program.expire(state, now.astimezone(ZoneInfo("Pacific/Auckland")))
    assert elsewhere == outcome  # the instant matters, not its time zone
    for p in outcome.postings:
        assert p.delta < 0 and -p.delta <= state.balances[p.account]
        assert p.rule == f"expiry.{program.expiry_mode}"
    folded = fold(state, outcome, now, activity=False)
    assert program.expire(folded, now).postings == ()  # idempotent
    return folded


# --- the properties ------------------------------------------------------------------------------------

events = st.one_of(
    st.just(("tap", 0)),
    st.tuples(st.just("purchase"), st.integers(1, 50_000)),
    st.tuples(st.just("purchase"), st.integers(1, 5_000)),
    st.tuples(st.just("redeem"), st.integers(0, 4)),
    st.tuples(st.just("roll"), st.integers(0, 100)),  # the tier window moves on: rolling sums shrink
)
steps = st.lists(st.tuples(events, st.integers(0, 60 * 24 * 40)), min_size=3, max_size=30)


@PROPERTY_SETTINGS
@given(programs, steps, st.dates(date(1950, 1, 1), date(2010, 12, 31)) | st.none())
def test_random_sequences_keep_every_invariant(
    program: Program, sequence: list[tuple[tuple[str, int], int]], birth_date: date | None
) -> None:
    now = START
    state = fresh_member(program, now, birth_date)
    assert all(v >= 0 for v in state.balances.values())
    issued: Counter[str] = Counter()
    reward_ids = list(program.rewards)
    for (kind, arg), minutes in sequence:
        now += timedelta(minutes=minutes)
        state = assert_expiry_sound(program, state, now)
        if kind == "roll":
            state = dataclasses.replace(state, rolling={k: v * arg // 100 for k, v in state.rolling.items()})
            continue
        event: Any
        if kind == "tap":
            event = Tap()
        elif kind == "purchase":
            event = Purchase(arg)
        else:
            reward_id = reward_ids[arg % len(reward_ids)] if reward_ids and arg < 4 else "no-such-reward"
            event = Redeem(reward_id, issued[reward_id])
        expected_refusal = refusal_for(program, state, event) if isinstance(event, Redeem) else None
        try:
            outcome = program.apply(state, event, now)
        except Refusal as refusal:
            hypothesis.event(f"refused: {refusal.code}")
            assert refusal.code is expected_refusal
            continue
        assert expected_refusal is None
        hypothesis.event(f"applied: {kind}")
        if any(e.kind == "tier" for e in outcome.effects):
            hypothesis.event("tier changed")
        if outcome.vouchers:
            hypothesis.event(f"voucher on {kind}")
        assert_ints(outcome)
        assert_tier(program, state, outcome)
        for voucher in outcome.vouchers:
            issued[voucher.reward_id] += 1
            assert voucher.expires_at > now
        state = fold(state, outcome, now)
        assert all(v >= 0 for v in state.balances.values()), state.balances


def refusal_for(program: Program, state: MemberState, event: Redeem) -> ErrorCode | None:
    """What a redemption must be refused with, worked out independently (None: accepted)."""
    reward = program.rewards.get(event.reward_id)
    if reward is None:
        return ErrorCode.UNKNOWN_REWARD
    if reward.min_tier is not None:
        names = [lv.name for lv in program.tiers.levels]
        if names.index(expected_tier(program, state.rolling.get(program.tiers.basis or "", 0))) < names.index(
            reward.min_tier
        ):
            return ErrorCode.REWARD_UNAVAILABLE
    if reward.stock is not None and event.issued_so_far >= reward.stock:
        return ErrorCode.REWARD_UNAVAILABLE
    if any(state.balances[a] < c for a, c in reward.cost.items()):
        return ErrorCode.INSUFFICIENT_BALANCE
    return None


@settings(PROPERTY_SETTINGS, max_examples=300)
@given(
    programs,
    st.fixed_dictionaries({b: st.integers(0, 400) for b in BALANCES}),
    st.integers(0, 60) | st.integers(0, 60_000),
    st.integers(0, 5),
    st.integers(0, 4),
)
def test_redemption_rules(
    program: Program, balances: dict[str, int], metric: int, reward_index: int, issued: int
) -> None:
    state = MemberState(
        enrolled_at=START,
        balances=balances,
        totals={"spend_cents": 0, "visits": 0, "purchases": 0},
        tier=None,
        rolling=dict.fromkeys(("spend_cents", "visits", "points"), metric),
    )
    ids = list(program.rewards)
    event = Redeem(ids[reward_index] if reward_index < len(ids) else "unknown", issued)
    expected = refusal_for(program, state, event)
    hypothesis.event(f"expected: {expected}")
    try:
        outcome = program.apply(state, event, START)
    except Refusal as refusal:
        assert refusal.code is expected
        return
    assert expected is None
    reward = program.rewards[event.reward_id]
    debits = Counter({p.account: -p.delta for p in outcome.postings if p.rule == f"redeem:{reward.id}"})
    assert debits == Counter(reward.cost)
    assert [v.reward_id for v in outcome.vouchers][:1] == [reward.id]
    assert outcome.vouchers[0].expires_at == START + timedelta(days=reward.valid_days)


_ROUND = {"down": ROUND_FLOOR, "up": ROUND_CEILING, "nearest": ROUND_HALF_UP}


@PROPERTY_SETTINGS
@given(
    programs,
    st.integers(1, 10**9),
    st.datetimes(datetime(2024, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)),
    st.integers(0, 10**7),
)
def test_purchase_amounts_are_exact_and_rounded_once(
    program: Program, cents: int, now: datetime, rolling_value: int
) -> None:
    state = MemberState(
        enrolled_at=START,
        balances=dict.fromkeys(BALANCES, 0),
        totals={"spend_cents": 0, "visits": 0, "purchases": 3},
        tier=None,
        rolling=dict.fromkeys(("spend_cents", "visits", "points"), rolling_value),
    )
    outcome = program.apply(state, Purchase(cents), now)
    assert_ints(outcome)
    level = program.tiers.level_for(state.rolling)
    local = now.astimezone(program.timezone).date()
    days = [d.percent for d in program.day_multipliers if d.matches(local)]
    factor = Decimal(level.multiplier_percent) / 100 * (Decimal(max(days)) / 100 if days else 1)
    earned = {
        p.account: p.delta for p in outcome.postings if p.rule in ("points.purchase", "cashback.purchase")
    }
    if program.points_per_euro_milli is not None:
        exact = Decimal(cents) / 100 * Decimal(program.points_per_euro_milli) / 1000 * factor
        assert earned.get("points", 0) == int(
            exact.quantize(Decimal(1), rounding=_ROUND[program.points_rounding])
        )
    if program.cashback_basis_points is not None:
        exact = Decimal(cents) * Decimal(program.cashback_basis_points) / 10_000
        if program.cashback_multiplied:
            exact *= factor
        rounded = int(exact.quantize(Decimal(1), rounding=_ROUND[program.cashback_rounding]))
        assert earned.get("cashback_cents", 0) == rounded
    assert [p.delta for p in outcome.postings if p.account == "spend_cents"] == [cents]


@PROPERTY_SETTINGS
@given(
    st.lists(st.tuples(st.integers(1, 500), st.integers(0, 400)), min_size=0, max_size=8),
    st.integers(0, 4000),
    st.integers(-50, 4000),
    st.integers(0, 400),
)
def test_fixed_expiry_is_fifo_bounded_and_idempotent(
    lots_spec: list[tuple[int, int]], debit: int, balance: int, day: int
) -> None:
    program = load_program(
        '[shop]\nname = "x"\n[expiry]\nmode = "fixed"\nmonths = 3\nbalances = ["points"]\n'
    )
    lots = tuple(Lot(amount, START + timedelta(days=offset)) for amount, offset in lots_spec)
    state = MemberState(
        enrolled_at=START,
        balances={"points": balance, "stamps": 0, "cashback_cents": 0},
        totals={"spend_cents": 0, "visits": 0, "purchases": 0},
        tier="Membre",
        lots={"points": lots},
        debited={"points": debit},
    )
    now = START + timedelta(days=day)
    outcome = program.expire(state, now)
    total = -sum(p.delta for p in outcome.postings)
    # Reference: FIFO by expiry date.
    left, due = debit, 0
    for lot in sorted(lots, key=lambda lot: lot.expires_at):
        used = min(lot.amount, left)
        left -= used
        if lot.expires_at <= now:
            due += lot.amount - used
    assert total == min(due, max(balance, 0))
    assert_expiry_sound(program, state, now)
