"""What the kiosk's session state machine takes in, gives out and shows (pure data, no I/O).

The machine (`kiosk.session.machine.Session`) is fed `Event`s with the time passed in (monotonic seconds)
and answers with `Command`s for the adapters (the hub link, the printer). After every event the screens
redraw from `Session.view`, a frozen `View`: a screen never talks to a device, it only shows a `View` and
sends an `Intent` back (Home Assistant's rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from fidelio.contract import Request

Lang = Literal["fr", "en"]


@dataclass(frozen=True)
class Words:
    """A sentence in both languages (errors and notices are always shown in plain words)."""

    fr: str
    en: str

    def __call__(self, lang: Lang) -> str:
        return self.fr if lang == "fr" else self.en


class Screen(Enum):
    ATTRACT = "attract"  # "Posez votre carte"
    LOOKUP = "lookup"  # a card was read; waiting (briefly) for the hub
    WELCOME = "welcome"  # balances, tier, progress, what this visit earned
    ENROL_OFFER = "enrol_offer"  # unknown card: join? (or: not yet, N € more)
    CONSENTS = "consents"  # e-mail / SMS opt-ins, each off by default, with the privacy notice
    DETAILS = "details"  # optional first name, e-mail, phone, birthday (on-screen keyboard)
    ENROLLING = "enrolling"  # waiting for the hub's answer to the enrolment
    REWARDS = "rewards"  # the catalogue, each reward affordable or not (and why)
    CONFIRM = "confirm"  # "Échanger 80 points contre Bon de 5 € ?"
    REDEEMING = "redeeming"  # waiting for the hub (redemptions need it: no offline spending)
    PRINTING = "printing"  # the voucher on screen while the printer works
    DONE = "done"  # take your voucher (or: printer problem, staff will reprint it)
    MESSAGE = "message"  # an error or notice in plain words, with a button back
    STAFF_PIN = "staff_pin"  # PIN pad
    STAFF = "staff"  # staff menu: queue, hub, reader and printer state, actions
    STAFF_AMOUNT = "staff_amount"  # amount keypad for a purchase
    STAFF_TAP = "staff_tap"  # "the customer taps their card" for that purchase
    STAFF_RESULT = "staff_result"  # what the purchase earned (or: queued offline)


# -- what the screens show ------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberView:
    code: str
    display_name: str | None
    balances: dict[str, int]  # points, stamps, cashback_cents (integers, cents)
    totals: dict[str, int]
    tier: str  # tier id as the hub sends it ("Or"); labels come from the catalogue
    tier_label: Words | None
    next_tier: str | None
    next_tier_label: Words | None
    progress: dict[str, Any]  # the hub's {"basis", "current", "target", "missing", ...}; {} at the top
    stale: bool = False  # True: the kiosk's last known copy (hub unreachable), not the hub's answer
    seen_at: str | None = None  # hub time of that copy


@dataclass(frozen=True)
class RewardOption:
    id: str
    name: Words
    cost: dict[str, int]
    affordable: bool
    why_not: Words | None = None  # "Il vous manque 12 points", "Réservé au statut Or", "Hors ligne"


@dataclass(frozen=True)
class EnrolDraft:
    consent_email: bool = False  # opt-in: never pre-ticked (GDPR)
    consent_sms: bool = False
    first_name: str = ""
    email: str = ""
    phone: str = ""
    birth_date: str = ""  # YYYY-MM-DD or ""


@dataclass(frozen=True)
class StaffView:
    pin_attempts_left: int = 5
    locked_until: float | None = None  # monotonic time until which the PIN pad is locked
    amount_cents: int | None = None  # the purchase being recorded
    reader: str = "unknown"  # reader state as the adapters report it ("ok", "absent", ...)
    printer: str = "unknown"  # PrinterState value ("ready", "paper_out", ...)
    printer_text: Words | None = None
    reader_text: Words | None = None
    last_voucher: bool = False  # a voucher exists to reprint


@dataclass(frozen=True)
class View:
    screen: Screen = Screen.ATTRACT
    lang: Lang = "fr"
    online: bool = False  # the link to the hub is up (offline banner otherwise)
    queue: int = 0  # requests waiting in the outbox
    member: MemberView | None = None
    effects: tuple[Words, ...] = ()  # what this visit / purchase / enrolment earned
    enrolment_missing_cents: int | None = None  # unknown card, enrolment not yet open: spend this much more
    draft: EnrolDraft = field(default_factory=EnrolDraft)
    rewards: tuple[RewardOption, ...] = ()
    chosen: RewardOption | None = None
    voucher: dict[str, Any] | None = None  # the hub's voucher (code, name, value, expires): preview on screen
    print_problem: Words | None = None  # the printer's problem; the voucher is kept and reprintable
    message: Words | None = None  # MESSAGE screen text, or a notice on other screens
    staff: StaffView = field(default_factory=StaffView)
    deadline: float | None = None  # monotonic time at which this screen times out to ATTRACT


# -- what comes in ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CachedMember:
    """The kiosk's last known copy of a member (from the cache), for when the hub cannot answer."""

    member: dict[str, Any]  # the "member" object of the hub's last reply for this card
    seen_at: str  # hub time ("at") of that reply


@dataclass(frozen=True)
class CardPresented:
    token: str  # "pcsc:04A1B2C3"
    cached: CachedMember | None = None  # looked up by the presenter before handing the event in


@dataclass(frozen=True)
class CardRemoved:
    token: str


@dataclass(frozen=True)
class HubReply:
    request_id: str
    reply: dict[str, Any]


@dataclass(frozen=True)
class LinkChanged:
    online: bool
    queue: int


@dataclass(frozen=True)
class CatalogueChanged:
    program: dict[str, Any]  # the retained hub/program message (tiers, rewards, balances, rules)


@dataclass(frozen=True)
class PrintFinished:
    code: str
    problem: Words | None = None  # None: printed


@dataclass(frozen=True)
class DevicesChanged:
    reader: str
    printer: str
    printer_text: Words | None = None
    reader_text: Words | None = None


@dataclass(frozen=True)
class SubmitFailed:
    """The outbox could not keep a request (a full or failing disk): it was NOT sent and must be redone."""

    request_id: str
    problem: Words


@dataclass(frozen=True)
class Tick:
    """Time passes (timeouts)."""


# Intents: what a person asks for by touching the screen.
@dataclass(frozen=True)
class SetLanguage:
    lang: Lang


@dataclass(frozen=True)
class StartEnrol:
    pass


@dataclass(frozen=True)
class DeclineEnrol:
    pass


@dataclass(frozen=True)
class SetConsent:
    channel: Literal["email", "sms"]
    value: bool


@dataclass(frozen=True)
class ConsentsDone:
    pass


@dataclass(frozen=True)
class DetailsDone:
    first_name: str = ""
    email: str = ""
    phone: str = ""
    birth_date: str = ""


@dataclass(frozen=True)
class ShowRewards:
    pass


@dataclass(frozen=True)
class ChooseReward:
    reward_id: str


@dataclass(frozen=True)
class Confirm:
    pass


@dataclass(frozen=True)
class Back:
    pass


@dataclass(frozen=True)
class Finish:
    """ "Terminer" / "OK": back to the attract screen."""


@dataclass(frozen=True)
class StaffRequest:
    """The hidden staff corner was held: show the PIN pad."""


@dataclass(frozen=True)
class StaffPin:
    pin: str


@dataclass(frozen=True)
class StaffAmount:
    amount_cents: int


@dataclass(frozen=True)
class StaffReprint:
    pass


@dataclass(frozen=True)
class StaffExit:
    pass


Intent = (
    SetLanguage
    | StartEnrol
    | DeclineEnrol
    | SetConsent
    | ConsentsDone
    | DetailsDone
    | ShowRewards
    | ChooseReward
    | Confirm
    | Back
    | Finish
    | StaffRequest
    | StaffPin
    | StaffAmount
    | StaffReprint
    | StaffExit
)
Event = (
    CardPresented
    | CardRemoved
    | HubReply
    | LinkChanged
    | CatalogueChanged
    | PrintFinished
    | DevicesChanged
    | SubmitFailed
    | Tick
    | Intent
)


# -- what goes out ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Send:
    """Hand a request to the hub link (it writes the outbox before publishing)."""

    request: Request


@dataclass(frozen=True)
class PrintVoucher:
    """Spool and print a voucher (the presenter skips one already printed: replies can repeat)."""

    voucher: dict[str, Any]


@dataclass(frozen=True)
class ReprintLast:
    pass


Command = Send | PrintVoucher | ReprintLast


@dataclass(frozen=True)
class SessionSettings:
    kiosk: str
    default_lang: Lang = "fr"
    staff_pin: str | None = None  # None: staff mode by staff card only
    staff_cards: frozenset[str] = frozenset()
    pin_attempts: int = 5
    pin_lock_seconds: float = 60.0
    lookup_timeout: float = 2.5  # after a tap, how long to wait for the hub before showing the cache
    redeem_timeout: float = 10.0
    print_timeout: float = 30.0
    # inactivity timeouts back to the attract screen, per screen (seconds)
    timeouts: dict[Screen, float] = field(
        default_factory=lambda: {
            Screen.WELCOME: 15.0,
            Screen.ENROL_OFFER: 30.0,
            Screen.CONSENTS: 90.0,
            Screen.DETAILS: 120.0,
            Screen.REWARDS: 45.0,
            Screen.CONFIRM: 30.0,
            Screen.DONE: 10.0,
            Screen.MESSAGE: 12.0,
            Screen.STAFF_PIN: 30.0,
            Screen.STAFF: 90.0,
            Screen.STAFF_AMOUNT: 90.0,
            Screen.STAFF_TAP: 60.0,
            Screen.STAFF_RESULT: 30.0,
            Screen.ENROLLING: 10.0,
        }
    )
