"""The kiosk's session state machine: events in, commands out, a frozen `View` for the screens. Pure.

`Session.handle(event, now)` never raises and never blocks: there is no clock (`now` is monotonic
seconds, passed in), no randomness but the `new_id` factory, no I/O. Replies and the catalogue are
read defensively: a malformed one is shown as an unexpected answer, never a crash.

Rules beyond the obvious ones (a shop's expectations, decided here):

- Time. Every event first checks `view.deadline`; a timeout is applied before the event, so an intent
  that arrives after its screen timed out acts on the screen that followed. ATTRACT has no deadline;
  LOOKUP, REDEEMING and PRINTING wait `lookup_timeout`, `redeem_timeout` and `print_timeout` and then
  fall back (cache / "the hub is not answering" / print problem); every other screen times out to
  ATTRACT after `settings.timeouts[screen]` (30 s for a screen missing there), except ENROLLING, which
  says the sign-up is saved (it is in the outbox and will be applied). Intents extend the deadline,
  except on the waiting screens (LOOKUP, ENROLLING, REDEEMING, PRINTING).
- Requests. Each Send carries a fresh id; the session remembers the ids of the current flow and their
  type, forgets them when the flow ends (ATTRACT, another card, staff mode) and ignores any other reply,
  except that every reply carrying `voucher` / `vouchers`, whoever made it, prints them (the presenter
  dedupes by code). A reply is used once: a repeated reply for the same id changes nothing more.
- Late tap replies (after the lookup timed out, or sent offline): shown while the same card's WELCOME or
  MESSAGE is on screen (fresh member replaces the stale one, unknown card opens enrolment); on REWARDS
  and CONFIRM they only refresh the balances (the choice is re-checked). Elsewhere they are ignored.
- The link going down on LOOKUP falls back to the cache at once, on ENROLLING says the sign-up is saved;
  on REDEEMING the kiosk keeps waiting until the deadline (the request may already be at the hub).
  Redemptions are never sent offline, and going offline on REWARDS makes every reward unaffordable.
- Cards. CardRemoved never ends a flow: tap-and-go readers see the card lifted at once. Another card on
  a customer screen (or on the PIN pad) abandons the flow and starts over, language included (it is
  most likely the next customer); the same card again sends nothing (no double visit) and counts as
  activity. A staff card on ATTRACT or on any customer screen opens staff mode.
- Finish ("Terminer") leaves any screen but the waiting ones for ATTRACT; Back goes one screen back, to
  ATTRACT from WELCOME, ENROL_OFFER, DONE, MESSAGE, STAFF_PIN and STAFF.
- Language. SetLanguage works everywhere; on ATTRACT it sets the language of the coming flow. Leaving a
  flow for ATTRACT resets it to `default_lang` and clears every personal datum from the view.
- Staff. The PIN lock (after `pin_attempts` wrong PINs, `pin_lock_seconds`) survives leaving the pad;
  while locked no PIN is compared, not even the right one. A staff card does not lift the lock, it
  simply does not need the PIN. Nothing leads to STAFF_AMOUNT (the amount is typed on STAFF); if a UI
  shows it anyway it behaves like STAFF.
- Rewards. Affordable iff online, not automatic (stamp-card rewards are given, not bought), the
  member's tier is at least `min_tier` (order of the catalogue's `tiers`; an unknown tier is not
  enough), not out of stock (`stock` or `remaining` at 0: the catalogue's `stock` is the total, so only
  the hub knows when it runs out), and every cost within the balances. The first failed condition is
  the reason shown, in that order.
- Balances shown. When the catalogue is known, `MemberView.balances` holds only the program's balances
  (`hub/program` `balances`); affordability uses every balance the hub sent.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from fidelio.contract import ERROR_TEXTS, PROTOCOL_VERSION, ContractError, ErrorCode, Request
from fidelio.contract.messages import MAX_AMOUNT_CENTS, validate_body
from kiosk.session import notices, texts
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
    Intent,
    LinkChanged,
    MemberView,
    PrintFinished,
    PrintVoucher,
    ReprintLast,
    RewardOption,
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
    StaffView,
    StartEnrol,
    SubmitFailed,
    Tick,
    View,
    Words,
)

#: A customer's screens where a new card restarts the flow and the same card does nothing.
CUSTOMER_SCREENS = frozenset(
    {
        Screen.WELCOME,
        Screen.ENROL_OFFER,
        Screen.CONSENTS,
        Screen.DETAILS,
        Screen.REWARDS,
        Screen.CONFIRM,
        Screen.DONE,
        Screen.MESSAGE,
    }
)
#: Screens waiting for the hub or the printer: taps are ignored and touches do not extend the deadline.
WAITING_SCREENS = frozenset({Screen.LOOKUP, Screen.ENROLLING, Screen.REDEEMING, Screen.PRINTING})
FALLBACK_TIMEOUT = 30.0
_ENROL_FIELDS = ("first_name", "email", "phone", "birth_date")


# -- reading replies and the catalogue (defensively: they come from the network) ----------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _words(value: Any) -> Words | None:
    if isinstance(value, dict) and isinstance(value.get("fr"), str) and isinstance(value.get("en"), str):
        return Words(value["fr"], value["en"])
    return None


def _counts(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and _is_int(v)}


def reply_vouchers(reply: dict[str, Any]) -> list[dict[str, Any]]:
    """Every voucher of a reply: `vouchers` when there are several (it then repeats `voucher`)."""
    many = reply.get("vouchers")
    items = many if isinstance(many, list) else [reply.get("voucher")]
    return [dict(v) for v in items if isinstance(v, dict) and isinstance(v.get("code"), str) and v["code"]]


def _effects(reply: dict[str, Any]) -> tuple[Words, ...]:
    effects = reply.get("effects")
    if not isinstance(effects, list):
        return ()
    found = (_words(e.get("reason")) for e in effects if isinstance(e, dict))
    return tuple(w for w in found if w is not None)


def _error(reply: dict[str, Any]) -> dict[str, Any]:
    err = reply.get("error")
    return err if isinstance(err, dict) else {}


def _error_words(err: dict[str, Any]) -> Words:
    said = _words(err)
    if said is not None:
        return said
    try:
        fr, en = ERROR_TEXTS[ErrorCode(err.get("code"))]
    except ValueError:
        return notices.BAD_REPLY
    return Words(fr, en)


def _enrolment(err: dict[str, Any]) -> tuple[bool, int | None]:
    """(may enrol now, cents still to spend) from an error's `enrolment`."""
    info = err.get("enrolment")
    if not isinstance(info, dict):
        return False, None
    missing = info.get("missing_cents")
    return info.get("offer") is True, missing if _is_int(missing) and missing > 0 else None


class _Catalogue:
    """The parts of the retained hub/program message the session uses."""

    def __init__(self, program: Any) -> None:
        program = program if isinstance(program, dict) else {}
        tiers = program.get("tiers")
        self.tier_names: list[str] = []
        self.tier_labels: dict[str, Words] = {}
        for tier in tiers if isinstance(tiers, list) else []:
            if isinstance(tier, dict) and isinstance(tier.get("name"), str):
                name = tier["name"]
                self.tier_names.append(name)
                self.tier_labels[name] = _words(tier.get("label")) or Words(name, name)
        balances = program.get("balances")
        self.balances: tuple[str, ...] | None = (
            tuple(b for b in balances if isinstance(b, str)) if isinstance(balances, list) else None
        )
        rewards = program.get("rewards")
        self.rewards: list[dict[str, Any]] = []
        for reward in rewards if isinstance(rewards, list) else []:
            rid = reward.get("id") if isinstance(reward, dict) else None
            if isinstance(rid, str) and 0 < len(rid) <= 64 and isinstance(reward.get("cost", {}), dict):
                self.rewards.append(reward)

    def label(self, tier: str | None) -> Words | None:
        return self.tier_labels.get(tier) if tier is not None else None

    def member_view(self, raw: Any, stale: bool = False, seen_at: str | None = None) -> MemberView | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("code"), str):
            return None
        tier = raw.get("tier") if isinstance(raw.get("tier"), dict) else {}
        name = tier.get("name") if isinstance(tier.get("name"), str) else ""
        nxt = tier.get("next") if isinstance(tier.get("next"), str) else None
        progress = tier.get("progress") if isinstance(tier.get("progress"), dict) else {}
        balances = _counts(raw.get("balances"))
        if self.balances is not None:
            balances = {k: balances.get(k, 0) for k in self.balances}
        display = raw.get("display_name")
        return MemberView(
            code=raw["code"],
            display_name=display if isinstance(display, str) and display else None,
            balances=balances,
            totals=_counts(raw.get("totals")),
            tier=name,
            tier_label=self.label(name),
            next_tier=nxt,
            next_tier_label=self.label(nxt),
            progress=dict(progress),
            stale=stale,
            seen_at=seen_at,
        )

    def options(self, raw_member: Any, online: bool) -> tuple[RewardOption, ...]:
        raw = raw_member if isinstance(raw_member, dict) else {}
        balances = _counts(raw.get("balances"))
        tier = raw.get("tier")
        tier_name = tier.get("name") if isinstance(tier, dict) else None
        have = self.tier_names.index(tier_name) if tier_name in self.tier_names else None
        out = []
        for reward in self.rewards:
            rid = reward["id"]
            name = _words(reward.get("name")) or Words(rid, rid)
            raw_cost = reward.get("cost", {})
            cost = _counts(raw_cost)
            why: Words | None = None
            min_tier = reward.get("min_tier")
            if len(cost) != len(raw_cost) or any(v < 0 for v in cost.values()):
                why = notices.REWARD_NOT_AVAILABLE
            elif reward.get("automatic") is True:
                why = notices.REWARD_AUTOMATIC
            elif not online:
                why = notices.REWARD_OFFLINE
            elif isinstance(min_tier, str) and (
                have is None or min_tier not in self.tier_names or have < self.tier_names.index(min_tier)
            ):
                why = texts.tier_only_words(self.label(min_tier) or Words(min_tier, min_tier))
            elif any(_is_int(reward.get(k)) and reward[k] <= 0 for k in ("stock", "remaining")):
                why = notices.REWARD_OUT_OF_STOCK
            else:
                short = {a: c - balances.get(a, 0) for a, c in cost.items() if c > balances.get(a, 0)}
                why = texts.shortfall_words(short) if short else None
            out.append(RewardOption(rid, name, cost, why is None, why))
        return tuple(out)


# -- the machine --------------------------------------------------------------------------------------


class Session:
    def __init__(self, settings: SessionSettings, new_id: Callable[[], str]) -> None:
        self._settings = settings
        self._new_id = new_id
        self._catalogue = _Catalogue({})
        self._view = View(
            lang=settings.default_lang, staff=StaffView(pin_attempts_left=settings.pin_attempts)
        )
        self._card: str | None = None  # the customer card of the current flow
        self._waiting: dict[str, str] = {}  # id -> type of this flow's requests still awaiting a reply
        self._cached: CachedMember | None = None  # the presenter's copy of the current card's member
        self._member_raw: dict[str, Any] | None = None  # the hub's (or cache's) member behind view.member

    @property
    def view(self) -> View:
        return self._view

    def handle(self, event: Event, now: float) -> list[Command]:
        out: list[Command] = []
        self._expire(now)
        match event:
            case HubReply():
                self._on_reply(event, now, out)
            case CardPresented():
                self._on_card(event, now, out)
            case LinkChanged():
                self._on_link(event, now)
            case CatalogueChanged():
                self._on_catalogue(event, now)
            case PrintFinished():
                self._on_printed(event, now)
            case DevicesChanged():
                staff = replace(
                    self._view.staff,
                    reader=str(event.reader),
                    printer=str(event.printer),
                    printer_text=event.printer_text if isinstance(event.printer_text, Words) else None,
                    reader_text=event.reader_text if isinstance(event.reader_text, Words) else None,
                )
                self._set(staff=staff)
            case SubmitFailed():
                self._on_submit_failed(event, now)
            case CardRemoved() | Tick():
                pass  # time was checked above; a lifted card ends nothing (tap-and-go)
            case SetLanguage():
                if event.lang in ("fr", "en"):
                    self._touch(now)
                    self._set(lang=event.lang)
            case _ if isinstance(event, Intent):
                self._on_intent(event, now, out)
        return out

    # -- screens and time -------------------------------------------------------------------------

    def _set(self, **changes: Any) -> None:
        self._view = replace(self._view, **changes)

    def _deadline(self, screen: Screen, now: float) -> float | None:
        s = self._settings
        waits = {
            Screen.ATTRACT: None,
            Screen.LOOKUP: s.lookup_timeout,
            Screen.REDEEMING: s.redeem_timeout,
            Screen.PRINTING: s.print_timeout,
        }
        wait = waits[screen] if screen in waits else s.timeouts.get(screen, FALLBACK_TIMEOUT)
        return None if wait is None else now + wait

    def _enter(self, screen: Screen, now: float, **changes: Any) -> None:
        """Show `screen` with its own deadline; notices and print problems belong to the screen left."""
        changes.setdefault("message", None)
        changes.setdefault("print_problem", None)
        self._set(screen=screen, deadline=self._deadline(screen, now), **changes)

    def _touch(self, now: float) -> None:
        """A person touched the screen: their screen waits longer (not the waiting ones)."""
        screen = self._view.screen
        if screen is not Screen.ATTRACT and screen not in WAITING_SCREENS:
            self._set(deadline=self._deadline(screen, now))

    def _expire(self, now: float) -> None:
        deadline = self._view.deadline
        if deadline is None or now < deadline:
            return
        screen = self._view.screen
        if screen is Screen.LOOKUP:
            self._fallback(now, slow=True)
        elif screen is Screen.REDEEMING:
            self._enter(Screen.MESSAGE, now, message=notices.REDEEM_SILENT)
        elif screen is Screen.PRINTING:
            self._enter(Screen.DONE, now, print_problem=notices.PRINT_SILENT)
        elif screen is Screen.ENROLLING:
            self._enter(Screen.MESSAGE, now, message=notices.ENROL_QUEUED)
        else:
            self._to_attract()

    def _to_attract(self) -> None:
        """The end of a flow: nothing personal stays on screen, the next customer starts afresh."""
        self._card = None
        self._waiting.clear()
        self._cached = None
        self._member_raw = None
        v = self._view
        self._view = View(
            screen=Screen.ATTRACT,
            lang=self._settings.default_lang,
            online=v.online,
            queue=v.queue,
            staff=replace(v.staff, amount_cents=None),
        )

    def _show_member(self, raw: Any, stale: bool = False, seen_at: str | None = None) -> MemberView | None:
        member = self._catalogue.member_view(raw, stale, seen_at)
        if member is not None:
            self._member_raw = raw
        return member

    # -- requests ---------------------------------------------------------------------------------

    def _send(self, type_: str, card: str, body: dict[str, Any], out: list[Command]) -> None:
        request = Request(PROTOCOL_VERSION, self._new_id(), type_, self._settings.kiosk, card, None, body)
        for older in [rid for rid, kind in self._waiting.items() if kind == type_]:
            del self._waiting[older]  # e.g. the previous purchase: its answer must not pass for this one's
        self._waiting[request.id] = type_
        out.append(Send(request))

    def _tap(self, card: str, cached: CachedMember | None, now: float, out: list[Command]) -> None:
        self._card = card
        self._cached = cached if isinstance(cached, CachedMember) else None
        self._send("tap", card, {}, out)
        if self._view.online:
            self._enter(Screen.LOOKUP, now)
        else:
            self._fallback(now, slow=False)

    def _fallback(self, now: float, slow: bool) -> None:
        """No answer from the hub for this tap: the last known copy, marked as such, or a notice."""
        cached = self._cached
        member = self._show_member(cached.member, True, cached.seen_at) if cached is not None else None
        if member is not None:
            notice = notices.SLOW_TAP if slow else notices.OFFLINE_TAP
            self._enter(Screen.WELCOME, now, member=member, effects=(), message=notice)
        else:
            notice = notices.SLOW_TAP_NO_CACHE if slow else notices.OFFLINE_TAP_NO_CACHE
            self._enter(Screen.MESSAGE, now, member=None, effects=(), message=notice)

    def _on_submit_failed(self, event: SubmitFailed, now: float) -> None:
        """The kiosk could not keep the request: say so plainly, never pretend it was recorded."""
        kind = self._waiting.pop(event.request_id, None) if isinstance(event.request_id, str) else None
        problem = event.problem if isinstance(event.problem, Words) else notices.NOT_KEPT
        if kind is None:  # not this flow's (an older one): staff still need to know
            self._set(message=problem)
            return
        self._enter(Screen.MESSAGE, now, member=None, effects=(), message=problem)

    # -- replies ----------------------------------------------------------------------------------

    def _on_reply(self, event: HubReply, now: float, out: list[Command]) -> None:
        reply = event.reply if isinstance(event.reply, dict) else {}
        vouchers = reply_vouchers(reply)
        for voucher in vouchers:
            out.append(PrintVoucher(voucher))
        if vouchers:
            self._set(staff=replace(self._view.staff, last_voucher=True))
        rid = event.request_id if isinstance(event.request_id, str) else None
        kind = self._waiting.get(rid) if rid is not None else None
        if kind is None:
            return
        screen = self._view.screen
        used = True
        if kind == "tap" and screen is Screen.LOOKUP:
            self._lookup_result(reply, now)
        elif kind == "tap" and screen in (Screen.WELCOME, Screen.MESSAGE):
            used = self._late_lookup_result(reply, now)
        elif kind == "tap" and screen in (Screen.REWARDS, Screen.CONFIRM):
            used = self._refresh_member(reply, now)
        elif kind == "enrol" and screen in (Screen.ENROLLING, Screen.MESSAGE):
            self._enrol_result(reply, now, out)
        elif kind == "redeem" and screen is Screen.REDEEMING:
            self._redeem_result(reply, now)
        elif kind == "purchase" and screen is Screen.STAFF_RESULT:
            self._purchase_result(reply)
        else:
            used = False
        if used:
            self._waiting.pop(rid, None)

    def _welcome(self, reply: dict[str, Any], now: float) -> None:
        member = self._show_member(reply.get("member"))
        if member is None:
            self._enter(Screen.MESSAGE, now, member=None, effects=(), message=notices.BAD_REPLY)
            return
        vouchers = reply_vouchers(reply)
        self._enter(
            Screen.WELCOME,
            now,
            member=member,
            effects=_effects(reply),
            voucher=vouchers[0] if vouchers else None,
            draft=EnrolDraft(),  # an enrolment's details have been sent: no need to keep them on screen
        )

    def _lookup_result(self, reply: dict[str, Any], now: float) -> None:
        if reply.get("ok") is True:
            self._welcome(reply, now)
            return
        self._member_raw = None
        err = _error(reply)
        offer, missing = _enrolment(err)
        if err.get("code") == ErrorCode.UNKNOWN_CARD and offer:
            self._enter(Screen.ENROL_OFFER, now, member=None, effects=(), draft=EnrolDraft())
        elif err.get("code") == ErrorCode.UNKNOWN_CARD and missing is not None:
            self._enter(
                Screen.MESSAGE,
                now,
                member=None,
                effects=(),
                enrolment_missing_cents=missing,
                message=texts.enrolment_missing_words(missing),
            )
        else:
            self._enter(Screen.MESSAGE, now, member=None, effects=(), message=_error_words(err))

    def _late_lookup_result(self, reply: dict[str, Any], now: float) -> bool:
        """The answer to a tap already shown from the cache: the hub's word replaces the stale one, but a
        failure (the request not applied, to be resent) leaves the screen as it is."""
        if reply.get("ok") is True or _error(reply).get("code") == ErrorCode.UNKNOWN_CARD:
            self._lookup_result(reply, now)
            return True
        return False

    def _refresh_member(self, reply: dict[str, Any], now: float) -> bool:
        """A late tap answer while the customer browses rewards: fresher balances, same screen."""
        member = self._show_member(reply.get("member")) if reply.get("ok") is True else None
        if member is None:
            return False
        self._set(member=member)
        self._recheck_rewards(now)
        return True

    def _enrol_result(self, reply: dict[str, Any], now: float, out: list[Command]) -> None:
        err = _error(reply)
        if reply.get("ok") is True:
            self._welcome(reply, now)
        elif err.get("code") == ErrorCode.ALREADY_ENROLLED and self._card is not None:
            self._tap(self._card, self._cached, now, out)  # enrolled meanwhile: show that member
        else:
            _, missing = _enrolment(err)
            words = texts.enrolment_missing_words(missing) if missing is not None else _error_words(err)
            self._enter(Screen.MESSAGE, now, enrolment_missing_cents=missing, message=words)

    def _redeem_result(self, reply: dict[str, Any], now: float) -> None:
        if reply.get("ok") is not True:
            self._enter(Screen.MESSAGE, now, message=_error_words(_error(reply)))
            return
        member = self._show_member(reply.get("member")) or self._view.member
        vouchers = reply_vouchers(reply)
        if not vouchers:
            self._enter(Screen.MESSAGE, now, member=member, message=notices.REDEEM_NO_VOUCHER)
            return
        self._enter(Screen.PRINTING, now, member=member, effects=_effects(reply), voucher=vouchers[0])

    def _purchase_result(self, reply: dict[str, Any]) -> None:
        if reply.get("ok") is True:
            member = self._catalogue.member_view(reply.get("member"))
            message = None if member is not None else notices.BAD_REPLY
            self._set(member=member, effects=_effects(reply), message=message)
            return
        err = _error(reply)
        words = _error_words(err)
        offer, missing = _enrolment(err)
        extra = notices.PURCHASE_UNKNOWN_CARD_OFFER if offer else None
        if missing is not None:
            extra = texts.enrolment_missing_words(missing)
        if extra is not None:
            words = Words(f"{words.fr} {extra.fr}", f"{words.en} {extra.en}")
        self._set(member=None, effects=(), message=words)

    # -- other events -----------------------------------------------------------------------------

    def _on_card(self, event: CardPresented, now: float, out: list[Command]) -> None:
        token = event.token
        if not isinstance(token, str) or not token:
            return
        screen = self._view.screen
        staff_card = token in self._settings.staff_cards
        if screen in CUSTOMER_SCREENS and token == self._card:
            self._touch(now)  # the same card again: no second visit
        elif screen in CUSTOMER_SCREENS or screen in (Screen.ATTRACT, Screen.STAFF_PIN):
            if screen is not Screen.ATTRACT:
                self._to_attract()
            if staff_card:
                self._enter_staff(now)
            else:
                self._tap(token, event.cached, now, out)
        elif screen in WAITING_SCREENS:
            if token != self._card:
                self._set(message=notices.BUSY)
        elif screen is Screen.STAFF_TAP:
            if staff_card:
                self._touch(now)
                self._set(message=notices.STAFF_CARD_ON_PURCHASE)
            else:
                self._purchase(token, now, out)
        elif screen in (Screen.STAFF, Screen.STAFF_AMOUNT) and not staff_card:
            self._touch(now)
            self._set(message=notices.STAFF_AMOUNT_FIRST)
        # a staff card on STAFF, any card on STAFF_RESULT: nothing

    def _on_link(self, event: LinkChanged, now: float) -> None:
        was = self._view.online
        online = event.online is True
        queue = event.queue if _is_int(event.queue) and event.queue >= 0 else self._view.queue
        self._set(online=online, queue=queue)
        if online == was:
            return
        screen = self._view.screen
        if not online and screen is Screen.LOOKUP:
            self._fallback(now, slow=False)
        elif not online and screen is Screen.ENROLLING:
            self._enter(Screen.MESSAGE, now, message=notices.ENROL_QUEUED)  # it waits in the outbox
        elif screen is Screen.REWARDS:
            self._set(rewards=self._catalogue.options(self._member_raw, online))
        elif not online and screen is Screen.STAFF_RESULT and "purchase" in self._waiting.values():
            self._set(message=notices.PURCHASE_QUEUED)

    def _on_catalogue(self, event: CatalogueChanged, now: float) -> None:
        self._catalogue = _Catalogue(event.program)
        member = self._view.member
        if member is not None and self._member_raw is not None:
            fresh = self._catalogue.member_view(self._member_raw, member.stale, member.seen_at)
            self._set(member=fresh or member)
        self._recheck_rewards(now)

    def _recheck_rewards(self, now: float) -> None:
        """New balances or catalogue: REWARDS recomputed, a chosen reward no longer possible is dropped."""
        screen = self._view.screen
        if screen not in (Screen.REWARDS, Screen.CONFIRM):
            return
        options = self._catalogue.options(self._member_raw, self._view.online)
        self._set(rewards=options)
        chosen = self._view.chosen
        if screen is Screen.CONFIRM and chosen is not None:
            still = next((o for o in options if o.id == chosen.id), None)
            if still is None or not still.affordable:
                self._enter(Screen.REWARDS, now, chosen=None, message=notices.CATALOGUE_CHANGED)
            else:
                self._set(chosen=still)

    def _on_printed(self, event: PrintFinished, now: float) -> None:
        self._set(staff=replace(self._view.staff, last_voucher=True))
        voucher = self._view.voucher
        if voucher is None or voucher.get("code") != event.code:
            return
        problem = event.problem if isinstance(event.problem, Words) else None
        if self._view.screen is Screen.PRINTING:
            self._enter(Screen.DONE, now, print_problem=problem)
        elif self._view.screen in (Screen.DONE, Screen.WELCOME):
            self._set(print_problem=problem)

    # -- intents ----------------------------------------------------------------------------------

    def _on_intent(self, intent: Any, now: float, out: list[Command]) -> None:
        screen = self._view.screen
        self._touch(now)
        if screen in WAITING_SCREENS:
            return  # the hub or the printer is working: nothing to choose
        if screen is Screen.ATTRACT:
            if isinstance(intent, StaffRequest):
                self._staff_request(now)
            return
        if screen in (
            Screen.STAFF_PIN,
            Screen.STAFF,
            Screen.STAFF_AMOUNT,
            Screen.STAFF_TAP,
            Screen.STAFF_RESULT,
        ):
            self._staff_intent(screen, intent, now, out)
            return
        if isinstance(intent, Finish) or (isinstance(intent, Back) and screen in _BACK_HOME):
            self._to_attract()
        elif isinstance(intent, Back):
            self._back(screen, now)
        elif screen is Screen.WELCOME and isinstance(intent, ShowRewards):
            self._enter(
                Screen.REWARDS, now, rewards=self._catalogue.options(self._member_raw, self._view.online)
            )
        elif screen is Screen.REWARDS and isinstance(intent, ChooseReward):
            self._choose(intent, now)
        elif screen is Screen.CONFIRM and isinstance(intent, Confirm):
            self._confirm(now, out)
        elif screen in _ENROL_SCREENS and isinstance(intent, DeclineEnrol):
            self._to_attract()
        elif screen is Screen.ENROL_OFFER and isinstance(intent, StartEnrol):
            self._enter(Screen.CONSENTS, now, draft=EnrolDraft())
        elif screen is Screen.CONSENTS and isinstance(intent, SetConsent):
            self._consent(intent)
        elif screen is Screen.CONSENTS and isinstance(intent, ConsentsDone):
            self._enter(Screen.DETAILS, now)
        elif screen is Screen.DETAILS and isinstance(intent, DetailsDone):
            self._details(intent, now, out)

    def _back(self, screen: Screen, now: float) -> None:
        if screen is Screen.REWARDS:
            self._enter(Screen.WELCOME, now, rewards=(), chosen=None)
        elif screen is Screen.CONFIRM:
            options = self._catalogue.options(self._member_raw, self._view.online)
            self._enter(Screen.REWARDS, now, rewards=options, chosen=None)
        elif screen is Screen.CONSENTS:
            self._enter(Screen.ENROL_OFFER, now)
        elif screen is Screen.DETAILS:
            self._enter(Screen.CONSENTS, now)

    def _choose(self, intent: ChooseReward, now: float) -> None:
        options = self._catalogue.options(self._member_raw, self._view.online)
        option = next((o for o in options if o.id == intent.reward_id), None)
        if option is not None and option.affordable:
            self._enter(Screen.CONFIRM, now, rewards=options, chosen=option)
        else:
            why = option.why_not if option is not None else None
            self._set(rewards=options, message=why or notices.REWARD_NOT_AVAILABLE)

    def _confirm(self, now: float, out: list[Command]) -> None:
        chosen = self._view.chosen
        if chosen is None or self._card is None:
            self._back(Screen.CONFIRM, now)
        elif not self._view.online:
            self._enter(
                Screen.MESSAGE, now, message=notices.REDEEM_OFFLINE
            )  # nothing sent: no offline spending
        else:
            self._send("redeem", self._card, {"reward": chosen.id}, out)
            self._enter(Screen.REDEEMING, now)

    def _consent(self, intent: SetConsent) -> None:
        if not isinstance(intent.value, bool):
            return
        draft = self._view.draft
        if intent.channel == "email":
            self._set(draft=replace(draft, consent_email=intent.value))
        elif intent.channel == "sms":
            self._set(draft=replace(draft, consent_sms=intent.value))

    def _details(self, intent: DetailsDone, now: float, out: list[Command]) -> None:
        """Check the details with the contract's own rules; send the enrolment if they pass."""
        typed = {k: getattr(intent, k) for k in _ENROL_FIELDS}
        typed = {k: v.strip() if isinstance(v, str) else "" for k, v in typed.items()}
        draft = replace(self._view.draft, **typed)
        self._set(draft=draft)
        problems: list[Words] = []
        body: dict[str, Any] = {}
        for key, value in typed.items():
            if not value:
                continue
            try:
                body[key] = validate_body("enrol", {key: value, "consents": _NO_CONSENT}, "")[key]
            except ContractError:
                problems.append(notices.FIELD_INVALID[key])
        if draft.consent_email and "email" not in body and not typed["email"]:
            problems.append(notices.EMAIL_CONSENT_WITHOUT_EMAIL)
        if draft.consent_sms and "phone" not in body and not typed["phone"]:
            problems.append(notices.SMS_CONSENT_WITHOUT_PHONE)
        if problems:
            self._set(message=Words(". ".join(p.fr for p in problems), ". ".join(p.en for p in problems)))
            return
        if self._card is None:  # cannot happen: DETAILS is only reached from an unknown card's lookup
            self._to_attract()
            return
        body["consents"] = {"email": draft.consent_email, "sms": draft.consent_sms}
        self._set(draft=replace(draft, **{k: body.get(k, "") for k in _ENROL_FIELDS}))
        self._send("enrol", self._card, body, out)
        if self._view.online:
            self._enter(Screen.ENROLLING, now)
        else:
            self._enter(Screen.MESSAGE, now, message=notices.ENROL_QUEUED)

    # -- staff ------------------------------------------------------------------------------------

    def _enter_staff(self, now: float) -> None:
        self._card = None
        self._waiting.clear()
        self._enter(
            Screen.STAFF,
            now,
            member=None,
            effects=(),
            draft=EnrolDraft(),
            voucher=None,
            staff=replace(self._view.staff, amount_cents=None),
        )

    def _unlock_if_due(self, now: float) -> StaffView:
        staff = self._view.staff
        if staff.locked_until is not None and now >= staff.locked_until:
            staff = replace(staff, locked_until=None, pin_attempts_left=self._settings.pin_attempts)
            self._set(staff=staff)
        return staff

    def _staff_request(self, now: float) -> None:
        if self._settings.staff_pin is None:
            self._enter(Screen.MESSAGE, now, message=notices.STAFF_CARD_ONLY)
            return
        self._unlock_if_due(now)
        self._enter(Screen.STAFF_PIN, now)

    def _staff_pin(self, intent: StaffPin, now: float) -> None:
        staff = self._unlock_if_due(now)
        if staff.locked_until is not None:
            self._set(message=notices.pin_locked(math.ceil(staff.locked_until - now)))
            return
        expected = self._settings.staff_pin
        pin = intent.pin if isinstance(intent.pin, str) else ""
        if expected is not None and hmac.compare_digest(
            pin.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
        ):
            self._set(staff=replace(staff, pin_attempts_left=self._settings.pin_attempts))
            self._enter_staff(now)
            return
        left = max(0, staff.pin_attempts_left - 1)
        if left == 0:
            locked_until = now + self._settings.pin_lock_seconds
            self._set(staff=replace(staff, pin_attempts_left=0, locked_until=locked_until))
            self._set(message=notices.pin_locked(math.ceil(self._settings.pin_lock_seconds)))
        else:
            self._set(staff=replace(staff, pin_attempts_left=left), message=notices.wrong_pin(left))

    def _staff_intent(self, screen: Screen, intent: Any, now: float, out: list[Command]) -> None:
        if isinstance(intent, StaffExit | Finish) or (
            isinstance(intent, Back) and screen in (Screen.STAFF_PIN, Screen.STAFF, Screen.STAFF_AMOUNT)
        ):
            self._to_attract()
        elif isinstance(intent, Back):  # STAFF_TAP, STAFF_RESULT: back to the menu
            self._enter(
                Screen.STAFF, now, member=None, effects=(), staff=replace(self._view.staff, amount_cents=None)
            )
        elif screen is Screen.STAFF_PIN and isinstance(intent, StaffPin):
            self._staff_pin(intent, now)
        elif screen in (Screen.STAFF, Screen.STAFF_AMOUNT) and isinstance(intent, StaffAmount):
            cents = intent.amount_cents
            if _is_int(cents) and 0 < cents <= MAX_AMOUNT_CENTS:
                self._enter(Screen.STAFF_TAP, now, staff=replace(self._view.staff, amount_cents=cents))
            else:
                self._set(message=notices.STAFF_AMOUNT_INVALID)
        elif screen in (Screen.STAFF, Screen.STAFF_AMOUNT) and isinstance(intent, StaffReprint):
            self._staff_reprint(out)

    def _staff_reprint(self, out: list[Command]) -> None:
        if self._view.staff.last_voucher:
            self._set(message=notices.STAFF_REPRINTING)
            out.append(ReprintLast())
        else:
            self._set(message=notices.STAFF_NOTHING_TO_REPRINT)

    def _purchase(self, card: str, now: float, out: list[Command]) -> None:
        amount = self._view.staff.amount_cents
        if amount is None:
            self._enter(Screen.STAFF, now)
            return
        self._send("purchase", card, {"amount_cents": amount}, out)
        notice = notices.PURCHASE_WAITING if self._view.online else notices.PURCHASE_QUEUED
        self._enter(Screen.STAFF_RESULT, now, member=None, effects=(), message=notice)


_NO_CONSENT = {"email": False, "sms": False}
_BACK_HOME = frozenset({Screen.WELCOME, Screen.ENROL_OFFER, Screen.DONE, Screen.MESSAGE})
_ENROL_SCREENS = frozenset({Screen.ENROL_OFFER, Screen.CONSENTS, Screen.DETAILS})
