"""The headless front end: the same kiosk (session, presenter, hub link, outbox) with text for a screen.

For a machine without a display (`fidelio demo` there, `fidelio-kiosk --headless`, the tests): each new
screen is printed in words, and typed commands become the same intents and taps a touchscreen sends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kiosk.hardware.reader import SimulatedReader
from kiosk.session import texts
from kiosk.session.model import (
    Back,
    ChooseReward,
    Confirm,
    ConsentsDone,
    DeclineEnrol,
    DetailsDone,
    Event,
    Finish,
    Screen,
    SetConsent,
    SetLanguage,
    ShowRewards,
    StaffAmount,
    StaffExit,
    StaffPin,
    StaffReprint,
    StaffRequest,
    StartEnrol,
    View,
)
from kiosk.words import euros

HELP = {
    "fr": (
        "Commandes : tap CARTE | rewards | choose ID | confirm | back | finish | enrol | no | "
        "consent email|sms | next | details prénom=… email=… phone=… birth=AAAA-MM-JJ | lang fr|en | "
        "staff | pin CODE | amount CENTIMES | reprint | exit | wait online|drained | quit"
    ),
    "en": (
        "Commands: tap CARD | rewards | choose ID | confirm | back | finish | enrol | no | "
        "consent email|sms | next | details first=… email=… phone=… birth=YYYY-MM-DD | lang fr|en | "
        "staff | pin CODE | amount CENTS | reprint | exit | wait online|drained | quit"
    ),
}
_TITLES = {
    Screen.ATTRACT: ("Posez votre carte de fidélité", "Tap your loyalty card"),
    Screen.LOOKUP: ("Un instant…", "One moment…"),
    Screen.WELCOME: ("Bienvenue", "Welcome"),
    Screen.ENROL_OFFER: ("Carte inconnue", "Unknown card"),
    Screen.CONSENTS: ("Vos choix (facultatifs)", "Your choices (optional)"),
    Screen.DETAILS: ("Vos coordonnées (facultatives)", "Your details (optional)"),
    Screen.ENROLLING: ("Inscription…", "Enrolling…"),
    Screen.REWARDS: ("Récompenses", "Rewards"),
    Screen.CONFIRM: ("Confirmer", "Confirm"),
    Screen.REDEEMING: ("Un instant…", "One moment…"),
    Screen.PRINTING: ("Impression du bon…", "Printing your voucher…"),
    Screen.DONE: ("Merci !", "Thank you!"),
    Screen.MESSAGE: ("Information", "Notice"),
    Screen.STAFF_PIN: ("Code personnel", "Staff PIN"),
    Screen.STAFF: ("Mode personnel", "Staff mode"),
    Screen.STAFF_AMOUNT: ("Montant de l'achat", "Purchase amount"),
    Screen.STAFF_TAP: ("Le client pose sa carte", "The customer taps their card"),
    Screen.STAFF_RESULT: ("Achat enregistré", "Purchase recorded"),
}


def describe_view(view: View) -> list[str]:
    """The screen in words (pure)."""
    lang = view.lang
    fr = lang == "fr"
    lines = [f"[{_TITLES[view.screen][0 if fr else 1]}]"]
    if not view.online:
        lines.append(
            f"  (hors ligne, {view.queue} en attente)" if fr else f"  (offline, {view.queue} queued)"
        )
    m = view.member
    if m is not None and view.screen in (Screen.WELCOME, Screen.STAFF_RESULT, Screen.DONE):
        balances = ", ".join(w(lang) for w in texts.balance_lines(m.balances))
        lines.append(f"  {texts.greeting(m)(lang)} {balances} — {texts.tier_words(m)(lang)}")
        for extra in (texts.progress_words(m), texts.stale_words(m)):
            if extra is not None:
                lines.append(f"  {extra(lang)}")
    if view.screen in (Screen.WELCOME, Screen.STAFF_RESULT, Screen.PRINTING, Screen.DONE):
        lines += [f"  • {e(lang)}" for e in view.effects]
    if view.screen == Screen.REWARDS:
        for r in view.rewards:
            mark = "✓" if r.affordable else "✗"
            why = f" — {r.why_not(lang)}" if r.why_not else ""
            lines.append(f"  {mark} {r.id}: {r.name(lang)}{why}")
    if view.screen == Screen.CONFIRM and view.chosen is not None:
        lines.append(f"  {view.chosen.name(lang)} ?")
    if view.enrolment_missing_cents is not None:
        amount = euros(view.enrolment_missing_cents, lang)
        lines.append(
            f"  inscription dès {amount} d'achats de plus" if fr else f"  can join after {amount} more"
        )
    if view.voucher is not None and view.screen in (Screen.PRINTING, Screen.DONE):
        lines.append(f"  🎟 {view.voucher['code']}")
    if view.print_problem is not None:
        lines.append(f"  ⚠ {view.print_problem(lang)}")
    if view.message is not None:
        lines.append(f"  {view.message(lang)}")
    if view.screen in (Screen.STAFF, Screen.STAFF_TAP) and view.staff.amount_cents:
        lines.append(f"  {euros(view.staff.amount_cents, lang)}")
    if view.screen == Screen.STAFF:
        s = view.staff
        lines.append(
            f"  {'lecteur' if fr else 'reader'}: {s.reader}; {'imprimante' if fr else 'printer'}: {s.printer}"
        )
    return lines


def parse_command(line: str, reader: SimulatedReader | None) -> Event | str | None:
    """A typed line → an intent, a tap on the simulated reader (None returned), or an error text."""
    words = line.split()
    if not words:
        return None
    verb, args = words[0].lower(), words[1:]
    simple: dict[str, Callable[[], Event]] = {
        "rewards": ShowRewards,
        "confirm": Confirm,
        "back": Back,
        "finish": Finish,
        "ok": Finish,
        "enrol": StartEnrol,
        "no": DeclineEnrol,
        "next": ConsentsDone,
        "staff": StaffRequest,
        "reprint": StaffReprint,
        "exit": StaffExit,
    }
    if verb in simple and not args:
        return simple[verb]()
    if verb == "tap" and len(args) == 1:
        if reader is None:
            return "pas de lecteur simulé / no simulated reader"
        reader.tap(args[0])
        return None
    if verb == "choose" and len(args) == 1:
        return ChooseReward(args[0])
    if verb == "consent" and args and args[0] in ("email", "sms"):
        return SetConsent(args[0], not (len(args) > 1 and args[1] in ("off", "non", "no")))  # type: ignore[arg-type]
    if verb == "lang" and args and args[0] in ("fr", "en"):
        return SetLanguage(args[0])  # type: ignore[arg-type]
    if verb == "pin" and len(args) == 1:
        return StaffPin(args[0])
    if verb == "amount" and len(args) == 1 and args[0].isdigit():
        return StaffAmount(int(args[0]))
    if verb == "details":
        fields = dict(a.split("=", 1) for a in args if "=" in a)
        names = {"first": "first_name", "prénom": "first_name", "birth": "birth_date"}
        fields = {names.get(k, k): v for k, v in fields.items()}
        try:
            return DetailsDone(**fields)
        except TypeError:
            return "champ inconnu / unknown field"
    return "commande inconnue / unknown command"


class HeadlessLoop:
    """The main thread's loop without a display: pump the presenter when woken, and on a timer."""

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._timers: list[list] = []  # [interval, next due, callback]

    def every(self, callback: Callable[[float], object], interval: float) -> None:
        """Kivy's `Clock.schedule_interval` contract on this loop (interval 0: every turn; a callback
        returning False is dropped) — the systemd watchdog is fed from here."""
        self._timers.append([interval, time.monotonic(), callback])

    def _run_timers(self) -> None:
        now = time.monotonic()
        for timer in list(self._timers):
            interval, due, callback = timer
            if now >= due:
                timer[1] = now + interval
                if callback(interval) is False:
                    self._timers.remove(timer)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def run(self, pump: Callable[[], object], tick: float = 0.25) -> None:
        while not self._stop.is_set():
            self._wake.wait(tick)
            self._wake.clear()
            pump()
            self._run_timers()
