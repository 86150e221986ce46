"""The kiosk's session state machine, flow by flow, answered by the REAL hub ledger (SQLite, real program).

Every request the session emits goes through the contract's `parse_request` (as the hub receives it) into
`hub.ledger.Ledger.apply`, and the hub's real reply comes back as a `HubReply`: the machine is tested
against the replies it will really get, not against hand-written ones (except where a test needs a reply
the hub cannot be made to give, such as several vouchers or a malformed answer).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fidelio.contract import Request, dumps, new_request, parse_request, uuid7
from hub.ledger import HubClock, Ledger, open_database
from hub.program import load_program
from hub.program.loader import demo_program_text
from kiosk.session import notices, texts
from kiosk.session.machine import Session
from kiosk.session.model import (
    Back,
    CachedMember,
    CardPresented,
    CardRemoved,
    CatalogueChanged,
    ChooseReward,
    Command,
    Confirm,
    ConsentsDone,
    DeclineEnrol,
    DetailsDone,
    DevicesChanged,
    EnrolDraft,
    Event,
    Finish,
    HubReply,
    LinkChanged,
    MemberView,
    PrintFinished,
    PrintVoucher,
    ReprintLast,
    Screen,
    Send,
    SessionSettings,
    SetConsent,
    SetLanguage,
    ShowRewards,
    StaffAmount,
    StaffExit,
    StaffPin,
    StaffReprint,
    StaffRequest,
    StartEnrol,
    Tick,
    Words,
)

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # a Tuesday: the demo's Wednesday ×2 does not apply
KIOSK = "comptoir"
CAMILLE = "pcsc:04A1B2C3"
DOMINIQUE = "pcsc:0BADCAFE"
STAFF_CARD = "pcsc:57AFF001"
PIN = "2468"
SETTINGS = SessionSettings(kiosk=KIOSK, staff_pin=PIN, staff_cards=frozenset({STAFF_CARD}))
NO_CONSENT = {"email": False, "sms": False}


def id_factory() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: uuid7(now_ms=1_770_000_000_000 + next(counter), rand=bytes(10))


class HubTime:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class RealHub:
    """The hub's ledger on a real SQLite file with a real program; requests arrive as on the wire."""

    def __init__(self, path: Path, program_text: str, source: str) -> None:
        self.time = HubTime()
        db = open_database(path, create=True)
        self.ledger = Ledger(db, load_program(program_text, source), HubClock(self.time))

    def answer(self, request: Request) -> dict[str, Any]:
        parsed = parse_request(dumps(request.to_json()), request.kiosk)
        return json.loads(self.ledger.apply(parsed).reply)

    def elsewhere(self, type_: str, card: str, body: dict | None = None) -> dict[str, Any]:
        """A request from another kiosk (or the POS), applied by the same hub."""
        return self.answer(new_request(type_, "caisse", card, body))

    def catalogue(self) -> dict[str, Any]:
        return {"version": self.ledger.program_version, **self.ledger.program.summary()}


class Rig:
    """A session with its clock, every command it gave, and the hub that answers it."""

    def __init__(
        self, hub: RealHub | None, settings: SessionSettings = SETTINGS, online: bool = True
    ) -> None:
        self.hub = hub
        self.session = Session(settings, id_factory())
        self.now = 1000.0
        self.commands: list[Command] = []
        if hub is not None:
            self.do(CatalogueChanged(hub.catalogue()))
        self.do(LinkChanged(online, 0))

    @property
    def view(self):
        return self.session.view

    def do(self, event: Event, dt: float = 0.1) -> list[Command]:
        self.now += dt
        out = self.session.handle(event, self.now)
        self.commands += out
        return out

    def sends(self, out: list[Command] | None = None) -> list[Request]:
        return [c.request for c in (self.commands if out is None else out) if isinstance(c, Send)]

    def last_request(self) -> Request:
        return self.sends()[-1]

    def answer(self, request: Request | None = None, dt: float = 0.1) -> list[Command]:
        """The hub applies the request (the last one sent by default) and its reply comes back."""
        assert self.hub is not None
        request = request or self.last_request()
        return self.do(HubReply(request.id, self.hub.answer(request)), dt)

    def tap(self, card: str = CAMILLE, cached: CachedMember | None = None, dt: float = 0.1) -> list[Command]:
        return self.do(CardPresented(card, cached), dt)


@pytest.fixture
def hub(tmp_path: Path) -> RealHub:
    return RealHub(tmp_path / "ledger.db", demo_program_text(), "demo.toml")


def member_with(hub: RealHub, card: str = CAMILLE, spend_cents: int = 12000, name: str = "Camille") -> dict:
    """Enrol `card` from another kiosk (+20 welcome) and record a purchase (+1 point/€, +30 first)."""
    hub.elsewhere("enrol", card, {"first_name": name, "consents": NO_CONSENT})
    return hub.elsewhere("purchase", card, {"amount_cents": spend_cents}) if spend_cents else {}


def at_welcome(hub: RealHub, **kw: Any) -> Rig:
    rig = Rig(hub, **kw)
    member_with(hub)
    rig.tap()
    rig.answer()
    assert rig.view.screen is Screen.WELCOME
    return rig


def assert_clean_attract(rig: Rig) -> None:
    v = rig.view
    assert v.screen is Screen.ATTRACT
    assert v.deadline is None
    assert v.lang == SETTINGS.default_lang
    assert (v.member, v.chosen, v.voucher, v.message, v.print_problem) == (None, None, None, None, None)
    assert v.draft == EnrolDraft()
    assert v.effects == () and v.rewards == ()


# -- the customer's journey -----------------------------------------------------------------------


def test_journey_tap_welcome_rewards_confirm_redeem_print_done_attract(hub: RealHub) -> None:
    member_with(hub)  # 20 + 120 + 30 = 170 points
    rig = Rig(hub)
    out = rig.tap()
    (tap,) = rig.sends(out)
    assert (tap.type, tap.card, tap.kiosk, tap.body) == ("tap", CAMILLE, KIOSK, {})
    assert rig.view.screen is Screen.LOOKUP
    assert rig.view.deadline == pytest.approx(rig.now + SETTINGS.lookup_timeout)

    rig.answer()
    v = rig.view
    assert v.screen is Screen.WELCOME
    assert v.member is not None and v.member.display_name == "Camille" and not v.member.stale
    assert v.member.balances == {"points": 170}  # the demo program only uses points
    assert v.member.tier_label == Words("Bronze", "Bronze")
    assert v.member.next_tier_label == Words("Argent", "Silver")
    assert Words("Merci de votre visite !", "Thanks for your visit!") in v.effects
    assert texts.progress_words(v.member) == Words(
        "Plus que 30,00 € d'achats pour le statut Argent", "€30.00 more to Silver"
    )

    rig.do(ShowRewards())
    options = {o.id: o for o in rig.view.rewards}
    assert rig.view.screen is Screen.REWARDS
    assert options["bon-5"].affordable and options["cafe-offert"].affordable
    assert options["remise-10"].affordable  # 150 <= 170
    assert not options["atelier"].affordable
    assert options["atelier"].why_not == Words("Réservé au statut Or", "Gold members only")

    rig.do(ChooseReward("bon-5"))
    assert rig.view.screen is Screen.CONFIRM and rig.view.chosen == options["bon-5"]
    out = rig.do(Confirm())
    (redeem,) = rig.sends(out)
    assert (redeem.type, redeem.body, redeem.card) == ("redeem", {"reward": "bon-5"}, CAMILLE)
    assert rig.view.screen is Screen.REDEEMING
    assert rig.view.deadline == pytest.approx(rig.now + SETTINGS.redeem_timeout)

    out = rig.answer()
    (printed,) = [c for c in out if isinstance(c, PrintVoucher)]
    assert printed.voucher["reward"] == "bon-5"
    v = rig.view
    assert v.screen is Screen.PRINTING and v.voucher == printed.voucher
    assert v.member is not None and v.member.balances == {"points": 90}
    assert v.deadline == pytest.approx(rig.now + SETTINGS.print_timeout)

    rig.do(PrintFinished(printed.voucher["code"]))
    assert rig.view.screen is Screen.DONE and rig.view.print_problem is None
    assert rig.view.staff.last_voucher
    rig.do(Finish())
    assert_clean_attract(rig)
    assert [r.type for r in rig.sends()] == ["tap", "redeem"]  # one request per customer action


def test_reward_shortfall_and_refused_choices_stay_on_rewards(hub: RealHub) -> None:
    member_with(hub, spend_cents=0)  # 20 points: the welcome bonus only
    rig = Rig(hub)
    rig.tap()
    rig.answer()
    rig.do(ShowRewards())
    bon = next(o for o in rig.view.rewards if o.id == "bon-5")
    assert not bon.affordable
    assert bon.why_not == Words("Il vous manque 60 points", "60 more points needed")
    for reward in ("bon-5", "atelier", "no-such-reward"):
        out = rig.do(ChooseReward(reward))
        assert rig.view.screen is Screen.REWARDS and rig.view.chosen is None and out == []
    assert rig.view.message == notices.REWARD_NOT_AVAILABLE  # the unknown id's notice
    rig.do(Back())
    assert rig.view.screen is Screen.WELCOME


def test_tier_restricted_reward_opens_at_gold_in_catalogue_order(hub: RealHub) -> None:
    member_with(hub, spend_cents=50_000)  # Or (Gold) from 500 €, and 520 points
    rig = Rig(hub)
    rig.tap()
    rig.answer()
    assert rig.view.member is not None and rig.view.member.tier == "Or"
    rig.do(ShowRewards())
    atelier = next(o for o in rig.view.rewards if o.id == "atelier")
    assert atelier.affordable and atelier.why_not is None
    rig.do(ChooseReward("atelier"))
    rig.do(Confirm())
    out = rig.answer()
    assert rig.view.screen is Screen.PRINTING
    assert [c.voucher["reward"] for c in out if isinstance(c, PrintVoucher)] == ["atelier"]


def test_out_of_stock_and_automatic_rewards_are_not_choosable(hub: RealHub) -> None:
    catalogue = hub.catalogue()
    catalogue["rewards"][0]["stock"] = 0
    catalogue["rewards"][1]["automatic"] = True
    rig = at_welcome(hub)
    rig.do(CatalogueChanged(catalogue))
    rig.do(ShowRewards())
    first, second = rig.view.rewards[:2]
    assert (first.affordable, first.why_not) == (False, notices.REWARD_OUT_OF_STOCK)
    assert (second.affordable, second.why_not) == (False, notices.REWARD_AUTOMATIC)
    rig.do(ChooseReward(first.id))
    assert rig.view.screen is Screen.REWARDS and rig.view.message == notices.REWARD_OUT_OF_STOCK


def test_catalogue_change_recomputes_rewards_and_drops_an_impossible_choice(hub: RealHub) -> None:
    rig = at_welcome(hub)
    rig.do(ShowRewards())
    rig.do(ChooseReward("remise-10"))
    assert rig.view.screen is Screen.CONFIRM
    dearer = hub.catalogue()
    for reward in dearer["rewards"]:
        reward["cost"] = {"points": 1000}
    out = rig.do(CatalogueChanged(dearer))
    assert out == []
    assert rig.view.screen is Screen.REWARDS and rig.view.chosen is None
    assert rig.view.message == notices.CATALOGUE_CHANGED
    assert not any(o.affordable for o in rig.view.rewards)


def test_tier_labels_come_from_the_catalogue_when_it_arrives(hub: RealHub) -> None:
    member_with(hub, spend_cents=20_000)  # Argent
    rig = Rig(hub=None)  # no catalogue yet
    reply = hub.elsewhere("tap", CAMILLE)
    rig.tap()
    rig.do(HubReply(rig.last_request().id, reply))
    member = rig.view.member
    assert member is not None and member.tier == "Argent" and member.tier_label is None
    assert set(member.balances) == {"points", "stamps", "cashback_cents"}  # every balance, unknown program
    assert texts.tier_words(member) == Words("Statut Argent", "Argent tier")
    rig.do(CatalogueChanged(hub.catalogue()))
    member = rig.view.member
    assert member is not None and member.tier_label == Words("Argent", "Silver")
    assert member.balances == {"points": 20 + 200 + 30 + 0}
    assert texts.tier_words(member) == Words("Statut Argent", "Silver tier")


# -- enrolment ------------------------------------------------------------------------------------


def to_details(rig: Rig, email: bool = False, sms: bool = False) -> None:
    rig.tap()
    rig.answer()
    assert rig.view.screen is Screen.ENROL_OFFER
    rig.do(StartEnrol())
    assert rig.view.screen is Screen.CONSENTS and rig.view.draft == EnrolDraft()
    rig.do(SetConsent("email", email))
    rig.do(SetConsent("sms", sms))
    rig.do(ConsentsDone())
    assert rig.view.screen is Screen.DETAILS


def test_enrolment_with_consents_and_details(hub: RealHub) -> None:
    rig = Rig(hub)
    rig.tap()
    rig.answer()
    assert rig.view.screen is Screen.ENROL_OFFER and rig.view.member is None
    rig.do(StartEnrol())
    assert (rig.view.draft.consent_email, rig.view.draft.consent_sms) == (False, False)  # never pre-ticked
    rig.do(SetConsent("email", True))
    rig.do(SetConsent("sms", True))
    rig.do(SetConsent("sms", False))
    assert (rig.view.draft.consent_email, rig.view.draft.consent_sms) == (True, False)
    rig.do(ConsentsDone())
    out = rig.do(DetailsDone(first_name=" Camille ", email="Camille@Example.FR", birth_date="1990-04-23"))
    (enrol,) = rig.sends(out)
    assert enrol.type == "enrol" and enrol.card == CAMILLE
    assert enrol.body == {
        "first_name": "Camille",
        "email": "camille@example.fr",
        "birth_date": "1990-04-23",
        "consents": {"email": True, "sms": False},
    }
    assert rig.view.screen is Screen.ENROLLING
    rig.answer()
    v = rig.view
    assert v.screen is Screen.WELCOME and v.member is not None and v.member.display_name == "Camille"
    assert Words("+20 points : bonus de bienvenue", "+20 points: welcome bonus") in v.effects
    assert v.member.balances == {"points": 30}  # welcome + newsletter opt-in
    assert v.draft == EnrolDraft()


@pytest.mark.parametrize(
    ("details", "email", "sms", "problem"),
    [
        (DetailsDone(email="camille.example.fr"), False, False, notices.FIELD_INVALID["email"]),
        (DetailsDone(phone="appelez-moi"), False, False, notices.FIELD_INVALID["phone"]),
        (DetailsDone(birth_date="1990-02-30"), False, False, notices.FIELD_INVALID["birth_date"]),
        (DetailsDone(birth_date="23/04/1990"), False, False, notices.FIELD_INVALID["birth_date"]),
        (DetailsDone(first_name="C" * 51), False, False, notices.FIELD_INVALID["first_name"]),
        (DetailsDone(first_name="Camille"), True, False, notices.EMAIL_CONSENT_WITHOUT_EMAIL),
        (DetailsDone(email="c@example.fr"), False, True, notices.SMS_CONSENT_WITHOUT_PHONE),
    ],
)
def test_details_refused_with_a_clear_message(
    hub: RealHub, details: DetailsDone, email: bool, sms: bool, problem: Words
) -> None:
    rig = Rig(hub)
    to_details(rig, email=email, sms=sms)
    out = rig.do(details)
    assert rig.sends(out) == []
    assert rig.view.screen is Screen.DETAILS
    assert rig.view.message == problem
    # corrected, it goes
    out = rig.do(DetailsDone(email="c@example.fr", phone="06 12 34 56 78"))
    assert [r.type for r in rig.sends(out)] == ["enrol"]


def test_enrolment_back_steps_and_decline(hub: RealHub) -> None:
    rig = Rig(hub)
    to_details(rig, email=True)
    rig.do(Back())
    assert rig.view.screen is Screen.CONSENTS and rig.view.draft.consent_email
    rig.do(Back())
    assert rig.view.screen is Screen.ENROL_OFFER
    rig.do(StartEnrol())
    assert rig.view.draft == EnrolDraft()  # a fresh start: consents off again
    rig.do(Back())
    rig.do(DeclineEnrol())
    assert_clean_attract(rig)
    assert [r.type for r in rig.sends()] == ["tap"]


def test_enrolment_offline_is_queued_and_confirmed_later(hub: RealHub) -> None:
    rig = Rig(hub)
    to_details(rig)
    rig.do(LinkChanged(False, 0))
    out = rig.do(DetailsDone(first_name="Camille"))
    (enrol,) = rig.sends(out)
    assert rig.view.screen is Screen.MESSAGE
    assert rig.view.message == Words(
        "Inscription enregistrée : elle sera confirmée dès le retour du réseau",
        "Sign-up saved: it will be confirmed as soon as the network is back",
    )
    rig.do(LinkChanged(True, 1))
    rig.answer(enrol)  # the outbox drained: the customer, still there, sees the welcome
    assert rig.view.screen is Screen.WELCOME and rig.view.member is not None


def test_enrolment_already_done_elsewhere_taps_and_shows_the_member(hub: RealHub) -> None:
    rig = Rig(hub)
    to_details(rig)
    hub.elsewhere("enrol", CAMILLE, {"first_name": "Cam", "consents": NO_CONSENT})  # meanwhile, the till
    rig.do(DetailsDone())
    out = rig.answer()  # already_enrolled
    (tap,) = rig.sends(out)
    assert tap.type == "tap" and rig.view.screen is Screen.LOOKUP
    rig.answer()
    assert rig.view.screen is Screen.WELCOME
    assert rig.view.member is not None and rig.view.member.display_name == "Cam"


def test_enrolling_timeout_says_the_sign_up_is_saved(hub: RealHub) -> None:
    rig = Rig(hub)
    to_details(rig)
    rig.do(DetailsDone())
    assert rig.view.screen is Screen.ENROLLING
    rig.do(Tick(), dt=SETTINGS.timeouts[Screen.ENROLLING])
    assert rig.view.screen is Screen.MESSAGE and rig.view.message == notices.ENROL_QUEUED
    rig.answer()  # the late welcome, while the customer is still there
    assert rig.view.screen is Screen.WELCOME


def test_link_drop_while_enrolling_says_the_sign_up_is_saved(hub: RealHub) -> None:
    rig = Rig(hub)
    to_details(rig)
    rig.do(DetailsDone())
    assert rig.do(LinkChanged(False, 1)) == []
    assert rig.view.screen is Screen.MESSAGE and rig.view.message == notices.ENROL_QUEUED


def test_enrolment_not_yet_eligible_says_how_much_more(tmp_path: Path) -> None:
    text = (ROOT / "tests/programs/threshold.toml").read_text()
    hub = RealHub(tmp_path / "ledger.db", text, "threshold.toml")
    hub.elsewhere("purchase", CAMILLE, {"amount_cents": 4750})  # an anonymous card's spend counts
    rig = Rig(hub)
    rig.tap()
    rig.answer()
    v = rig.view
    assert v.screen is Screen.MESSAGE and v.enrolment_missing_cents == 1250
    assert v.message == Words(
        "Plus que 12,50 € d'achats pour rejoindre le programme",
        "€12.50 more in purchases to join the programme",
    )
    rig.do(StartEnrol())  # not offered: nothing happens
    assert rig.view.screen is Screen.MESSAGE


# -- offline, slow hub ----------------------------------------------------------------------------


def cached_copy(hub: RealHub) -> CachedMember:
    reply = hub.elsewhere("tap", CAMILLE)
    return CachedMember(reply["member"], reply["at"])


def test_offline_tap_with_cache_shows_the_stale_copy_then_the_hub_answer(hub: RealHub) -> None:
    member_with(hub)
    cached = cached_copy(hub)
    rig = Rig(hub, online=False)
    out = rig.tap(cached=cached)
    (tap,) = rig.sends(out)  # queued in the outbox by the link
    v = rig.view
    assert v.screen is Screen.WELCOME
    assert v.member is not None and v.member.stale and v.member.seen_at == cached.seen_at
    assert v.member.balances == {"points": 170}
    assert v.message == Words(
        "Hors ligne : votre passage est enregistré et sera compté dès le retour du réseau",
        "Offline: your visit is saved and will be counted as soon as the network is back",
    )
    assert texts.stale_words(v.member) is not None
    hub.elsewhere("purchase", CAMILLE, {"amount_cents": 1000})
    rig.do(LinkChanged(True, 1))
    rig.answer(tap)
    v = rig.view
    assert v.screen is Screen.WELCOME and v.member is not None and not v.member.stale
    assert v.member.balances == {"points": 180} and v.message is None


def test_offline_tap_without_cache_says_the_visit_is_saved_and_enrolment_waits(hub: RealHub) -> None:
    rig = Rig(hub, online=False)
    out = rig.tap()
    (tap,) = rig.sends(out)
    assert rig.view.screen is Screen.MESSAGE and rig.view.member is None
    assert rig.view.message == notices.OFFLINE_TAP_NO_CACHE
    assert "passage est enregistré" in rig.view.message.fr and "inscription" in rig.view.message.fr.lower()
    assert "join" in rig.view.message.en
    rig.do(LinkChanged(True, 1))
    rig.answer(tap)  # unknown card, enrolment open: the customer may still join
    assert rig.view.screen is Screen.ENROL_OFFER


def test_lookup_timeout_falls_back_to_the_cache_then_the_late_reply_updates(hub: RealHub) -> None:
    member_with(hub)
    cached = cached_copy(hub)
    rig = Rig(hub)
    rig.tap(cached=cached)
    (tap,) = rig.sends()
    rig.do(Tick(), dt=SETTINGS.lookup_timeout / 2)
    assert rig.view.screen is Screen.LOOKUP
    out = rig.do(Tick(), dt=SETTINGS.lookup_timeout)
    assert out == []  # the request stays queued: nothing is sent again
    v = rig.view
    assert v.screen is Screen.WELCOME and v.member is not None and v.member.stale
    assert v.message == notices.SLOW_TAP
    assert v.deadline == pytest.approx(rig.now + SETTINGS.timeouts[Screen.WELCOME])
    rig.answer(tap)
    assert rig.view.member is not None and not rig.view.member.stale
    assert Words("Merci de votre visite !", "Thanks for your visit!") in rig.view.effects
    # the same reply again (the outbox resent the id): nothing more changes
    before = rig.view
    rig.do(HubReply(tap.id, hub.answer(tap)), dt=0)
    assert rig.view == before


def test_lookup_timeout_without_cache_and_link_drop_on_lookup(hub: RealHub) -> None:
    rig = Rig(hub)
    rig.tap()
    rig.do(Tick(), dt=SETTINGS.lookup_timeout)
    assert rig.view.screen is Screen.MESSAGE and rig.view.message == notices.SLOW_TAP_NO_CACHE
    rig.do(Finish())
    rig.tap(DOMINIQUE)
    rig.do(LinkChanged(False, 1))  # the link drops while waiting: the cache (none here) at once
    assert rig.view.screen is Screen.MESSAGE and rig.view.message == notices.OFFLINE_TAP_NO_CACHE


def test_late_tap_reply_after_the_flow_ended_is_ignored(hub: RealHub) -> None:
    member_with(hub)
    rig = Rig(hub)
    rig.tap()
    (tap,) = rig.sends()
    rig.do(Tick(), dt=SETTINGS.lookup_timeout)
    rig.do(Finish())
    out = rig.answer(tap)
    assert out == []
    assert_clean_attract(rig)


def test_late_tap_reply_on_rewards_refreshes_balances_only(hub: RealHub) -> None:
    member_with(hub, spend_cents=0)
    cached = cached_copy(hub)
    rig = Rig(hub)
    rig.tap(cached=cached)
    (tap,) = rig.sends()
    rig.do(Tick(), dt=SETTINGS.lookup_timeout)
    rig.do(ShowRewards())
    assert not next(o for o in rig.view.rewards if o.id == "cafe-offert").affordable  # 20 < 40
    hub.elsewhere("purchase", CAMILLE, {"amount_cents": 5000})
    rig.answer(tap)
    assert rig.view.screen is Screen.REWARDS
    assert next(o for o in rig.view.rewards if o.id == "cafe-offert").affordable


# -- redemption refused, silent hub, printer ------------------------------------------------------


def test_redemption_refused_offline_nothing_sent(hub: RealHub) -> None:
    rig = at_welcome(hub)
    rig.do(ShowRewards())
    rig.do(LinkChanged(False, 0))  # going offline on REWARDS: nothing can be chosen
    assert all(not o.affordable and o.why_not == notices.REWARD_OFFLINE for o in rig.view.rewards)
    assert notices.REWARD_OFFLINE.fr == "Hors ligne : les récompenses ne peuvent être choisies qu'avec le hub"
    rig.do(ChooseReward("bon-5"))
    assert rig.view.screen is Screen.REWARDS
    rig.do(LinkChanged(True, 0))
    rig.do(ChooseReward("bon-5"))
    assert rig.view.screen is Screen.CONFIRM
    assert rig.do(LinkChanged(False, 0)) == []  # going offline on CONFIRM sends nothing
    out = rig.do(Confirm())
    assert rig.sends(out) == []
    assert rig.view.screen is Screen.MESSAGE and rig.view.message == notices.REDEEM_OFFLINE
    assert [r.type for r in rig.sends()] == ["tap"]


def test_redemption_refused_by_the_hub_shows_its_words(hub: RealHub) -> None:
    rig = at_welcome(hub)  # 170 points
    rig.do(ShowRewards())
    rig.do(ChooseReward("remise-10"))
    hub.elsewhere("redeem", CAMILLE, {"reward": "bon-5"})  # spent at the till meanwhile: 90 left
    rig.do(Confirm())
    out = rig.answer()
    assert [c for c in out if isinstance(c, PrintVoucher)] == []
    assert rig.view.screen is Screen.MESSAGE
    assert rig.view.message == Words(
        "Solde insuffisant pour cette récompense.", "Not enough balance for this reward."
    )


def test_redeem_timeout_then_the_late_voucher_is_still_printed(hub: RealHub) -> None:
    rig = at_welcome(hub)
    rig.do(ShowRewards())
    rig.do(ChooseReward("bon-5"))
    rig.do(Confirm())
    redeem = rig.last_request()
    rig.do(Tick(), dt=SETTINGS.redeem_timeout)
    assert rig.view.screen is Screen.MESSAGE
    assert rig.view.message == Words(
        "Le hub ne répond pas. Si le bon est émis, il sera imprimé ; sinon, rien n'a été débité.",
        "The hub is not answering. If the voucher is issued it will be printed; if not, nothing was taken.",
    )
    out = rig.answer(redeem)
    assert [c.voucher["reward"] for c in out if isinstance(c, PrintVoucher)] == ["bon-5"]
    assert rig.view.screen is Screen.MESSAGE


def redeem_to_printing(hub: RealHub) -> tuple[Rig, dict]:
    rig = at_welcome(hub)
    rig.do(ShowRewards())
    rig.do(ChooseReward("cafe-offert"))
    rig.do(Confirm())
    rig.answer()
    assert rig.view.screen is Screen.PRINTING and rig.view.voucher is not None
    return rig, rig.view.voucher


def test_print_problem_keeps_the_voucher_for_a_staff_reprint(hub: RealHub) -> None:
    rig, voucher = redeem_to_printing(hub)
    rig.do(PrintFinished("AAAA-BBBB-CCCC-DDDD-E"))  # another voucher (a replay): not this screen's
    assert rig.view.screen is Screen.PRINTING
    paper_out = Words("Plus de papier", "Out of paper")
    rig.do(PrintFinished(voucher["code"], paper_out))
    v = rig.view
    assert v.screen is Screen.DONE and v.print_problem == paper_out and v.voucher == voucher
    rig.do(Finish())
    rig.do(StaffRequest())
    rig.do(StaffPin(PIN))
    out = rig.do(StaffReprint())
    assert out == [ReprintLast()]


def test_print_timeout_is_a_print_problem(hub: RealHub) -> None:
    rig, voucher = redeem_to_printing(hub)
    rig.do(Tick(), dt=SETTINGS.print_timeout)
    v = rig.view
    assert v.screen is Screen.DONE and v.print_problem == notices.PRINT_SILENT and v.voucher == voucher
    rig.do(PrintFinished(voucher["code"]))  # it came out after all
    assert rig.view.print_problem is None
    rig.do(Tick(), dt=SETTINGS.timeouts[Screen.DONE])
    assert_clean_attract(rig)


# -- vouchers in any reply ------------------------------------------------------------------------


def test_completed_stamp_card_on_a_tap_prints_its_voucher(tmp_path: Path) -> None:
    hub = RealHub(tmp_path / "ledger.db", (ROOT / "examples/bakery.toml").read_text(), "bakery.toml")
    hub.elsewhere("enrol", CAMILLE, {"consents": NO_CONSENT})  # 1 stamp
    for _ in range(8):  # one stamp a day at most
        hub.time.now += timedelta(days=1)
        hub.elsewhere("tap", CAMILLE)
    hub.time.now += timedelta(days=1)
    rig = Rig(hub)
    rig.tap()
    out = rig.answer()
    (printed,) = [c for c in out if isinstance(c, PrintVoucher)]
    assert printed.voucher["reward"] == "cafe-offert"
    v = rig.view
    assert v.screen is Screen.WELCOME and v.voucher == printed.voucher
    assert any(e.fr.startswith("Carte complète !") for e in v.effects)
    assert v.member is not None and v.member.balances == {"stamps": 0}
    rig.do(PrintFinished(printed.voucher["code"], Words("Plus de papier", "Out of paper")))
    assert rig.view.print_problem == Words("Plus de papier", "Out of paper")


def test_replies_for_ids_this_session_did_not_make(hub: RealHub) -> None:
    rig = at_welcome(hub)
    before = rig.view
    stranger = uuid7(now_ms=1, rand=bytes(10))
    assert rig.do(HubReply(stranger, hub.elsewhere("tap", CAMILLE)), dt=0) == []
    assert rig.view == before
    replayed = hub.elsewhere("redeem", CAMILLE, {"reward": "bon-5"})  # e.g. replayed after a restart
    out = rig.do(HubReply(stranger, replayed), dt=0)
    assert out == [PrintVoucher(replayed["voucher"])]
    assert rig.view == dataclasses.replace(before, staff=dataclasses.replace(before.staff, last_voucher=True))


def test_several_vouchers_print_one_each(hub: RealHub) -> None:
    rig = Rig(hub)
    vouchers = [{"code": f"V{i}", "reward": "cafe-offert"} for i in range(3)]
    out = rig.do(HubReply("x", {"ok": True, "voucher": vouchers[0], "vouchers": vouchers}))
    assert out == [PrintVoucher(v) for v in vouchers]
    assert_clean_attract(rig)


def test_malformed_replies_do_not_crash(hub: RealHub) -> None:
    rig = Rig(hub)
    rig.tap()
    tap = rig.last_request()
    rig.do(HubReply(tap.id, {"ok": True, "member": "??"}))
    assert rig.view.screen is Screen.MESSAGE and rig.view.message == notices.BAD_REPLY
    rig.do(Finish())
    rig.tap()
    rig.do(HubReply(rig.last_request().id, {"ok": False, "error": {"code": "teapot"}}))
    assert rig.view.screen is Screen.MESSAGE and rig.view.message == notices.BAD_REPLY
    for junk in ({}, {"vouchers": "x", "voucher": [1]}, {"ok": True, "effects": 3}):
        rig.do(HubReply(rig.last_request().id, junk))
    rig.do(CatalogueChanged({"tiers": "x", "rewards": [1, {"id": 3}, {"id": "a", "cost": []}]}))


# -- staff ----------------------------------------------------------------------------------------


def to_staff(rig: Rig) -> None:
    rig.do(StaffRequest())
    assert rig.view.screen is Screen.STAFF_PIN
    rig.do(StaffPin(PIN))
    assert rig.view.screen is Screen.STAFF


def test_staff_pin_right_wrong_and_lock(hub: RealHub) -> None:
    rig = Rig(hub)
    rig.do(StaffRequest())
    for left in range(SETTINGS.pin_attempts - 1, 0, -1):
        rig.do(StaffPin("0000"))
        assert rig.view.screen is Screen.STAFF_PIN and rig.view.staff.pin_attempts_left == left
        assert rig.view.message == notices.wrong_pin(left)
    rig.do(StaffPin("0000"))
    locked_until = rig.view.staff.locked_until
    assert locked_until == pytest.approx(rig.now + SETTINGS.pin_lock_seconds)
    rig.do(StaffPin(PIN))  # the right PIN, but locked: not even compared
    assert rig.view.screen is Screen.STAFF_PIN
    assert rig.view.message is not None and "Trop d'essais" in rig.view.message.fr
    rig.do(Back())  # leaving the pad and coming back does not lift the lock
    rig.do(StaffRequest())
    rig.do(StaffPin(PIN))
    assert rig.view.screen is Screen.STAFF_PIN and rig.view.staff.locked_until == locked_until
    rig.now = locked_until  # the pad itself timed out meanwhile (30 s < 60 s)
    rig.do(StaffRequest(), dt=0)
    assert rig.view.screen is Screen.STAFF_PIN and rig.view.staff.locked_until is None
    assert rig.view.staff.pin_attempts_left == SETTINGS.pin_attempts
    rig.do(StaffPin(PIN))
    assert rig.view.screen is Screen.STAFF
    assert rig.view.staff.pin_attempts_left == SETTINGS.pin_attempts and rig.view.staff.locked_until is None


def test_staff_request_only_from_the_attract_screen(hub: RealHub) -> None:
    rig = at_welcome(hub)
    rig.do(StaffRequest())
    assert rig.view.screen is Screen.WELCOME
    rig.do(ShowRewards())
    rig.do(StaffRequest())
    rig.do(StaffPin(PIN))
    assert rig.view.screen is Screen.REWARDS


def test_staff_mode_by_card_only_when_there_is_no_pin(hub: RealHub) -> None:
    rig = Rig(hub, settings=dataclasses.replace(SETTINGS, staff_pin=None))
    rig.do(StaffRequest())
    assert rig.view.screen is Screen.MESSAGE
    assert rig.view.message == Words(
        "Mode personnel : présentez une carte personnel", "Staff mode: present a staff card"
    )
    rig.do(StaffPin("anything"))
    assert rig.view.screen is Screen.MESSAGE
    out = rig.tap(STAFF_CARD)
    assert out == [] and rig.view.screen is Screen.STAFF


def test_staff_card_opens_staff_mode_and_is_refused_as_a_customer(hub: RealHub) -> None:
    rig = Rig(hub)
    assert rig.tap(STAFF_CARD) == [] and rig.view.screen is Screen.STAFF
    assert rig.tap(STAFF_CARD) == [] and rig.view.screen is Screen.STAFF
    rig.do(StaffAmount(1500))
    assert rig.view.screen is Screen.STAFF_TAP
    assert rig.tap(STAFF_CARD) == []
    assert rig.view.screen is Screen.STAFF_TAP and rig.view.message == notices.STAFF_CARD_ON_PURCHASE
    rig.do(StaffExit())
    assert_clean_attract(rig)
    # on a customer's screen, a staff card ends that flow
    member_with(hub)
    rig.tap()
    rig.answer()
    rig.tap(STAFF_CARD)
    assert rig.view.screen is Screen.STAFF and rig.view.member is None


def test_staff_purchase_online(hub: RealHub) -> None:
    member_with(hub)
    rig = Rig(hub)
    to_staff(rig)
    for wrong in (0, -5, 100_000_001, True):
        rig.do(StaffAmount(wrong))
        assert rig.view.screen is Screen.STAFF and rig.view.message == notices.STAFF_AMOUNT_INVALID
    rig.do(StaffAmount(4250))
    assert rig.view.screen is Screen.STAFF_TAP and rig.view.staff.amount_cents == 4250
    out = rig.tap()
    (purchase,) = rig.sends(out)
    assert (purchase.type, purchase.card, purchase.body) == ("purchase", CAMILLE, {"amount_cents": 4250})
    assert rig.view.screen is Screen.STAFF_RESULT
    assert rig.tap() == []  # no second purchase by tapping again
    rig.answer()
    v = rig.view
    assert v.member is not None and v.member.balances == {"points": 170 + 42}
    assert (
        Words("+42 points pour votre achat de 42,50\u00a0€", "+42 points for your 42.50 € purchase")
        in v.effects
    )
    rig.do(Back())
    assert rig.view.screen is Screen.STAFF and rig.view.member is None and rig.view.staff.amount_cents is None


def test_staff_purchase_offline_is_queued(hub: RealHub) -> None:
    rig = Rig(hub, online=False)
    to_staff(rig)
    rig.do(StaffAmount(999))
    out = rig.tap()
    assert [r.body for r in rig.sends(out)] == [{"amount_cents": 999}]
    assert rig.view.screen is Screen.STAFF_RESULT
    assert rig.view.message == Words(
        "Achat enregistré, il sera compté dès le retour du réseau",
        "Purchase saved, it will be counted as soon as the network is back",
    )


def test_staff_purchase_for_an_unknown_card_and_an_old_answer(hub: RealHub) -> None:
    rig = Rig(hub)
    to_staff(rig)
    rig.do(StaffAmount(1000))
    rig.tap(DOMINIQUE)
    first = rig.last_request()
    rig.do(Back())
    rig.do(StaffAmount(2000))
    rig.tap(DOMINIQUE)
    rig.answer(first)  # the first purchase's answer must not pass for the second's
    assert rig.view.message == notices.PURCHASE_WAITING
    rig.answer()
    assert rig.view.member is None and rig.view.message is not None
    assert (
        rig.view.message.fr.startswith("Carte inconnue")
        and notices.PURCHASE_UNKNOWN_CARD_OFFER.fr in rig.view.message.fr
    )


def test_staff_reprint_needs_a_voucher_and_devices_are_shown(hub: RealHub) -> None:
    rig = Rig(hub)
    rig.do(DevicesChanged("ok", "paper_out", Words("Plus de papier", "Out of paper")))
    assert (rig.view.staff.reader, rig.view.staff.printer) == ("ok", "paper_out")
    to_staff(rig)
    assert rig.do(StaffReprint()) == [] and rig.view.message == notices.STAFF_NOTHING_TO_REPRINT
    rig.do(PrintFinished("ANY"))
    assert rig.do(StaffReprint()) == [ReprintLast()]
    rig.do(DevicesChanged("absent: pcsc", "ready", None, Words("débranché (pcsc)", "unplugged (pcsc)")))
    assert rig.view.staff.reader == "absent: pcsc" and rig.view.staff.printer_text is None
    assert rig.view.staff.reader_text == Words("débranché (pcsc)", "unplugged (pcsc)")
    assert rig.view.screen is Screen.STAFF


# -- cards mid-flow, timeouts, language -----------------------------------------------------------


def test_another_card_mid_flow_starts_over(hub: RealHub) -> None:
    member_with(hub)
    member_with(hub, DOMINIQUE, name="Dominique")
    rig = at_welcome(hub)
    rig.do(SetLanguage("en"))
    rig.do(ShowRewards())
    rig.do(ChooseReward("bon-5"))
    first_tap = rig.sends()[0]
    out = rig.tap(DOMINIQUE)
    (tap,) = rig.sends(out)
    assert tap.card == DOMINIQUE
    v = rig.view
    assert v.screen is Screen.LOOKUP and v.member is None and v.chosen is None and v.lang == "fr"
    rig.answer(first_tap)  # Camille's (repeated) answer is not for this flow
    assert rig.view.screen is Screen.LOOKUP
    rig.answer(tap)
    assert rig.view.member is not None and rig.view.member.display_name == "Dominique"


@pytest.mark.parametrize("screen", [Screen.WELCOME, Screen.REWARDS, Screen.CONFIRM, Screen.DONE])
def test_the_same_card_again_sends_nothing_and_keeps_the_screen(hub: RealHub, screen: Screen) -> None:
    rig = at_welcome(hub)
    steps: list[Event] = {
        Screen.WELCOME: [],
        Screen.REWARDS: [ShowRewards()],
        Screen.CONFIRM: [ShowRewards(), ChooseReward("bon-5")],
        Screen.DONE: [ShowRewards(), ChooseReward("bon-5"), Confirm()],
    }[screen]
    for step in steps:
        rig.do(step)
    if screen is Screen.DONE:
        rig.answer()
        rig.do(PrintFinished(rig.view.voucher["code"]))
    before = rig.view
    out = rig.tap(dt=5)
    assert out == []
    assert rig.view.screen is screen and rig.view.member == before.member
    assert rig.view.deadline == pytest.approx(rig.now + SETTINGS.timeouts[screen])  # activity


def test_taps_are_ignored_while_waiting(hub: RealHub) -> None:
    rig = Rig(hub)
    rig.tap()
    assert rig.tap() == [] and rig.view.message is None
    assert rig.tap(DOMINIQUE) == [] and rig.view.message == notices.BUSY
    assert rig.view.screen is Screen.LOOKUP


def test_card_removed_never_ends_a_flow(hub: RealHub) -> None:
    member_with(hub)
    rig = Rig(hub)
    rig.tap()
    assert rig.do(CardRemoved(CAMILLE)) == [] and rig.view.screen is Screen.LOOKUP
    rig.answer()
    before = rig.view
    rig.do(CardRemoved(CAMILLE), dt=0)
    assert rig.view == before
    rig.do(ShowRewards())
    rig.do(CardRemoved(CAMILLE))
    assert rig.view.screen is Screen.REWARDS


def test_timeouts_return_to_attract_and_activity_extends_them(hub: RealHub) -> None:
    rig = at_welcome(hub)
    welcome = SETTINGS.timeouts[Screen.WELCOME]
    rig.do(Tick(), dt=welcome - 1)
    assert rig.view.screen is Screen.WELCOME
    rig.do(SetLanguage("en"))  # a touch: the screen waits again
    rig.do(Tick(), dt=welcome - 1)
    assert rig.view.screen is Screen.WELCOME
    rig.do(ShowRewards())
    assert rig.view.deadline == pytest.approx(rig.now + SETTINGS.timeouts[Screen.REWARDS])
    rig.do(Tick(), dt=SETTINGS.timeouts[Screen.REWARDS])
    assert_clean_attract(rig)


def test_an_intent_after_the_deadline_acts_on_the_screen_that_followed(hub: RealHub) -> None:
    rig = at_welcome(hub)
    rig.do(ShowRewards())
    rig.do(ChooseReward("bon-5"))
    out = rig.do(Confirm(), dt=SETTINGS.timeouts[Screen.CONFIRM] + 1)  # the screen timed out first
    assert rig.sends(out) == []
    assert_clean_attract(rig)


@pytest.mark.parametrize(
    ("screen", "steps"),
    [
        (Screen.ENROL_OFFER, []),
        (Screen.CONSENTS, [StartEnrol()]),
        (Screen.DETAILS, [StartEnrol(), ConsentsDone()]),
    ],
)
def test_enrolment_screens_time_out(hub: RealHub, screen: Screen, steps: list[Event]) -> None:
    rig = Rig(hub)
    rig.tap()
    rig.answer()
    for step in steps:
        rig.do(step)
    assert rig.view.screen is screen
    rig.do(SetConsent("email", True))
    rig.do(Tick(), dt=SETTINGS.timeouts[screen] - 0.5)
    assert rig.view.screen is screen
    rig.do(Tick(), dt=1)
    assert_clean_attract(rig)


@pytest.mark.parametrize("screen", [Screen.STAFF_PIN, Screen.STAFF, Screen.STAFF_TAP])
def test_staff_screens_time_out(hub: RealHub, screen: Screen) -> None:
    rig = Rig(hub)
    rig.do(StaffRequest())
    if screen is not Screen.STAFF_PIN:
        rig.do(StaffPin(PIN))
    if screen is Screen.STAFF_TAP:
        rig.do(StaffAmount(100))
    assert rig.view.screen is screen
    rig.do(Tick(), dt=SETTINGS.timeouts[screen])
    assert_clean_attract(rig)


def test_language_switch_keeps_the_flow_and_resets_on_attract(hub: RealHub) -> None:
    member_with(hub)
    rig = Rig(hub)
    rig.do(SetLanguage("en"))  # chosen on the attract screen: for the coming customer
    assert rig.view.lang == "en"
    rig.tap()
    rig.answer()
    assert rig.view.lang == "en" and rig.view.screen is Screen.WELCOME
    rig.do(ShowRewards())
    rig.do(SetLanguage("fr"))
    rig.do(SetLanguage("de"))  # type: ignore[arg-type]  # not a language the kiosk speaks: ignored
    assert rig.view.lang == "fr" and rig.view.screen is Screen.REWARDS and rig.view.rewards
    rig.do(SetLanguage("en"))
    rig.do(Finish())
    assert_clean_attract(rig)


def test_every_request_passes_the_contract(hub: RealHub) -> None:
    """Tap, enrol (every field) and purchase (the largest amount) parse as the hub parses them (redeem:
    the journey test has the hub apply it)."""
    rig = Rig(hub)
    to_details(rig, email=True, sms=True)
    rig.do(DetailsDone(first_name="Zoé", email="zoe@example.fr", phone="+33 6 12 34 56 78"))
    rig.answer()
    rig.do(ShowRewards())
    rig.do(Finish())
    to_staff(rig)
    rig.do(StaffAmount(100_000_000))
    rig.tap()
    rig.answer()
    types = [r.type for r in rig.sends()]
    assert types == ["tap", "enrol", "purchase"]
    for request in rig.sends():
        assert parse_request(dumps(request.to_json()), KIOSK) == request
    assert len({r.id for r in rig.sends()}) == len(types)


# -- words ----------------------------------------------------------------------------------------


def member_view(**kw: Any) -> MemberView:
    base: dict[str, Any] = dict(
        code="X",
        display_name=None,
        balances={},
        totals={},
        tier="Argent",
        tier_label=Words("Argent", "Silver"),
        next_tier="Or",
        next_tier_label=Words("Or", "Gold"),
        progress={},
    )
    return MemberView(**{**base, **kw})


@pytest.mark.parametrize(
    ("progress", "words"),
    [
        (
            {"basis": "points", "missing": 116},
            Words("Plus que 116 points pour le statut Or", "116 more points to Gold"),
        ),
        (
            {"basis": "points", "missing": 1},
            Words("Plus que 1 point pour le statut Or", "1 more point to Gold"),
        ),
        (
            {"basis": "spend_cents", "missing": 123456},
            Words("Plus que 1\u202f234,56 € d'achats pour le statut Or", "€1,234.56 more to Gold"),
        ),
        (
            {"basis": "visits", "missing": 3},
            Words("Plus que 3 visites pour le statut Or", "3 more visits to Gold"),
        ),
        ({"basis": "points", "missing": 2.5}, None),
        ({}, None),
    ],
)
def test_progress_words(progress: dict, words: Words | None) -> None:
    assert texts.progress_words(member_view(progress=progress)) == words


def test_progress_words_at_the_top_and_other_words() -> None:
    assert texts.progress_words(member_view(next_tier=None, next_tier_label=None)) is None
    assert texts.tier_words(member_view()) == Words("Statut Argent", "Silver tier")
    assert texts.balance_lines({"points": 1, "stamps": 0, "cashback_cents": 250}) == (
        Words("1 point", "1 point"),
        Words("0 tampon", "0 stamps"),
        Words("Cagnotte : 2,50 €", "Kitty: €2.50"),
    )
    assert texts.balance_lines({"points": 1234, "stamps": 2}, shown=["stamps"]) == (
        Words("2 tampons", "2 stamps"),
    )
    assert texts.shortfall_words({"points": 12, "cashback_cents": 150}) == Words(
        "Il vous manque 12 points et 1,50 € de cagnotte", "12 more points and €1.50 more in your kitty needed"
    )
    assert texts.shortfall_words({"stamps": 1}) == Words("Il vous manque 1 tampon", "1 more stamp needed")
    assert texts.greeting(member_view(display_name="Camille")) == Words("Bonjour Camille !", "Hello Camille!")
    assert texts.stale_words(member_view()) is None
