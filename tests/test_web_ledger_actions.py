"""The ledger side of the web's manager and privacy actions, without a browser: the same `apply_batch`
as the kiosks' requests. Balances never go below zero whatever adjustments come (hypothesis), the
projection stays the fold of the postings, and a request replayed after an erasure gets a reply
without the person in it."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fidelio.contract import uuid7
from hub.ledger import DirectRequest, Ledger, check_ledger
from hub.ledger.privacy import erase_member
from hub.ledger.schema import transaction
from tests.test_ledger import CARD, make_ledger, req


def direct(kind: str, member: str, body: dict) -> DirectRequest:
    return DirectRequest(1, uuid7(), kind, "web:marc", None, None, body, member=member)


def enrolled(ledger: Ledger, card: str = CARD, name: str = "Zoé") -> str:
    reply = json.loads(
        ledger.apply(
            req("enrol", card, {"first_name": name, "consents": {"email": True, "sms": False}})
        ).reply
    )
    assert reply["ok"], reply
    return reply["member"]["code"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(st.tuples(st.sampled_from(["points", "stamps", "cashback_cents"]),
                                  st.integers(-500, 500).filter(bool)), min_size=1, max_size=12))  # fmt: skip
def test_adjustments_never_make_a_balance_negative(tmp_path_factory, changes):
    ledger = make_ledger(tmp_path_factory.mktemp("adjust") / "ledger.sqlite")
    code = enrolled(ledger)
    for account, delta in changes:
        before = ledger.member_summary(code)["balances"][account]
        (applied,) = ledger.apply_batch(
            [direct("adjust", code, {"account": account, "delta": delta, "reason": "test"})]
        )
        reply = json.loads(applied.reply)
        after = ledger.member_summary(code)["balances"][account]
        if before + delta < 0:
            assert (
                reply["ok"] is False and reply["error"]["code"] == "insufficient_balance" and after == before
            )
        else:
            assert reply["ok"] and after == before + delta
    assert check_ledger(ledger.conn) == []
    rules = {r for (r,) in ledger.conn.execute("SELECT rule FROM postings WHERE event_seq IN "
                                                "(SELECT seq FROM events WHERE type = 'adjust')")}  # fmt: skip
    assert rules <= {"manual_adjustment"}


def test_a_manager_action_sent_twice_is_applied_once(tmp_path: Path):
    ledger = make_ledger(tmp_path / "ledger.sqlite")
    code = enrolled(ledger)
    action = direct("adjust", code, {"account": "points", "delta": 25, "reason": "geste"})
    first, again = ledger.apply_batch([action, action])
    assert again.duplicate and again.reply == first.reply
    assert ledger.conn.execute(
        "SELECT COUNT(*) FROM postings WHERE rule = 'manual_adjustment'"
    ).fetchone() == (1,)


def test_a_request_replayed_after_an_erasure_gets_a_reply_without_the_person(tmp_path: Path):
    ledger = make_ledger(tmp_path / "ledger.sqlite")
    enrol = req(
        "enrol",
        CARD,
        {"first_name": "Zoé", "email": "zoe@example.fr", "consents": {"email": True, "sms": False}},
    )
    first = json.loads(ledger.apply(enrol).reply)
    member_id = ledger.conn.execute(
        "SELECT id FROM members WHERE code = ?", (first["member"]["code"],)
    ).fetchone()[0]
    with transaction(ledger.conn):
        touched = erase_member(ledger.conn.cursor(), member_id, ledger.clock())
    assert touched["cards"] == 1 and touched["events"] == 1
    replayed = json.loads(ledger.apply(enrol).reply)  # the kiosk's outbox sends it again
    assert replayed["member"]["display_name"] is None
    assert replayed["member"]["code"] == first["member"]["code"]
    assert replayed["member"]["balances"] == first["member"]["balances"]
    assert check_ledger(ledger.conn) == []
    assert ledger.conn.execute("SELECT card FROM events").fetchall() == [("erased",)]
