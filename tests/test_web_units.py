"""The staff web's pure parts: throttling, search keys, texts in both languages, words for the ledger."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.ledger.search import card_token, name_key, phone_key, prefix_upper_bound
from hub.program import demo_program_text, load_program
from hub.web.i18n import TEXTS, text
from hub.web.labels import rule_label, voucher_value
from hub.web.pages import parse_euros
from hub.web.security import safe_next
from hub.web.throttle import Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_lets_a_few_failures_through_then_doubles_the_wait():
    clock = Clock()
    throttle = Throttle(clock, free=3, base_s=2, max_s=30, forget_s=3600)
    waits = [throttle.failure("user:a") for _ in range(8)]
    assert waits == [0, 0, 0, 2, 4, 8, 16, 30]
    assert throttle.wait_for("user:a") == 30 and throttle.wait_for("user:b") == 0
    clock.now += 10
    assert throttle.wait_for("user:a", "addr:x") == 20
    throttle.success("user:a")
    assert throttle.wait_for("user:a") == 0


def test_throttle_forgets_old_failures_and_stays_bounded():
    clock = Clock()
    throttle = Throttle(clock, free=1, base_s=1, forget_s=60, max_keys=10)
    throttle.failure("k")
    throttle.failure("k")
    assert throttle.wait_for("k") == 1
    clock.now += 61
    assert throttle.wait_for("k") == 0 and throttle.failure("k") == 0  # a fresh start
    for i in range(100):
        throttle.failure(f"addr:{i}")
    assert len(throttle._records) <= 10


def test_search_keys_fold_accents_case_and_phone_formats():
    assert name_key("  Éloïse   Dupré ") == "eloise dupre"
    assert name_key("") is None and name_key(None) is None
    assert {phone_key(p) for p in ("+33 6 12-34.56.78", "0033612345678", "06 12 34 56 78")} == {"0612345678"}
    assert phone_key("+44 20 7946 0958") == "00442079460958"
    assert card_token(" PCSC:04a1b2c3 ") == "pcsc:04A1B2C3" and card_token("camille") is None
    assert prefix_upper_bound("cam") == "can"


@given(st.text(alphabet=string.ascii_lowercase + "éèàç ", min_size=1, max_size=12))
def test_a_prefix_range_holds_exactly_the_strings_that_start_with_it(prefix):
    key = name_key(prefix)
    if key is None:
        return
    upper = prefix_upper_bound(key)
    assert key <= key + "zzz" < upper and not (key[:-1] + chr(ord(key[-1]) + 1) < upper)


def test_every_text_exists_in_french_and_english_with_the_same_placeholders():
    for key, (fr, en) in TEXTS.items():
        assert fr.strip() and en.strip(), key
        assert set(re.findall(r"{(\w+)}", fr)) == set(re.findall(r"{(\w+)}", en)), key
    assert text("login.throttled", "en", seconds=4) == "Too many attempts. Try again in 4 s."
    assert text("login.throttled", "xx", seconds=4).startswith("Trop d'essais")  # French by default


def test_every_rule_the_program_posts_has_words():
    program = load_program(demo_program_text())
    rules = ["visit", "purchase", "points.purchase", "cashback.purchase", "stamps.visit", "expiry.fixed",
             "expiry.inactivity", "bonus.welcome", "bonus.first_purchase", "bonus.birthday", "bonus.newsletter",
             "bonus.referral.referee", "bonus.referral.referrer", "redeem:bon-5", "stamps.reward:cafe-offert"]  # fmt: skip
    for rule in rules:  # words, never the rule's id shown as it is
        fr, en = rule_label(rule, program, "fr"), rule_label(rule, program, "en")
        assert fr != rule and not re.search(r"[._]", fr + en.replace("5 € voucher", "")), (rule, fr, en)
    assert rule_label("redeem:bon-5", program, "fr") == "échange : Bon de 5 €"
    assert voucher_value({"kind": "percent_off", "percent": 10}, "en") == "10% off"


@pytest.mark.parametrize(("typed", "cents"), [("12,50", 1250), ("12.5", 1250), ("3", 300), (" 7,05 € ", 705),
                                              ("0", None), ("-4", None), ("1e3", None), ("12,345", None)])  # fmt: skip
def test_amounts_typed_in_euros(typed, cents):
    assert parse_euros(typed) == cents


def test_redirects_stay_on_this_site():
    assert safe_next("/members?q=cam") == "/members?q=cam"
    for bad in ("https://evil.example", "//evil.example", "/\\evil.example", None, ""):
        assert safe_next(bad) == "/"


def test_a_signed_change_reads_points_as_integers_and_the_kitty_as_euros():
    from hub.web.member_actions import parse_delta

    assert parse_delta("+50", "points") == 50 and parse_delta(" - 20 ", "stamps") == -20
    assert parse_delta("-2,50", "cashback_cents") == -250 and parse_delta("3", "cashback_cents") == 300
    assert parse_delta("1,5", "cashback_cents") == 150
    for bad in ("0", "+0", "abc", "1.5", "", "--3"):
        assert parse_delta(bad, "points") is None


def test_a_provisioning_file_is_given_once_and_not_after_its_time():
    from hub.web.kiosks_page import OneTimeFiles

    clock = Clock()
    files = OneTimeFiles(ttl=600, clock=clock)
    token = files.put("caisse", "secret")
    assert files.take(token) == ("caisse", "secret") and files.take(token) is None
    late = files.put("caisse", "secret")
    clock.now += 601
    assert files.take(late) is None and files.take("forged") is None


def test_the_status_board_keeps_each_kiosks_last_status_of_this_shop_only():
    from hub.service.kiosk_status import KioskStatusBoard

    board = KioskStatusBoard("boutique")
    assert board.kiosk_of("fidelio/v1/boutique/kiosk/comptoir/status") == "comptoir"
    assert board.kiosk_of("fidelio/v1/autre/kiosk/comptoir/status") is None
    assert board.kiosk_of("fidelio/v1/boutique/kiosk/comptoir/request") is None
    board.update("comptoir", b'{"state": "online", "queue": 2}', "t1")
    board.update("comptoir", b'{"state": "lost"}', "t2")
    board.update("terrasse", b"not json", "t3")
    snap = board.snapshot()
    assert snap["comptoir"] == {"status": {"state": "lost"}, "received_at": "t2"}
    assert snap["terrasse"]["status"] == {"state": "unreadable"}
    board.update("terrasse", b"", "t4")  # a cleared retained message
    assert "terrasse" not in board.snapshot()
