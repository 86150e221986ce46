"""The session state machine driven by random events (Hypothesis stateful testing), with its invariants.

Cards (customers and staff, with or without a cached copy), every intent (right and wrong), hub replies
(ok with or without vouchers, every error code, for ids the session is waiting for, for ids it never
made, and junk), the link going up and down, the catalogue changing (or broken), devices, print results,
time passing (with and without a Tick). After every event the invariants below are checked.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from fidelio.contract import ErrorCode, Request, dumps, error_reply, ok_reply, parse_request, uuid7
from hub.program.loader import demo_program_text, load_program
from kiosk.session.machine import CUSTOMER_SCREENS, WAITING_SCREENS, Session
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
    PrintFinished,
    PrintVoucher,
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
    View,
    Words,
)

KIOSK = "comptoir"
PIN = "2468"
STAFF_CARD = "pcsc:57AFF001"
CUSTOMERS = ("pcsc:04A1B2C3", "pcsc:0BADCAFE", "hid:C0FFEE00")
SETTINGS = SessionSettings(
    kiosk=KIOSK, default_lang="fr", staff_pin=PIN, staff_cards=frozenset({STAFF_CARD}), pin_attempts=3
)
CATALOGUE = load_program(demo_program_text()).summary()
REWARD_IDS = [r["id"] for r in CATALOGUE["rewards"]]
AT = "2026-03-10T10:00:00.000000Z"

members = st.fixed_dictionaries(
    {
        "code": st.sampled_from(["7K3Q9PXA", "T32G99GK"]),
        "display_name": st.sampled_from([None, "Camille"]),
        "balances": st.fixed_dictionaries(
            {
                "points": st.integers(0, 600),
                "stamps": st.integers(0, 12),
                "cashback_cents": st.integers(0, 5000),
            }
        ),
        "totals": st.just({"spend_cents": 0, "visits": 0, "purchases": 0}),
        "tier": st.fixed_dictionaries(
            {
                "name": st.sampled_from(["Bronze", "Argent", "Or", "Disparu"]),
                "next": st.sampled_from([None, "Argent", "Or"]),
                "progress": st.sampled_from([{}, {"basis": "spend_cents", "missing": 1250}]),
            }
        ),
    }
)
effects = st.lists(
    st.fixed_dictionaries(
        {"kind": st.just("points"), "reason": st.just({"fr": "+1 point", "en": "+1 point"})}
    ),
    max_size=2,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
junk_replies = st.dictionaries(
    st.sampled_from(["ok", "member", "effects", "error", "voucher", "vouchers", "id"]),
    json_values,
    max_size=4,
)
intents = st.one_of(
    st.sampled_from(
        [
            StartEnrol(),
            DeclineEnrol(),
            ConsentsDone(),
            ShowRewards(),
            Confirm(),
            Back(),
            Finish(),
            StaffRequest(),
            StaffReprint(),
            StaffExit(),
        ]
    ),
    st.builds(SetLanguage, st.sampled_from(["fr", "en", "de"])),
    st.builds(SetConsent, st.sampled_from(["email", "sms"]), st.booleans()),
    st.builds(ChooseReward, st.sampled_from([*REWARD_IDS, "nope"])),
    st.builds(StaffPin, st.sampled_from([PIN, "0000", "", PIN + "0"])),
    st.builds(StaffAmount, st.sampled_from([0, 1, 4250, 100_000_000, 100_000_001, -3])),
    st.builds(
        DetailsDone,
        first_name=st.sampled_from(["", "Zoé", "x" * 60]),
        email=st.sampled_from(["", "zoe@example.fr", "pas-une-adresse"]),
        phone=st.sampled_from(["", "06 12 34 56 78", "abc"]),
        birth_date=st.sampled_from(["", "1990-04-23", "1990-02-30"]),
    ),
)


valid_details = st.builds(
    DetailsDone,
    first_name=st.sampled_from(["", "Zoé"]),
    email=st.sampled_from(["", "zoe@example.fr"]),
    phone=st.sampled_from(["", "06 12 34 56 78"]),
)
#: What a person would likely touch on each screen (the random `touch` rule covers everything else).
FITTING: dict[Screen, st.SearchStrategy[Event]] = {
    Screen.ATTRACT: st.builds(CardPresented, st.sampled_from(CUSTOMERS))
    | st.sampled_from([StaffRequest(), SetLanguage("en")]),
    Screen.WELCOME: st.sampled_from([ShowRewards(), ShowRewards(), Finish()]),
    Screen.REWARDS: st.builds(ChooseReward, st.sampled_from(REWARD_IDS)) | st.just(Back()),
    # the link may drop while the customer decides
    Screen.CONFIRM: st.sampled_from([Confirm(), Confirm(), Back(), LinkChanged(False, 1)]),
    Screen.ENROL_OFFER: st.sampled_from([StartEnrol(), StartEnrol(), StartEnrol(), DeclineEnrol()]),
    Screen.CONSENTS: st.sampled_from(
        [
            ConsentsDone(),
            ConsentsDone(),
            ConsentsDone(),
            Back(),
            SetConsent("email", True),
            SetConsent("sms", True),
        ]
    ),
    Screen.DETAILS: st.one_of(valid_details, valid_details, valid_details, intents, st.just(Back())),
    Screen.DONE: st.just(Finish()),
    Screen.MESSAGE: st.sampled_from([Finish(), LinkChanged(True, 0)]),
    Screen.STAFF_PIN: st.builds(StaffPin, st.sampled_from([PIN, "0000"])),
    Screen.STAFF: st.sampled_from(
        [StaffAmount(4250), StaffAmount(0), StaffReprint(), StaffExit(), StaffExit()]
    ),
    Screen.STAFF_TAP: st.builds(CardPresented, st.sampled_from(CUSTOMERS)) | st.just(Back()),
    Screen.STAFF_RESULT: st.just(Back()),
}


class SessionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        counter = itertools.count(1)
        self.session = Session(
            SETTINGS, lambda: uuid7(now_ms=1_770_000_000_000 + next(counter), rand=bytes(10))
        )
        self.now = 0.0
        self.sent: list[Request] = []
        self.voucher_codes = (f"V{n:04d}" for n in itertools.count())
        self.printed: list[str] = []
        self.flow_card: str | None = None  # the card of the current customer flow, as seen from outside

    # -- the one place events go in, and what is checked for each ------------------------------

    def handle(self, event: Event) -> list[Command]:
        before = self.session.view
        out = self.session.handle(event, self.now)  # must never raise
        self.check(event, before, self.session.view, out)
        return out

    def check(self, event: Event, before: View, after: View, out: list[Command]) -> None:
        expired = before.deadline is not None and self.now >= before.deadline
        live = None if expired else before.screen  # the screen the event really met (None: it timed out)
        sends = [c.request for c in out if isinstance(c, Send)]
        assert len(sends) <= 1, "at most one request per event"
        for request in sends:
            assert parse_request(dumps(request.to_json()), KIOSK) == request  # the hub would accept it
            assert request.id not in {r.id for r in self.sent}, "request ids are never reused"
            if request.type == "redeem":
                assert isinstance(event, Confirm) and live is Screen.CONFIRM, (
                    "redeem only on CONFIRM → Confirm"
                )
                assert before.online and after.online, "no redemption offline"
                assert before.chosen is not None and request.body == {"reward": before.chosen.id}
                assert before.chosen.affordable
            elif request.type == "enrol":
                assert isinstance(event, DetailsDone) and live is Screen.DETAILS
                assert request.card == self.flow_card
            elif request.type == "purchase":
                assert isinstance(event, CardPresented) and live is Screen.STAFF_TAP
                assert event.token not in SETTINGS.staff_cards
                assert request.body == {"amount_cents": before.staff.amount_cents}
            else:
                assert request.type == "tap"
                if isinstance(event, HubReply):  # enrolled meanwhile: the same card's visit
                    assert event.reply["error"]["code"] == ErrorCode.ALREADY_ENROLLED
                    assert request.card == self.flow_card
                else:
                    assert isinstance(event, CardPresented) and event.token == request.card
                    assert event.token not in SETTINGS.staff_cards
        same_flow = isinstance(event, CardPresented) and event.token == self.flow_card
        if same_flow and live in CUSTOMER_SCREENS | WAITING_SCREENS:
            assert sends == [], "the same card again in the same flow: no second visit"
        if isinstance(event, CardPresented) and live in WAITING_SCREENS:
            assert sends == []
        self.sent += sends

        reply_vouchers: list[Any] = []
        if isinstance(event, HubReply):
            many = event.reply.get("vouchers")
            reply_vouchers = many if isinstance(many, list) else [event.reply.get("voucher")]
        for command in out:
            if isinstance(command, PrintVoucher):
                assert command.voucher in reply_vouchers, "a printed voucher comes from that very reply"
                self.printed.append(command.voucher["code"])

        assert (after.deadline is None) == (after.screen is Screen.ATTRACT)
        if after.deadline is not None:
            assert after.deadline > self.now
        if after.screen is Screen.ATTRACT:
            assert after.member is None and after.voucher is None and after.chosen is None
            assert after.draft == EnrolDraft() and after.effects == () and after.message is None
            chose = isinstance(event, SetLanguage) and event.lang in ("fr", "en")
            if live is not Screen.ATTRACT:  # just came back: a fresh start for the next customer
                expected = event.lang if chose else SETTINGS.default_lang
            else:
                expected = event.lang if chose else before.lang
            assert after.lang == expected

        lock = before.staff.locked_until
        if lock is not None and self.now < lock:
            assert after.staff.locked_until == lock, "a PIN lock is never lifted early"
            if isinstance(event, StaffPin):
                assert after.screen is not Screen.STAFF, "no PIN is accepted while locked"
        if isinstance(event, StaffPin) and live is Screen.STAFF_PIN and (lock is None or self.now >= lock):
            right = event.pin == PIN
            assert (after.screen is Screen.STAFF) == right
            if not right:
                left = (before.staff.pin_attempts_left if lock is None else SETTINGS.pin_attempts) - 1
                assert after.staff.pin_attempts_left == max(0, left)
                assert (after.staff.locked_until is not None) == (left <= 0)

        if after.screen in (Screen.ATTRACT, Screen.STAFF, Screen.STAFF_PIN):
            self.flow_card = None
        elif sends and sends[0].type == "tap":
            self.flow_card = sends[0].card
        if isinstance(event, CardPresented) and event.token in SETTINGS.staff_cards:
            assert sends == []

    # -- rules ----------------------------------------------------------------------------------

    @initialize(catalogue=st.sampled_from([True, True, False]), online=st.sampled_from([True, True, False]))
    def start(self, catalogue: bool, online: bool) -> None:
        if catalogue:
            self.handle(CatalogueChanged(CATALOGUE))
        self.handle(LinkChanged(online, 0))

    # Hypothesis picks rules evenly: several rules for the likely steps let a run reach the deep
    # screens (CONFIRM, REDEEMING, PRINTING, ENROLLING) before a stray event or a timeout ends the flow.
    @rule(data=st.data())
    def fitting_touch(self, data: st.DataObject) -> None:
        self.likely_touch(data)

    @rule(data=st.data())
    def fitting_touch_again(self, data: st.DataObject) -> None:
        self.likely_touch(data)

    @rule(data=st.data())
    def fitting_touch_once_more(self, data: st.DataObject) -> None:
        self.likely_touch(data)

    @rule(data=st.data(), steps=st.integers(2, 8))
    def several_likely_steps(self, data: st.DataObject, steps: int) -> None:
        """A person going through a flow without pausing (no timeout, no stray event in between)."""
        for _ in range(steps):
            self.likely_touch(data)

    @rule(data=st.data(), member=members, effects=effects)
    def answer_latest_again(self, data: st.DataObject, member: dict, effects: list) -> None:
        self.answer_latest(data, member, effects)

    @rule(data=st.data(), member=members, effects=effects)
    def answer_latest(self, data: st.DataObject, member: dict, effects: list) -> None:
        """The hub answers the latest request as it would for its type."""
        if not self.sent:
            return
        request = self.sent[-1]
        outcomes = {
            "tap": [None, None, ErrorCode.UNKNOWN_CARD, ErrorCode.INTERNAL],
            "enrol": [None, None, ErrorCode.ALREADY_ENROLLED, ErrorCode.ENROLMENT_NOT_ELIGIBLE],
            "redeem": [None, None, ErrorCode.INSUFFICIENT_BALANCE, ErrorCode.REWARD_UNAVAILABLE],
            "purchase": [None, ErrorCode.UNKNOWN_CARD],
        }[request.type]
        code = data.draw(st.sampled_from(outcomes))
        if code is None:
            many = 1 if request.type == "redeem" else data.draw(st.sampled_from([0, 0, 1, 2]))
            found = [self.voucher() for _ in range(many)]
            reply = ok_reply(request.id, AT, member, effects, found[0] if found else None)
            if many > 1:
                reply["vouchers"] = found
        else:
            enrolment = {
                "offer": data.draw(st.booleans()),
                "missing_cents": data.draw(st.sampled_from([0, 1250])),
            }
            extra = (
                {"enrolment": enrolment}
                if code in (ErrorCode.UNKNOWN_CARD, ErrorCode.ENROLMENT_NOT_ELIGIBLE)
                else None
            )
            reply = error_reply(request.id, AT, code, None, extra)
        self.handle(HubReply(request.id, reply))

    @rule(card=st.sampled_from([*CUSTOMERS, *CUSTOMERS, STAFF_CARD]), cached=st.none() | members)
    def present_card(self, card: str, cached: dict | None) -> None:
        self.handle(CardPresented(card, CachedMember(cached, AT) if cached else None))

    @rule(card=st.sampled_from([*CUSTOMERS, STAFF_CARD]))
    def remove_card(self, card: str) -> None:
        before = self.session.view
        self.handle(CardRemoved(card))
        if before.deadline is None or self.now < before.deadline:
            assert self.session.view == before, "a lifted card changes nothing"

    @rule(intent=intents)
    def touch(self, intent: Event) -> None:
        self.handle(intent)

    @rule(
        data=st.data(),
        member=members,
        effects=effects,
        vouchers=st.integers(0, 3),
    )
    def reply_ok(self, data: st.DataObject, member: dict, effects: list, vouchers: int) -> None:
        rid = self.some_id(data)
        found = [self.voucher() for _ in range(vouchers)]
        reply = ok_reply(rid, AT, member, effects, found[0] if found else None)
        if vouchers > 1:
            reply["vouchers"] = found
        self.handle(HubReply(rid, reply))

    @rule(
        data=st.data(),
        code=st.sampled_from(list(ErrorCode)),
        offer=st.booleans(),
        missing=st.sampled_from([0, 1250]),
    )
    def reply_error(self, data: st.DataObject, code: ErrorCode, offer: bool, missing: int) -> None:
        rid = self.some_id(data)
        extra = None
        if code in (ErrorCode.UNKNOWN_CARD, ErrorCode.ENROLMENT_NOT_ELIGIBLE):
            extra = {"enrolment": {"offer": offer, "missing_cents": missing}}
        self.handle(HubReply(rid, error_reply(rid, AT, code, None, extra)))

    @rule(data=st.data(), reply=junk_replies)
    def reply_junk(self, data: st.DataObject, reply: dict) -> None:
        self.handle(HubReply(self.some_id(data), reply))

    @rule(online=st.booleans(), queue=st.integers(0, 5))
    def link(self, online: bool, queue: int) -> None:
        self.handle(LinkChanged(online, queue))
        assert self.session.view.online is online and self.session.view.queue == queue

    @rule(which=st.sampled_from(["demo", "no-tiers", "dear", "junk"]))
    def catalogue(self, which: str) -> None:
        program: Any = CATALOGUE
        if which == "no-tiers":
            program = {**CATALOGUE, "tiers": []}
        elif which == "dear":
            program = {
                **CATALOGUE,
                "rewards": [{**r, "cost": {"points": 10_000}} for r in CATALOGUE["rewards"]],
            }
        elif which == "junk":
            program = {"rewards": "none", "tiers": [3], "balances": 7}
        self.handle(CatalogueChanged(program))

    @rule(printer=st.sampled_from(["ready", "paper_out"]))
    def devices(self, printer: str) -> None:
        self.handle(DevicesChanged("ok", printer, Words("Papier", "Paper") if printer != "ready" else None))
        assert self.session.view.staff.printer == printer

    @rule(data=st.data(), problem=st.none() | st.just(Words("Plus de papier", "Out of paper")))
    def print_finished(self, data: st.DataObject, problem: Words | None) -> None:
        on_screen = self.session.view.voucher
        codes = [on_screen["code"]] * 3 if on_screen else []
        code = data.draw(st.sampled_from([*codes, *self.printed[-3:], "ZZZZ"]))
        self.handle(PrintFinished(code, problem))

    @rule(dt=st.sampled_from([0.0, 0.5, 0.5, 1.0, 2.0, 3.0, 11.0, 16.0, 31.0, 61.0, 125.0]))
    def tick(self, dt: float) -> None:
        self.now += dt
        self.handle(Tick())

    @rule(dt=st.sampled_from([0.5, 3.0, 16.0, 61.0]))
    def wait(self, dt: float) -> None:
        """Time passes with no event: the next event finds its screen's deadline gone."""
        self.now += dt

    # -- helpers --------------------------------------------------------------------------------

    def likely_touch(self, data: st.DataObject) -> None:
        """The step a customer, the staff or the hub would most likely take next on this screen."""
        view = self.session.view
        if view.screen in (Screen.LOOKUP, Screen.ENROLLING, Screen.REDEEMING, Screen.STAFF_RESULT):
            self.answer_latest(data, data.draw(members), [])
        elif view.screen is Screen.PRINTING and view.voucher is not None:
            problem = data.draw(st.sampled_from([None, Words("Plus de papier", "Out of paper")]))
            self.handle(PrintFinished(view.voucher["code"], problem))
        elif view.screen is Screen.DETAILS and data.draw(st.sampled_from([True, True, True, False])):
            email = "zoe@example.fr" if view.draft.consent_email or data.draw(st.booleans()) else ""
            phone = "06 12 34 56 78" if view.draft.consent_sms else ""
            self.handle(DetailsDone(first_name="Zoé", email=email, phone=phone))
        elif view.screen is Screen.REWARDS and any(o.affordable for o in view.rewards):
            affordable = [o.id for o in view.rewards if o.affordable]
            self.handle(ChooseReward(data.draw(st.sampled_from(affordable))))
        else:
            self.handle(data.draw(FITTING.get(view.screen, st.just(SetLanguage("en")))))

    def some_id(self, data: st.DataObject) -> str:
        recent = [r.id for r in self.sent[-4:]]
        stranger = uuid7(now_ms=42, rand=data.draw(st.binary(min_size=10, max_size=10)))
        return data.draw(st.sampled_from([*recent, stranger]) if recent else st.just(stranger))

    def voucher(self) -> dict[str, Any]:
        return {
            "code": next(self.voucher_codes),
            "reward": "bon-5",
            "name": {"fr": "Bon de 5 €", "en": "5 € voucher"},
            "value": {"kind": "amount_off", "amount_cents": 500},
            "issued": AT,
            "expires": AT,
        }

    @invariant()
    def view_is_consistent(self) -> None:
        v = self.session.view
        assert v.lang in ("fr", "en")
        if v.screen is Screen.CONFIRM:
            assert v.chosen is not None
        if v.screen is Screen.PRINTING:
            assert v.voucher is not None and v.voucher["code"] in self.printed
        if v.screen in (Screen.WELCOME, Screen.REWARDS, Screen.CONFIRM):
            assert v.member is not None
        if v.screen is Screen.REWARDS and not v.online:
            assert not any(o.affordable for o in v.rewards)


SessionMachine.TestCase.settings = settings(
    max_examples=250,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_session_state_machine = SessionMachine.TestCase
