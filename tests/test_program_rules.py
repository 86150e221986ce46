"""Unit tests of the program's rules: one behaviour per test, on small inline programs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from fidelio.contract import ErrorCode
from hub.program import (
    Enrol,
    MemberState,
    Outcome,
    Program,
    Purchase,
    Redeem,
    Refusal,
    Tap,
    demo_program_text,
    load_program,
)

ROOT = Path(__file__).resolve().parents[1]
WEDNESDAY = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)  # 11:00 in Paris
THURSDAY = datetime(2025, 3, 13, 10, 0, tzinfo=UTC)

SHOP = '[shop]\nname = "Test"\n'


def program(body: str) -> Program:
    return load_program(SHOP + body)


def member(
    points: int = 0,
    stamps: int = 0,
    cashback: int = 0,
    purchases: int = 1,
    tier: str | None = None,
    rolling: dict[str, int] | None = None,
    **extra: object,
) -> MemberState:
    return MemberState(
        enrolled_at=datetime(2024, 1, 1, tzinfo=UTC),
        balances={"points": points, "stamps": stamps, "cashback_cents": cashback},
        totals={"spend_cents": 0, "visits": 0, "purchases": purchases},
        tier=tier,
        rolling=rolling or {},
        **extra,  # type: ignore[arg-type]
    )


def deltas(outcome: Outcome, account: str) -> list[int]:
    return [p.delta for p in outcome.postings if p.account == account]


def rules(outcome: Outcome) -> list[str]:
    return [p.rule for p in outcome.postings]


def kinds(outcome: Outcome) -> list[str]:
    return [e.kind for e in outcome.effects]


# --- points -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("per_euro", "rounding", "cents", "expected"),
    [
        ("1", "down", 1240, 12),
        ("1", "nearest", 1250, 13),
        ("1", "nearest", 1249, 12),
        ("1", "up", 1201, 13),
        ("1", "up", 1200, 12),
        ("1.5", "down", 1000, 15),
        ("0.1", "down", 999, 0),
        ("0.001", "up", 1, 1),
        ("2.125", "nearest", 100, 2),
        ("10", "down", 1, 0),
    ],
)
def test_points_per_euro_and_rounding(per_euro: str, rounding: str, cents: int, expected: int) -> None:
    prog = program(f'[points]\nper_euro = {per_euro}\nrounding = "{rounding}"\n')
    out = prog.apply(member(), Purchase(cents), THURSDAY)
    assert deltas(out, "points") == ([expected] if expected else [])
    assert deltas(out, "spend_cents") == [cents]
    assert deltas(out, "purchases") == [1]


def test_points_effect_speaks_french_and_english() -> None:
    prog = program("[points]\nper_euro = 1\n")
    out = prog.apply(member(), Purchase(1240), THURSDAY)
    effect = next(e for e in out.effects if e.kind == "points")
    assert effect.delta == 12
    assert effect.reason.fr == "+12 points pour votre achat de 12,40\u00a0€"
    assert effect.reason.en == "+12 points for your 12.40 € purchase"


def test_per_euro_is_stored_as_integer_thousandths() -> None:
    assert program("[points]\nper_euro = 1.25\n").points_per_euro_milli == 1250
    assert program("[points]\nper_euro = 3\n").points_per_euro_milli == 3000


def test_tier_and_day_multipliers_round_once() -> None:
    prog = program(
        "[points]\nper_euro = 1\n"
        '[tiers]\n[[tiers.levels]]\nname = "A"\nthreshold = 0\n'
        '[[tiers.levels]]\nname = "B"\nthreshold = 100\nmultiplier = 1.5\n'
        '[[bonuses.day_multiplier]]\nweekday = "wednesday"\nmultiplier = 1.5\n'
    )
    state = member(tier="B", rolling={"spend_cents": 500})
    # 1.99 € × 1.5 × 1.5 = 4.4775 → 4 (rounding the factors one by one would give 1 × 1.5 × 1.5 → 2 or 3)
    out = prog.apply(state, Purchase(199), WEDNESDAY)
    assert deltas(out, "points") == [4]
    reason = next(e for e in out.effects if e.kind == "points").reason
    assert "×1,5" in reason.fr and "Wednesday ×1.5" in reason.en
    # Not on Thursday.
    assert deltas(prog.apply(state, Purchase(199), THURSDAY), "points") == [2]


def test_day_multiplier_uses_shop_local_day_and_specific_dates() -> None:
    prog = program(
        "[points]\nper_euro = 1\n[[bonuses.day_multiplier]]\ndate = 2025-12-24\nmultiplier = 3\n"
        '[[bonuses.day_multiplier]]\nweekday = "mercredi"\nmultiplier = 2\n'
    )
    # 2025-12-23 23:30 UTC is already Wednesday 24 December in Paris: the highest multiplier wins.
    late = datetime(2025, 12, 23, 23, 30, tzinfo=UTC)
    assert deltas(prog.apply(member(), Purchase(1000), late), "points") == [30]
    assert deltas(prog.apply(member(), Purchase(1000), late - timedelta(hours=1)), "points") == [10]


def test_zero_points_posts_nothing_but_still_tells_the_purchase() -> None:
    prog = program("[points]\nper_euro = 1\n")
    out = prog.apply(member(), Purchase(50), THURSDAY)
    assert deltas(out, "points") == []
    assert "purchase" in kinds(out)


# --- cashback ---------------------------------------------------------------------------------


def test_cashback_in_basis_points() -> None:
    prog = program("[cashback]\npercent = 2.5\n")
    assert prog.cashback_basis_points == 250
    out = prog.apply(member(), Purchase(1999), THURSDAY)
    assert deltas(out, "cashback_cents") == [49]  # 49.975 rounded down
    effect = next(e for e in out.effects if e.kind == "cashback")
    assert effect.reason.fr.startswith("+0,49\u00a0€ dans votre cagnotte")


def test_cashback_ignores_multipliers_unless_asked() -> None:
    body = (
        '[[bonuses.day_multiplier]]\nweekday = "wednesday"\nmultiplier = 2\n'
        '[cashback]\npercent = 2\nrounding = "nearest"\n'
    )
    assert deltas(program(body).apply(member(), Purchase(1000), WEDNESDAY), "cashback_cents") == [20]
    body = body.replace('"nearest"\n', '"nearest"\nmultipliers = true\n')
    assert deltas(program(body).apply(member(), Purchase(1000), WEDNESDAY), "cashback_cents") == [40]


# --- stamps -----------------------------------------------------------------------------------

STAMPS = (
    '[stamps]\nevery = 3\nreward = "coffee"\n'
    '[[rewards]]\nid = "coffee"\nname = "Café"\nkind = "free_product"\nproduct = "Café"\n'
)


def test_tap_gives_a_visit_and_a_stamp() -> None:
    out = program(STAMPS).apply(member(), Tap(), THURSDAY)
    assert [(p.account, p.delta, p.rule) for p in out.postings] == [
        ("visits", 1, "visit"),
        ("stamps", 1, "stamps.visit"),
    ]
    assert next(e for e in out.effects if e.kind == "stamps").reason.en == "+1 stamp: 1 of 3"


def test_one_stamp_per_shop_local_day() -> None:
    prog = program(STAMPS)
    # Stamped at 23:30 Paris on the 12th; 22:59 UTC on the 12th is 23:59 Paris: still the same day.
    stamped = datetime(2025, 3, 12, 22, 30, tzinfo=UTC)
    same_day = prog.apply(
        member(stamps=1, last_stamp_at=stamped), Tap(), datetime(2025, 3, 12, 22, 59, tzinfo=UTC)
    )
    assert deltas(same_day, "stamps") == []
    assert deltas(same_day, "visits") == [1]
    assert "demain" in next(e for e in same_day.effects if e.kind == "stamps").reason.fr
    next_day = prog.apply(
        member(stamps=1, last_stamp_at=stamped), Tap(), datetime(2025, 3, 12, 23, 1, tzinfo=UTC)
    )
    assert deltas(next_day, "stamps") == [1]


def test_max_per_day_counts_todays_stamps_when_known() -> None:
    prog = program(STAMPS.replace("every = 3", "max_per_day = 2\nevery = 30"))
    stamped = THURSDAY - timedelta(hours=1)
    assert deltas(prog.apply(member(last_stamp_at=stamped, stamps_today=1), Tap(), THURSDAY), "stamps") == [1]
    assert deltas(prog.apply(member(last_stamp_at=stamped, stamps_today=2), Tap(), THURSDAY), "stamps") == []
    # Count unknown: a stamp earlier today counts as the whole quota (never over-grant).
    assert deltas(prog.apply(member(last_stamp_at=stamped), Tap(), THURSDAY), "stamps") == []


def test_full_card_becomes_a_voucher() -> None:
    prog = program(STAMPS)
    out = prog.apply(member(stamps=2), Tap(), THURSDAY)
    assert deltas(out, "stamps") == [1, -3]
    assert rules(out)[-1] == "stamps.reward:coffee"
    (voucher,) = out.vouchers
    assert voucher.reward_id == "coffee"
    assert voucher.value == {"kind": "free_product", "product": {"fr": "Café", "en": "Café"}}
    assert voucher.expires_at == THURSDAY + timedelta(days=30)
    assert "voucher" in kinds(out)
    assert prog.rewards["coffee"].to_catalogue()["cost"] == {"stamps": 3}
    assert prog.rewards["coffee"].to_catalogue()["automatic"] is True


def test_stamp_bonus_can_fill_the_card_too() -> None:
    prog = program(STAMPS + "[bonuses]\nwelcome = { stamps = 7 }\n")
    out = prog.enrol(Enrol(False, False, False, 0), THURSDAY)
    assert deltas(out, "stamps") == [7, -3, -3]
    assert len(out.vouchers) == 2


# --- bonuses ----------------------------------------------------------------------------------

BONUSES = (
    "[points]\nper_euro = 1\n[bonuses]\nwelcome = { points = 50 }\nnewsletter_optin = { points = 10 }\n"
    "first_purchase = { points = 20, cashback_cents = 100 }\nbirthday = { points = 100, window_days = 3 }\n"
    "[bonuses.referral]\nreferrer = { points = 30 }\nreferee = { points = 15 }\n"
)


def test_enrol_welcome_newsletter_and_referee() -> None:
    prog = program(BONUSES)
    out = prog.enrol(
        Enrol(consent_email=True, consent_sms=False, referred=True, anonymous_spend_cents=0), THURSDAY
    )
    assert [(p.rule, p.delta) for p in out.postings] == [
        ("bonus.welcome", 50),
        ("bonus.newsletter", 10),
        ("bonus.referral.referee", 15),
    ]
    assert out.tier == "Membre"
    plain = prog.enrol(Enrol(False, False, False, 0), THURSDAY)
    assert rules(plain) == ["bonus.welcome"]


def test_referrer_grant() -> None:
    out = program(BONUSES).referral(THURSDAY)
    assert [(p.account, p.delta, p.rule) for p in out.postings] == [("points", 30, "bonus.referral.referrer")]
    assert program("").referral(THURSDAY).postings == ()


def test_first_purchase_bonus_only_once() -> None:
    prog = program(BONUSES)
    first = prog.apply(member(purchases=0), Purchase(1000), THURSDAY)
    assert ("bonus.first_purchase", 20) in [(p.rule, p.delta) for p in first.postings]
    assert deltas(first, "cashback_cents") == [100]
    second = prog.apply(member(purchases=1), Purchase(1000), THURSDAY)
    assert "bonus.first_purchase" not in rules(second)


@pytest.mark.parametrize(
    ("born", "today", "given", "year"),
    [
        (date(1990, 3, 13), THURSDAY, frozenset(), 2025),
        (date(1990, 3, 16), THURSDAY, frozenset(), 2025),  # 3 days before
        (date(1990, 3, 17), THURSDAY, frozenset(), None),  # 4 days before: outside the window
        (date(1990, 3, 10), THURSDAY, frozenset(), 2025),  # 3 days after
        (date(1990, 3, 13), THURSDAY, frozenset({2025}), None),  # already given this year
        (date(1990, 1, 1), datetime(2024, 12, 30, 12, tzinfo=UTC), frozenset(), 2025),  # next year's
        (date(1990, 12, 31), datetime(2025, 1, 2, 12, tzinfo=UTC), frozenset(), 2024),  # last year's
        (date(2000, 2, 29), datetime(2025, 2, 28, 12, tzinfo=UTC), frozenset(), 2025),
    ],
)
def test_birthday_window(born: date, today: datetime, given: frozenset[int], year: int | None) -> None:
    prog = program(BONUSES)
    state = member(birth_date=born, birthday_bonus_years=given)
    for event in (Tap(), Purchase(100)):
        out = prog.apply(state, event, today)
        assert out.birthday_bonus_year == year
        assert ("bonus.birthday" in rules(out)) == (year is not None)


def test_no_birthday_bonus_on_redeem() -> None:
    prog = program(
        BONUSES
        + '[[rewards]]\nid = "r"\nname = "R"\nkind = "percent_off"\npercent = 5\ncost = {points = 1}\n'
    )
    out = prog.apply(member(points=5, birth_date=date(1990, 3, 13)), Redeem("r", 0), THURSDAY)
    assert out.birthday_bonus_year is None


# --- enrolment --------------------------------------------------------------------------------


def test_enrolment_threshold() -> None:
    prog = program('[enrolment]\npolicy = "spend_threshold"\nthreshold_cents = 6000\n')
    assert prog.enrolment_offer(2500) == {"offer": False, "missing_cents": 3500}
    assert prog.enrolment_offer(6000) == {"offer": True, "missing_cents": 0}
    with pytest.raises(Refusal) as refused:
        prog.enrol(Enrol(False, False, False, 5999), THURSDAY)
    assert refused.value.code is ErrorCode.ENROLMENT_NOT_ELIGIBLE
    assert prog.enrol(Enrol(False, False, False, 6000), THURSDAY).postings == ()
    assert program("").enrolment_offer(0) == {"offer": True, "missing_cents": 0}


# --- rewards ----------------------------------------------------------------------------------

REWARDS = (
    '[tiers]\nbasis = "visits"\n[[tiers.levels]]\nname = "A"\nthreshold = 0\n'
    '[[tiers.levels]]\nname = "B"\nthreshold = 10\n'
    '[[rewards]]\nid = "five"\nname = { fr = "Bon de 5 €", en = "5 € off" }\nkind = "amount_off"\n'
    "amount_cents = 500\ncost = { points = 100, cashback_cents = 50 }\n"
    '[[rewards]]\nid = "vip"\nname = "VIP"\nkind = "experience"\ndescription = "Une soirée"\n'
    'cost = { points = 10 }\nmin_tier = "B"\nstock = 2\nvalid_days = 7\n'
)


def test_redeem_debits_and_issues_a_voucher() -> None:
    prog = program(REWARDS)
    out = prog.apply(member(points=150, cashback=50), Redeem("five", 0), THURSDAY)
    assert [(p.account, p.delta, p.rule) for p in out.postings] == [
        ("points", -100, "redeem:five"),
        ("cashback_cents", -50, "redeem:five"),
    ]
    (voucher,) = out.vouchers
    assert voucher.value == {"kind": "amount_off", "amount_cents": 500}
    assert voucher.expires_at == THURSDAY + timedelta(days=30)
    assert voucher.name.en == "5 € off"
    assert [e.delta for e in out.effects if e.kind in ("points", "cashback")] == [-100, -50]


@pytest.mark.parametrize(
    ("state", "event", "code"),
    [
        (member(points=1000), Redeem("nope", 0), ErrorCode.UNKNOWN_REWARD),
        (member(points=99, cashback=50), Redeem("five", 0), ErrorCode.INSUFFICIENT_BALANCE),
        (member(points=100, cashback=49), Redeem("five", 0), ErrorCode.INSUFFICIENT_BALANCE),
        (member(points=100, rolling={"visits": 9}), Redeem("vip", 0), ErrorCode.REWARD_UNAVAILABLE),
        (member(points=100, rolling={"visits": 10}), Redeem("vip", 2), ErrorCode.REWARD_UNAVAILABLE),
        (member(points=5, rolling={"visits": 10}), Redeem("vip", 0), ErrorCode.INSUFFICIENT_BALANCE),
    ],
)
def test_redeem_refusals(state: MemberState, event: Redeem, code: ErrorCode) -> None:
    with pytest.raises(Refusal) as refused:
        program(REWARDS).apply(state, event, THURSDAY)
    assert refused.value.code is code


def test_redeem_with_tier_and_stock_left() -> None:
    out = program(REWARDS).apply(
        member(points=10, rolling={"visits": 10}, tier="B"), Redeem("vip", 1), THURSDAY
    )
    assert out.vouchers[0].expires_at == THURSDAY + timedelta(days=7)
    assert out.vouchers[0].value == {
        "kind": "experience",
        "description": {"fr": "Une soirée", "en": "Une soirée"},
    }


def test_catalogue_entries() -> None:
    prog = program(REWARDS)
    assert prog.rewards["five"].to_catalogue() == {
        "id": "five",
        "name": {"fr": "Bon de 5 €", "en": "5 € off"},
        "cost": {"points": 100, "cashback_cents": 50},
        "kind": "amount_off",
        "amount_cents": 500,
        "valid_days": 30,
    }
    vip = prog.rewards["vip"].to_catalogue()
    assert vip["min_tier"] == "B" and vip["stock"] == 2 and vip["valid_days"] == 7


# --- tiers ------------------------------------------------------------------------------------

TIERS = (
    "[points]\nper_euro = 1\n"
    '[tiers]\nbasis = "spend_cents"\nwindow_months = 6\n'
    '[[tiers.levels]]\nname = "Bronze"\nthreshold = 0\n'
    '[[tiers.levels]]\nname = "Argent"\nlabel = { fr = "Argent", en = "Silver" }\nthreshold_euros = 100\n'
    'multiplier = 2\nprivileges = { fr = ["Café"], en = ["Coffee"] }\n'
    '[[tiers.levels]]\nname = "Or"\nthreshold_euros = 500\nmultiplier = 3\n'
)


def test_tier_status_and_progress() -> None:
    prog = program(TIERS)
    status = prog.tier_status({"spend_cents": 2500})
    assert (status.name, status.next) == ("Bronze", "Argent")
    assert status.progress == {
        "basis": "spend_cents",
        "current": 2500,
        "target": 10000,
        "missing": 7500,
        "window_months": 6,
    }
    assert prog.tier_status({"spend_cents": 10000}).name == "Argent"
    top = prog.tier_status({"spend_cents": 10**9})
    assert (top.name, top.next, top.progress) == ("Or", None, {})
    assert prog.tier_status({}).name == "Bronze"


def test_no_tiers_means_one_implicit_tier() -> None:
    prog = program("")
    assert prog.tier_status({"spend_cents": 10**6}).to_json() == {
        "name": "Membre",
        "next": None,
        "progress": {},
    }
    assert prog.tier_window_start(THURSDAY) is None
    out = prog.apply(member(tier="Membre"), Tap(), THURSDAY)
    assert out.tier == "Membre" and "tier" not in kinds(out)


def test_tier_window_start_is_calendar_months_back() -> None:
    prog = program(TIERS)
    # 31 August 12:00 in Paris (summer time) → 28 February 12:00 in Paris (winter time): the shop's
    # wall clock is kept, the day clamped to the end of February.
    assert prog.tier_window_start(datetime(2025, 8, 31, 10, tzinfo=UTC)) == datetime(
        2025, 2, 28, 11, tzinfo=UTC
    )


def test_purchase_crossing_a_threshold_moves_up_with_an_effect() -> None:
    prog = program(TIERS)
    state = member(tier="Bronze", rolling={"spend_cents": 9000})
    out = prog.apply(state, Purchase(1000), THURSDAY)
    assert out.tier == "Argent"
    (effect,) = [e for e in out.effects if e.kind == "tier"]
    assert effect.reason.en == "Congratulations! You reached the Silver tier"
    # The multiplier is the tier before the purchase: 10 points, not 20.
    assert deltas(out, "points") == [10]


def test_tier_goes_down_when_the_window_rolls() -> None:
    prog = program(TIERS)
    out = prog.apply(member(tier="Or", rolling={"spend_cents": 100}), Tap(), THURSDAY)
    assert out.tier == "Bronze"
    assert [e.reason.fr for e in out.effects if e.kind == "tier"] == ["Vous êtes maintenant au niveau Bronze"]


def test_points_basis_counts_points_earned_by_the_event() -> None:
    prog = program(
        TIERS.replace('basis = "spend_cents"', 'basis = "points"').replace("threshold_euros", "threshold")
    )
    out = prog.apply(member(tier="Bronze", rolling={"points": 95}), Purchase(500), THURSDAY)
    assert out.tier == "Argent"


def test_enrol_sets_the_first_tier() -> None:
    out = program(TIERS).enrol(Enrol(False, False, False, 0), THURSDAY)
    assert out.tier == "Bronze"
    assert [e.reason.fr for e in out.effects] == ["Vous êtes au niveau Bronze"]


# --- misc -------------------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        program("").apply(member(), Tap(), datetime(2025, 1, 1))


def test_purchase_amount_must_be_positive() -> None:
    with pytest.raises(ValueError):
        program("").apply(member(), Purchase(0), THURSDAY)


def test_summary_shape() -> None:
    prog = load_program(demo_program_text())
    summary = prog.summary()
    assert summary["shop"] == prog.shop_name
    assert summary["sha256"] == prog.sha256 and len(prog.sha256) == 64
    assert summary["currency"] == "EUR"
    assert summary["balances"] == ["points"]
    assert [t["name"] for t in summary["tiers"]] == ["Bronze", "Argent", "Or"]
    assert set(summary["tiers"][1]) >= {
        "name",
        "label",
        "threshold",
        "basis",
        "multiplier_percent",
        "privileges",
    }
    assert all(set(rule) == {"fr", "en"} for rule in summary["rules"])
    assert [r["id"] for r in summary["rewards"]] == list(prog.rewards)


def test_demo_customer_can_redeem_after_a_couple_of_purchases() -> None:
    prog = load_program(demo_program_text())
    assert prog.enrol(Enrol(False, False, False, 0), THURSDAY).tier == "Bronze"
    assert min(min(r.cost.values()) for r in prog.rewards.values() if "points" in r.cost) <= 100
    points = sum(p.delta for p in prog.enrol(Enrol(False, False, False, 0), THURSDAY).postings)
    state = member(points=points, purchases=0)
    for _ in range(2):
        out = prog.apply(state, Purchase(2000), THURSDAY)
        points += sum(deltas(out, "points"))
        state = member(points=points, purchases=1)
    affordable = [
        r for r in prog.rewards.values() if r.cost.get("points", 10**9) <= points and not r.min_tier
    ]
    assert affordable


def test_effect_texts_fit_the_receipt_printer_code_page() -> None:
    texts = []
    for path in [*sorted((ROOT / "examples").glob("*.toml")), None]:
        prog = load_program(path.read_text(encoding="utf-8") if path else demo_program_text())
        texts += [r["fr"] + r["en"] for r in prog.summary()["rules"]]
        out = prog.apply(
            member(points=10**6, stamps=9, cashback=10**6, purchases=0), Purchase(123456), THURSDAY
        )
        texts += [e.reason.fr + e.reason.en for e in out.effects]
    for text in texts:
        text.encode("cp858")  # raises if a character cannot be printed
