"""The ledger on real SQLite files: dedupe, postings, projection == fold, vouchers, schema guards."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fidelio.contract import dumps, new_request, parse_request
from hub.ledger import (
    HubClock,
    Ledger,
    LedgerOpenError,
    check_ledger,
    check_voucher,
    fold_postings,
    open_database,
    use_voucher,
)
from hub.program import load_program

PROGRAMS = Path(__file__).parent / "programs"
T0 = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
CARD = "pcsc:04A1B2C3"
NO = {"email": False, "sms": False}


class FakeTime:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def make_ledger(path: Path, program: str = "full.toml", time: FakeTime | None = None) -> Ledger:
    db = open_database(path, create=True)
    text = (PROGRAMS / program).read_text()
    return Ledger(db, load_program(text, program), HubClock(time or FakeTime()))


def req(type_: str, card: str = CARD, body: dict | None = None, kiosk: str = "k1"):
    """A request as the hub gets it: serialised and parsed by the contract."""
    raw = new_request(type_, kiosk, card, body)
    return parse_request(dumps(raw.to_json()), kiosk)


def apply(ledger: Ledger, type_: str, card: str = CARD, body: dict | None = None) -> dict:
    import json

    return json.loads(ledger.apply(req(type_, card, body)).reply)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return make_ledger(tmp_path / "ledger.sqlite")


def test_enrol_tap_purchase_redeem_journey(ledger: Ledger):
    assert apply(ledger, "tap")["error"]["code"] == "unknown_card"
    enrolled = apply(ledger, "enrol", body={"first_name": "Léa", "consents": {"email": True, "sms": False}})
    assert enrolled["ok"], enrolled
    m = enrolled["member"]
    assert m["display_name"] == "Léa" and len(m["code"]) == 8
    assert m["balances"]["points"] == 15  # welcome 10 + newsletter 5
    assert apply(ledger, "enrol", body={"consents": NO})["error"]["code"] == "already_enrolled"
    tap = apply(ledger, "tap")
    assert tap["member"]["totals"]["visits"] == 1 and tap["member"]["balances"]["stamps"] == 1
    bought = apply(ledger, "purchase", body={"amount_cents": 12_499})
    b = bought["member"]["balances"]
    assert bought["member"]["totals"] == {"spend_cents": 12_499, "visits": 1, "purchases": 1}
    assert b["points"] == 15 + 124 + 20  # 1 point per whole euro, rounded down, + first purchase bonus
    assert b["cashback_cents"] == 249  # 2 % of 124.99 €, rounded down
    assert bought["member"]["tier"]["name"] == "Argent"
    assert any(e["kind"] == "tier" for e in bought["effects"])
    redeemed = apply(ledger, "redeem", body={"reward": "bon-5"})
    assert redeemed["ok"] and redeemed["member"]["balances"]["points"] == b["points"] - 100
    assert redeemed["voucher"]["reward"] == "bon-5" and redeemed["voucher"]["value"]["amount_cents"] == 500
    assert check_ledger(ledger.conn) == []


def test_refusals_are_coded_and_nothing_moves(ledger: Ledger):
    apply(ledger, "enrol", body={"consents": NO})
    before = fold_postings(ledger.conn)
    assert apply(ledger, "redeem", body={"reward": "nope"})["error"]["code"] == "unknown_reward"
    assert apply(ledger, "redeem", body={"reward": "bon-5"})["error"]["code"] == "insufficient_balance"
    assert apply(ledger, "redeem", body={"reward": "vip"})["error"]["code"] == "reward_unavailable"
    assert fold_postings(ledger.conn) == before


def test_a_repeated_id_gets_the_stored_reply_byte_for_byte(ledger: Ledger):
    apply(ledger, "enrol", body={"consents": NO})
    purchase = req("purchase", body={"amount_cents": 5000})
    first = ledger.apply(purchase)
    ledger.clock._source = lambda: T0 + timedelta(hours=5)  # type: ignore[attr-defined]
    again = ledger.apply(purchase)
    assert again.duplicate and again.reply == first.reply
    assert again.event == first.event  # hub/events is at least once: same event, same id
    assert ledger.conn.execute("SELECT spend_cents FROM members").fetchone()[0] == 5000
    other_kiosk = new_request("purchase", "k2", CARD, {"amount_cents": 5000})
    stolen = type(purchase)(**{**purchase.__dict__, "kiosk": "k2"})
    assert ledger.apply(other_kiosk).reply != first.reply
    import json

    assert json.loads(ledger.apply(stolen).reply)["error"]["code"] == "duplicate_id"


def test_stamps_at_most_one_a_day_and_the_card_completes_into_a_voucher(tmp_path: Path):
    time = FakeTime()
    ledger = make_ledger(tmp_path / "l.sqlite", time=time)
    apply(ledger, "enrol", body={"consents": NO})
    assert apply(ledger, "tap")["member"]["balances"]["stamps"] == 1
    assert apply(ledger, "tap")["member"]["balances"]["stamps"] == 1  # same day: visit, no stamp
    vouchers = []
    for day in range(1, 5):
        time.now = T0 + timedelta(days=day)
        reply = apply(ledger, "tap")
        if "voucher" in reply:
            vouchers.append(reply["voucher"])
    assert reply["member"]["totals"]["visits"] == 6
    assert len(vouchers) == 1 and vouchers[0]["reward"] == "cafe"
    assert reply["member"]["balances"]["stamps"] == 0
    assert check_ledger(ledger.conn) == []


def test_stock_is_enforced(ledger: Ledger):
    apply(ledger, "enrol", body={"consents": NO})
    codes = [apply(ledger, "redeem", body={"reward": "rare"}) for _ in range(3)]
    assert [c["ok"] for c in codes] == [True, True, False]
    assert codes[2]["error"]["code"] == "reward_unavailable"


def test_referral_rewards_both_sides(ledger: Ledger):
    referrer = apply(ledger, "enrol", body={"consents": NO})["member"]
    friend = apply(ledger, "enrol", "pcsc:0BADCAFE", {"consents": NO, "referrer": referrer["code"].lower()})
    assert friend["ok"] and friend["member"]["balances"]["points"] == 10 + 15
    points = ledger.conn.execute("SELECT points FROM members WHERE code = ?", (referrer["code"],)).fetchone()[
        0
    ]
    assert points == 10 + 30
    bad = apply(ledger, "enrol", "pcsc:0BADBEEF", {"consents": NO, "referrer": "ZZZZZZZZ"})
    assert bad["error"]["code"] == "unknown_referrer"


def test_consents_are_recorded_with_time_channel_and_policy(ledger: Ledger):
    apply(ledger, "enrol", body={"consents": {"email": True, "sms": False}, "email": "a@b.fr"})
    rows = ledger.conn.execute("SELECT channel, granted, at, policy_version, source FROM consents").fetchall()
    assert sorted(r[:2] for r in rows) == [("email", 1), ("sms", 0)]
    assert all(r[2] and r[3] == "1" and r[4] == "kiosk:k1" for r in rows)
    body = ledger.conn.execute("SELECT body FROM events WHERE type = 'enrol'").fetchone()[0]
    assert "a@b.fr" not in body  # personal details live in members only (erasure)


def test_enrolment_from_a_spend_threshold(tmp_path: Path):
    ledger = make_ledger(tmp_path / "l.sqlite", "threshold.toml")
    early = apply(ledger, "enrol", body={"consents": NO})
    assert early["error"]["code"] == "enrolment_not_eligible"
    assert early["error"]["enrolment"] == {"offer": False, "missing_cents": 6000}
    unknown = apply(ledger, "purchase", body={"amount_cents": 6500})
    assert unknown["error"]["code"] == "unknown_card" and unknown["error"]["enrolment"]["offer"] is True
    assert apply(ledger, "enrol", body={"consents": NO})["ok"]


def test_points_expire_by_hub_time_only(tmp_path: Path):
    time = FakeTime()
    ledger = make_ledger(tmp_path / "l.sqlite", time=time)
    apply(ledger, "enrol", body={"consents": NO})
    kiosk_in_2099 = req("purchase", body={"amount_cents": 10_000})
    kiosk_in_2099 = type(kiosk_in_2099)(**{**kiosk_in_2099.__dict__, "sent_at": "2099-01-01T00:00:00Z"})
    ledger.apply(kiosk_in_2099)
    points = ledger.conn.execute("SELECT points FROM members").fetchone()[0]
    assert points > 0
    time.now = T0 + timedelta(days=200)
    assert apply(ledger, "tap")["member"]["balances"]["points"] == points  # sent_at changed nothing
    time.now = T0 + timedelta(days=370)
    tap = apply(ledger, "tap")
    assert tap["member"]["balances"]["points"] == 0
    assert any(e["kind"] == "expiry" for e in tap["effects"])
    assert check_ledger(ledger.conn) == []


def test_hub_clock_never_goes_back(tmp_path: Path):
    time = FakeTime(T0)
    ledger = make_ledger(tmp_path / "l.sqlite", time=time)
    apply(ledger, "enrol", body={"consents": NO})
    time.now = datetime(1970, 1, 1, tzinfo=UTC)  # a Pi without RTC, before NTP
    reply = apply(ledger, "tap")
    assert reply["at"] >= "2026-03-10"
    ats = [r[0] for r in ledger.conn.execute("SELECT received_at FROM events ORDER BY seq")]
    assert ats == sorted(ats)
    # and after a restart the floor comes from the ledger itself
    ledger.conn.close()
    again = make_ledger(tmp_path / "l.sqlite", time=time)
    assert apply(again, "tap")["at"] >= reply["at"]


def test_vouchers_are_single_use_and_expire(ledger: Ledger):
    apply(ledger, "enrol", body={"consents": NO})
    apply(ledger, "purchase", body={"amount_cents": 20_000})
    code = apply(ledger, "redeem", body={"reward": "bon-5"})["voucher"]["code"]
    assert check_voucher(ledger.conn, code.lower().replace("-", " "), T0).status == "valid"
    mistyped = code[:-3] + ("0" if code[-3] != "0" else "1") + code[-2:]
    assert check_voucher(ledger.conn, mistyped, T0).status == "mistyped"
    assert use_voucher(ledger.conn, code, T0, "staff:alice").status == "valid"
    assert use_voucher(ledger.conn, code, T0, "staff:bob").status == "used"
    with pytest.raises(sqlite3.IntegrityError):
        ledger.conn.execute("UPDATE vouchers SET used_at = NULL")
    code2 = apply(ledger, "redeem", body={"reward": "bon-5"})["voucher"]["code"]
    assert check_voucher(ledger.conn, code2, T0 + timedelta(days=31)).status == "expired"
    from hub.codes import new_voucher_code

    assert check_voucher(ledger.conn, new_voucher_code(os.urandom(10)), T0).status == "unknown"


def test_postings_are_append_only(ledger: Ledger):
    apply(ledger, "enrol", body={"consents": NO})
    with pytest.raises(sqlite3.IntegrityError):
        ledger.conn.execute("UPDATE postings SET delta = 1000")
    with pytest.raises(sqlite3.IntegrityError):
        ledger.conn.execute("DELETE FROM postings")


def test_a_failing_request_rolls_back_alone_in_a_group_commit(ledger: Ledger, monkeypatch):
    apply(ledger, "enrol", body={"consents": NO})
    good1, bad, good2 = (req("purchase", body={"amount_cents": c}) for c in (100, 200, 300))
    original = ledger._plan_member_event

    def explode(cur, r, member, now):
        if r.id == bad.id:
            raise RuntimeError("boom")
        return original(cur, r, member, now)

    monkeypatch.setattr(ledger, "_plan_member_event", explode)
    results = ledger.apply_batch([good1, bad, good2])
    import json

    assert [json.loads(r.reply)["ok"] for r in results] == [True, False, True]
    assert json.loads(results[1].reply)["error"]["code"] == "internal"
    assert ledger.conn.execute("SELECT spend_cents FROM members").fetchone()[0] == 400
    assert ledger.conn.execute("SELECT COUNT(*) FROM events WHERE id = ?", (bad.id,)).fetchone()[0] == 0


def test_newer_schema_is_refused_with_a_restore_hint(tmp_path: Path):
    path = tmp_path / "l.sqlite"
    make_ledger(path).conn.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(LedgerOpenError, match=r"newer Fidelio.*restore"):
        open_database(path)


def test_corrupt_database_is_refused_with_a_restore_hint(tmp_path: Path):
    path = tmp_path / "l.sqlite"
    ledger = make_ledger(path)
    for i in range(50):
        apply(ledger, "enrol", f"pcsc:{i:08X}", {"consents": NO})
    ledger.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ledger.conn.close()
    raw = bytearray(path.read_bytes())
    for offset in range(4096, len(raw), 97):
        raw[offset] ^= 0x5A
    path.write_bytes(bytes(raw))
    with pytest.raises(LedgerOpenError, match="restore"):
        open_database(path)
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(LedgerOpenError, match="damaged"):
        open_database(path)


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("tap"), st.integers(0, 2), st.just(0)),
        st.tuples(st.just("purchase"), st.integers(0, 2), st.integers(1, 40_000)),
        st.tuples(
            st.just("redeem"), st.integers(0, 2), st.sampled_from(["bon-5", "cafe", "rare", "kitty", "vip"])
        ),
        st.tuples(st.just("advance"), st.just(0), st.integers(1, 400)),
    ),
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_projection_always_equals_the_fold_of_postings(tmp_path_factory, ops):
    time = FakeTime()
    ledger = make_ledger(tmp_path_factory.mktemp("prop") / "l.sqlite", time=time)
    cards = [f"pcsc:0000AA{i:02X}" for i in range(3)]
    for card in cards:
        apply(ledger, "enrol", card, {"consents": NO})
    for op, who, arg in ops:
        if op == "advance":
            time.now += timedelta(days=arg)
        elif op == "purchase":
            apply(ledger, "purchase", cards[who], {"amount_cents": arg})
        elif op == "redeem":
            apply(ledger, "redeem", cards[who], {"reward": arg})
        else:
            apply(ledger, "tap", cards[who])
    assert check_ledger(ledger.conn) == []
    for row in ledger.conn.execute("SELECT points, stamps, cashback_cents FROM members"):
        assert min(row) >= 0
    ledger.conn.close()


def test_several_stamps_a_day_when_the_program_allows_it(tmp_path: Path):
    text = (PROGRAMS / "full.toml").read_text().replace("max_per_day = 1", "max_per_day = 2")
    db = open_database(tmp_path / "l.sqlite", create=True)
    time = FakeTime()
    ledger = Ledger(db, load_program(text, "two-a-day.toml"), HubClock(time))
    apply(ledger, "enrol", body={"consents": NO})
    stamps = [apply(ledger, "tap")["member"]["balances"]["stamps"] for _ in range(3)]
    assert stamps == [1, 2, 2]
    time.now = T0 + timedelta(days=1)
    assert apply(ledger, "tap")["member"]["balances"]["stamps"] == 3


def test_a_clock_surely_unset_holds_events_instead_of_stamping_1970(tmp_path: Path):
    from hub.ledger.clock import ClockNotSet

    time = FakeTime(datetime(1970, 1, 1, 0, 5, tzinfo=UTC))  # a new Pi hub before NTP, empty ledger
    ledger = make_ledger(tmp_path / "l.sqlite", time=time)
    with pytest.raises(ClockNotSet, match="NTP"):
        ledger.apply(req("enrol", body={"consents": NO}))
    assert ledger.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
    time.now = T0  # NTP answered
    assert apply(ledger, "enrol", body={"consents": NO})["ok"]


def test_a_refused_request_still_reports_what_expired(tmp_path: Path):
    time = FakeTime()
    ledger = make_ledger(tmp_path / "l.sqlite", time=time)
    apply(ledger, "enrol", body={"consents": NO})
    apply(ledger, "purchase", body={"amount_cents": 5_000})
    time.now = T0 + timedelta(days=400)
    refused = ledger.apply(req("redeem", body={"reward": "bon-5"}))
    import json

    assert json.loads(refused.reply)["error"]["code"] == "insufficient_balance"
    assert any(e["kind"] == "expiry" and e["delta"] < 0 for e in refused.event["effects"])
    assert ledger.conn.execute("SELECT points FROM members").fetchone()[0] == 0
    assert check_ledger(ledger.conn) == []
