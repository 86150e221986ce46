"""Applying requests to the ledger: dedupe, compute with the pure program, write, store the reply.

One writer. Each request runs inside a SAVEPOINT of a batch transaction (group commit): a bug in one
request rolls back that request only. The caller publishes replies and acknowledges the MQTT messages
only after `apply_batch` returned, i.e. after COMMIT.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlite_utils

from fidelio.contract import ErrorCode, Request, dumps, error_reply, ok_reply
from hub.codes import MEMBER_RANDOM_BYTES, VOUCHER_RANDOM_BYTES, new_member_code, new_voucher_code
from hub.ledger.clock import HubClock, iso, parse_iso
from hub.ledger.search import name_key, phone_key
from hub.ledger.staff_actions import STAFF_TYPES, StaffRefusal, plan_staff_action
from hub.ledger.state import (
    MEMBER_COLUMNS,
    MemberRow,
    after,
    deltas,
    load_member,
    member_by_card,
    member_by_id,
    rolling_after,
)
from hub.program import Program
from hub.program.model import (
    BALANCES,
    TOTALS,
    Effect,
    Enrol,
    Outcome,
    Posting,
    Purchase,
    Redeem,
    Refusal,
    Tap,
    VoucherGrant,
)

log = logging.getLogger(__name__)


@dataclass
class Applied:
    """The outcome of one request: the reply bytes to publish and what to tell `hub/events`."""

    request_id: str
    reply: bytes
    event: dict[str, Any] | None = None  # None for a duplicate or an unstored failure
    duplicate: bool = False
    #: A repeated id whose request differs from the stored one (a direct request only: the HTTP API
    #: refuses to reuse an idempotency key for another purchase). The reply is still the stored one.
    conflict: bool = False


@dataclass(frozen=True)
class DirectRequest(Request):
    """A request from the staff web or the HTTP API rather than a kiosk, applied by the same code.

    `kiosk` names the source ("web:alice", "api:webshop"). `card` may be None: an anonymous purchase
    (a POS telling the basket of a non-member), or the member named by `member` (their member code).
    """

    card: str | None  # type: ignore[assignment]
    member: str | None = None


@dataclass
class _Plan:
    """What one request writes. Enrolment inserts the member, card and consents while planning (the
    plan needs the new member's id); all of it is inside the request's SAVEPOINT, so a refusal or a bug
    leaves nothing behind."""

    reply: dict[str, Any]
    member_id: int | None = None
    postings: list[tuple[int, Posting]] = field(default_factory=list)
    projection: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    vouchers: list[tuple[int, str, VoucherGrant]] = field(default_factory=list)
    card_spend: int | None = None
    effects: list[Effect] = field(default_factory=list)


def _member_json(row: MemberRow, balances: dict[str, int], totals: dict[str, int], tier: dict) -> dict:
    return {
        "code": row.code,
        "display_name": row.first_name,
        "balances": balances,
        "totals": totals,
        "tier": tier,
    }


def _voucher_json(code: str, grant: VoucherGrant, issued: datetime) -> dict[str, Any]:
    return {
        "code": code,
        "reward": grant.reward_id,
        "name": grant.name.to_json(),
        "value": grant.value,
        "issued": iso(issued),
        "expires": iso(grant.expires_at),
    }


class Ledger:
    def __init__(
        self,
        db: sqlite_utils.Database,
        program: Program,
        clock: HubClock | None = None,
        token_bytes: Callable[[int], bytes] = secrets.token_bytes,
        policy_version: str = "1",
    ) -> None:
        self.db = db
        self.conn: sqlite3.Connection = db.conn
        self.program = program
        self.clock = clock or HubClock()
        self._token_bytes = token_bytes
        self.policy_version = policy_version
        # Erasure (hub/ledger/privacy.py): what is deleted or overwritten is zeroed, not left in free pages.
        self.conn.execute("PRAGMA secure_delete = ON")
        # The ledger's last time is the clock's floor: hub time never goes back, restarts included.
        for (last,) in self.conn.execute(  # by primary key: hub time rises with seq (no table scan)
            "SELECT * FROM (SELECT received_at FROM events ORDER BY seq DESC LIMIT 1) "
            "UNION ALL SELECT * FROM (SELECT at FROM postings ORDER BY seq DESC LIMIT 1)"
        ):
            if last:
                self.clock.advance_to(parse_iso(last))
        self.program_version = self._install_program(program)

    # -- program versions ---------------------------------------------------------------------
    def _install_program(self, program: Program) -> int:
        sha = hashlib.sha256(program.text.encode("utf-8")).hexdigest()
        row = self.conn.execute("SELECT version FROM programs WHERE sha256 = ?", (sha,)).fetchone()
        if row:
            return int(row[0])
        self.conn.execute("BEGIN IMMEDIATE")
        cur = self.conn.execute(
            "INSERT INTO programs (sha256, text, installed_at) VALUES (?, ?, ?)",
            (sha, program.text, iso(self.clock())),
        )
        self.conn.execute("COMMIT")
        return int(cur.lastrowid)

    # -- applying requests --------------------------------------------------------------------
    def apply(self, request: Request) -> Applied:
        return self.apply_batch([request])[0]

    def apply_batch(self, requests: Sequence[Request]) -> list[Applied]:
        """Apply requests in order in one transaction; return when it is committed."""
        results: list[Applied] = []
        self.clock.event_time()  # raises ClockNotSet before anything is written: the batch waits
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            for req in requests:
                cur.execute("SAVEPOINT request")
                try:
                    results.append(self._apply_one(cur, req))
                    cur.execute("RELEASE request")
                except sqlite3.OperationalError:
                    raise  # disk full, I/O error: the whole batch waits and is retried, nothing answered
                except Exception:
                    log.exception("request failed; rolled back", extra={"request_id": req.id})
                    cur.execute("ROLLBACK TO request")
                    cur.execute("RELEASE request")
                    reply = error_reply(req.id, iso(self.clock()), ErrorCode.INTERNAL)
                    results.append(Applied(req.id, dumps(reply)))
            cur.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                cur.execute("ROLLBACK")
            raise
        return results

    def _apply_one(self, cur: sqlite3.Cursor, req: Request) -> Applied:
        seen = cur.execute(
            "SELECT kiosk, reply, hub_event, card, member_id, body FROM events WHERE id = ?", (req.id,)
        ).fetchone()
        if seen is not None:
            if seen[0] != req.kiosk:
                reply = error_reply(req.id, iso(self.clock()), ErrorCode.DUPLICATE_ID)
                return Applied(req.id, dumps(reply))
            conflict = isinstance(req, DirectRequest) and not self._same_direct_request(cur, req, seen[3:])
            # hub/events is at least once: a redelivery publishes the event again (same id)
            return Applied(req.id, bytes(seen[1]), json.loads(seen[2]), duplicate=True, conflict=conflict)
        now = self.clock()
        row = self._member_row(cur, req)
        try:
            if req.type == "enrol":
                plan = self._plan_enrol(cur, req, row, now)
            elif isinstance(req, DirectRequest) and req.type in STAFF_TYPES:
                try:
                    plan = plan_staff_action(self, cur, req, row, now)
                except StaffRefusal as refusal:
                    raise self._refuse(req, now, refusal.code, refusal.detail) from None
            elif isinstance(req, DirectRequest) and req.card is None:
                plan = self._plan_direct_without_card(cur, req, row, now)
            elif row is None:
                plan = self._plan_unknown_card(cur, req, now)
            else:
                plan = self._plan_member_event(cur, req, load_member(cur, row, self.program, now), now)
        except _Refused as refused:
            plan = refused.plan
        return self._write(cur, req, plan, now)

    def _member_row(self, cur: sqlite3.Cursor, req: Request) -> tuple | None:
        if isinstance(req, DirectRequest) and req.member is not None:
            return cur.execute(
                f"SELECT {MEMBER_COLUMNS} FROM members WHERE code = ? AND erased_at IS NULL AND merged_into IS NULL",
                (req.member,),
            ).fetchone()
        if req.card is None:
            return None
        return member_by_card(cur, req.card)

    def _same_direct_request(self, cur: sqlite3.Cursor, req: DirectRequest, stored: tuple) -> bool:
        card, member_id, body = stored
        if card != req.card or json.loads(body) != _stored_body(req):
            return False
        if req.member is None:
            return req.card is not None or member_id is None
        row = cur.execute("SELECT id FROM members WHERE code = ?", (req.member,)).fetchone()
        return row is not None and row[0] == member_id

    # -- plans ----------------------------------------------------------------------------------
    def _plan_direct_without_card(
        self, cur: sqlite3.Cursor, req: DirectRequest, row: tuple | None, now: datetime
    ) -> _Plan:
        """An anonymous purchase is kept as an event (the basket of a non-member, for the KPIs) and
        earns nothing. A member named by code is served as if their card had been tapped (a purchase,
        or a redemption: a web shop's burn)."""
        if req.type not in ("purchase", "redeem") or (req.type == "redeem" and req.member is None):
            raise ValueError(f"a direct {req.type} needs a card or a member")
        if req.member is None:
            return _Plan(reply=ok_reply(req.id, iso(now), None, []))  # type: ignore[arg-type]
        if row is None:  # the web checks the code first: only an erasure in between gets here
            raise LookupError(f"no member {req.member}")
        return self._plan_member_event(cur, req, load_member(cur, row, self.program, now), now)

    def _refuse(
        self, req: Request, now: datetime, code: ErrorCode, detail: str = "", **extra: Any
    ) -> _Refused:
        return _Refused(_Plan(reply=error_reply(req.id, iso(now), code, detail or None, extra or None)))

    def _plan_unknown_card(self, cur: sqlite3.Cursor, req: Request, now: datetime) -> _Plan:
        spent = self._anonymous_spend(cur, req.card)
        plan = _Plan(reply={})
        if req.type == "purchase":
            plan.card_spend = req.body["amount_cents"]
            spent += plan.card_spend
        plan.reply = error_reply(
            req.id, iso(now), ErrorCode.UNKNOWN_CARD, None, {"enrolment": self.program.enrolment_offer(spent)}
        )
        return plan

    def _anonymous_spend(self, cur: sqlite3.Cursor, card: str) -> int:
        return cur.execute(
            "SELECT COALESCE(SUM(amount_cents), 0) FROM card_spend WHERE card = ?", (card,)
        ).fetchone()[0]

    def _plan_member_event(
        self, cur: sqlite3.Cursor, req: Request, member: MemberRow, now: datetime
    ) -> _Plan:
        state = member.state
        early: list[Posting] = []
        effects: list[Effect] = []
        if self.program.expiry_mode != "none":
            expired = self.program.expire(state, now)
            early = list(expired.postings)
            effects = list(expired.effects)
            state = after(state, early)
        if req.type == "tap":
            event: Tap | Purchase | Redeem = Tap()
        elif req.type == "purchase":
            event = Purchase(req.body["amount_cents"])
        else:
            reward_id = req.body["reward"]
            issued = cur.execute(
                "SELECT COUNT(*) FROM vouchers WHERE reward_id = ?", (reward_id,)
            ).fetchone()[0]
            event = Redeem(reward_id, issued)
        try:
            outcome = self.program.apply(state, event, now)
        except Refusal as refusal:
            plan = self._refuse(req, now, refusal.code, refusal.detail).plan
            plan.effects = effects  # what expired is told on hub/events even when the request is refused
            if early:  # what expired is due whatever the outcome of the request
                plan.member_id = member.id
                plan.postings = [(member.id, p) for p in early]
                plan.projection = [(member.id, self._projection(member, early, None, now, activity=False))]
            raise _Refused(plan) from None
        postings = early + list(outcome.postings)
        plan = _Plan(reply={}, member_id=member.id, effects=effects + list(outcome.effects))
        plan.postings = [(member.id, p) for p in postings]
        plan.projection = [(member.id, self._projection(member, postings, outcome, now, activity=True))]
        codes = [self._voucher_code(cur) for _ in outcome.vouchers]
        plan.vouchers = [
            (member.id, code, grant) for code, grant in zip(codes, outcome.vouchers, strict=True)
        ]
        plan.reply = self._ok(req, member, postings, outcome, plan.effects, codes, now)
        return plan

    def _projection(
        self,
        member: MemberRow,
        postings: list[Posting],
        outcome: Outcome | None,
        now: datetime,
        activity: bool,
    ) -> dict[str, Any]:
        upd: dict[str, Any] = {"deltas": deltas(postings)}
        if outcome is not None:
            upd["tier"] = outcome.tier
            if outcome.birthday_bonus_year is not None:
                years = sorted(member.state.birthday_bonus_years | {outcome.birthday_bonus_year})
                upd["birthday_bonus_years"] = ",".join(str(y) for y in years)
        if activity:
            upd["last_activity_at"] = iso(now)
        if any(p.account == "stamps" and p.delta > 0 and p.rule == "stamps.visit" for p in postings):
            upd["last_stamp_at"] = iso(now)
        return upd

    def _ok(
        self,
        req: Request,
        member: MemberRow,
        postings: list[Posting],
        outcome: Outcome,
        effects: list[Effect],
        codes: list[str],
        now: datetime,
    ) -> dict[str, Any]:
        d = deltas(postings)
        balances = {k: member.state.balances[k] + d[k] for k in BALANCES}
        totals = {k: member.state.totals[k] + d[k] for k in TOTALS}
        tier = self.program.tier_status(rolling_after(member.state.rolling, postings)).to_json()
        vouchers = [_voucher_json(c, g, now) for c, g in zip(codes, outcome.vouchers, strict=True)]
        reply = ok_reply(
            req.id,
            iso(now),
            _member_json(member, balances, totals, tier),
            [e.to_json() for e in effects],
            vouchers[0] if vouchers else None,
        )
        if len(vouchers) > 1:
            reply["vouchers"] = vouchers
        return reply

    def _plan_enrol(self, cur: sqlite3.Cursor, req: Request, row: tuple | None, now: datetime) -> _Plan:
        if row is not None:
            raise self._refuse(req, now, ErrorCode.ALREADY_ENROLLED)
        body = req.body
        referrer_id = None
        if "referrer" in body:
            ref = cur.execute(
                "SELECT id FROM members WHERE code = ? AND erased_at IS NULL",
                (body["referrer"].strip().upper(),),
            ).fetchone()
            if ref is None:
                raise self._refuse(req, now, ErrorCode.UNKNOWN_REFERRER)
            referrer_id = int(ref[0])
        spent = self._anonymous_spend(cur, req.card)
        birth = body.get("birth_date")
        enrol = Enrol(
            consent_email=body["consents"]["email"],
            consent_sms=body["consents"]["sms"],
            referred=referrer_id is not None,
            anonymous_spend_cents=spent,
            birth_date=datetime.fromisoformat(birth).date() if birth else None,
        )
        try:
            outcome = self.program.enrol(enrol, now)
        except Refusal as refusal:
            raise self._refuse(
                req, now, refusal.code, refusal.detail, enrolment=self.program.enrolment_offer(spent)
            ) from None
        code = self._member_code(cur)
        cur.execute(
            "INSERT INTO members (code, first_name, email, phone, birth_date, enrolled_at, referrer_id, tier, "
            "name_key, phone_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (code, body.get("first_name"), body.get("email"), body.get("phone"), birth, iso(now),
             referrer_id, outcome.tier, name_key(body.get("first_name")), phone_key(body.get("phone"))),
        )  # fmt: skip
        member_id = int(cur.lastrowid)
        cur.execute(
            "INSERT INTO cards (token, member_id, added_at) VALUES (?, ?, ?)", (req.card, member_id, iso(now))
        )
        for channel in ("email", "sms"):
            cur.execute(
                "INSERT INTO consents (member_id, channel, granted, at, policy_version, source) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (member_id, channel, int(body["consents"][channel]), iso(now), self.policy_version,
                 f"kiosk:{req.kiosk}"),
            )  # fmt: skip
        member = load_member(cur, member_by_id(cur, member_id), self.program, now)
        postings = list(outcome.postings)
        plan = _Plan(reply={}, member_id=member_id, effects=list(outcome.effects))
        plan.postings = [(member_id, p) for p in postings]
        plan.projection = [(member_id, self._projection(member, postings, outcome, now, activity=True))]
        if referrer_id is not None:
            bonus = self.program.referral(now)
            if bonus.postings:
                referrer = load_member(cur, member_by_id(cur, referrer_id), self.program, now)
                plan.postings += [(referrer_id, p) for p in bonus.postings]
                plan.projection.append(
                    (referrer_id, self._projection(referrer, list(bonus.postings), None, now, activity=False))
                )
        codes = [self._voucher_code(cur) for _ in outcome.vouchers]
        plan.vouchers = [(member_id, c, g) for c, g in zip(codes, outcome.vouchers, strict=True)]
        plan.reply = self._ok(req, member, postings, outcome, plan.effects, codes, now)
        return plan

    # -- codes ----------------------------------------------------------------------------------
    def _member_code(self, cur: sqlite3.Cursor) -> str:
        while True:
            code = new_member_code(self._token_bytes(MEMBER_RANDOM_BYTES))
            if cur.execute("SELECT 1 FROM members WHERE code = ?", (code,)).fetchone() is None:
                return code

    def _voucher_code(self, cur: sqlite3.Cursor) -> str:
        while True:
            code = new_voucher_code(self._token_bytes(VOUCHER_RANDOM_BYTES))
            if cur.execute("SELECT 1 FROM vouchers WHERE code = ?", (code,)).fetchone() is None:
                return code

    # -- writing --------------------------------------------------------------------------------
    def _write(self, cur: sqlite3.Cursor, req: Request, plan: _Plan, now: datetime) -> Applied:
        reply = dumps(plan.reply)
        ok = bool(plan.reply.get("ok"))
        error_code = None if ok else plan.reply["error"]["code"]
        at = iso(now)
        event = {
            "v": 1,
            "id": req.id,
            "type": req.type,
            "kiosk": req.kiosk,
            "at": at,
            "ok": ok,
            "program_version": self.program_version,
            "effects": [{"kind": e.kind, "delta": e.delta} for e in plan.effects],
        }
        if error_code:
            event["error"] = error_code
        cur.execute(
            "INSERT INTO events (id, kiosk, type, card, member_id, received_at, sent_at, body, ok, error_code, "
            "program_version, reply, hub_event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (req.id, req.kiosk, req.type, req.card, plan.member_id, iso(now), req.sent_at,
             json.dumps(_stored_body(req)), int(ok), error_code, self.program_version, reply, json.dumps(event)),
        )  # fmt: skip
        event_seq = cur.lastrowid
        cur.executemany(
            "INSERT INTO postings (event_seq, member_id, account, delta, at, expires_at, rule, program_version) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (event_seq, mid, p.account, p.delta, at, iso(p.expires_at) if p.expires_at else None, p.rule,
                 self.program_version)
                for mid, p in plan.postings
            ],
        )  # fmt: skip
        for mid, upd in plan.projection:
            self._update_projection(cur, mid, upd)
        for mid, code, grant in plan.vouchers:
            cur.execute(
                "INSERT INTO vouchers (code, member_id, reward_id, name, value, issued_at, expires_at, event_seq) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (code, mid, grant.reward_id, json.dumps(grant.name.to_json(), ensure_ascii=False),
                 json.dumps(grant.value), at, iso(grant.expires_at), event_seq),
            )  # fmt: skip
        if plan.card_spend is not None:
            cur.execute(
                "INSERT INTO card_spend (card, amount_cents, at, event_seq) VALUES (?, ?, ?, ?)",
                (req.card, plan.card_spend, at, event_seq),
            )
        return Applied(req.id, reply, event)

    def _update_projection(self, cur: sqlite3.Cursor, member_id: int, upd: dict[str, Any]) -> None:
        d = upd["deltas"]
        sets = [f"{k} = {k} + ?" for k in BALANCES + TOTALS]
        params: list[Any] = [d[k] for k in BALANCES + TOTALS]
        for key in ("tier", "last_activity_at", "last_stamp_at", "birthday_bonus_years"):
            if key in upd:
                sets.append(f"{key} = ?")
                params.append(upd[key])
        params.append(member_id)
        cur.execute(f"UPDATE members SET {', '.join(sets)} WHERE id = ?", params)

    # -- sweeps -----------------------------------------------------------------------------------
    def expire_due(self, batch: int = 500) -> int:
        """Post what has expired for every member (hub time); returns the number of postings."""
        if self.program.expiry_mode == "none":
            return 0
        now = self.clock()
        cur = self.conn.cursor()
        total = 0
        ids = [r[0] for r in cur.execute(
            "SELECT id FROM members WHERE erased_at IS NULL AND (points > 0 OR stamps > 0 OR cashback_cents > 0)"
        )]  # fmt: skip
        for start in range(0, len(ids), batch):
            cur.execute("BEGIN IMMEDIATE")
            try:
                for mid in ids[start : start + batch]:
                    member = load_member(cur, member_by_id(cur, mid), self.program, now)
                    expired = self.program.expire(member.state, now)
                    if not expired.postings:
                        continue
                    cur.executemany(
                        "INSERT INTO postings (event_seq, member_id, account, delta, at, expires_at, rule, "
                        "program_version) VALUES (NULL, ?, ?, ?, ?, NULL, ?, ?)",
                        [
                            (mid, p.account, p.delta, iso(now), p.rule, self.program_version)
                            for p in expired.postings
                        ],
                    )
                    self._update_projection(cur, mid, {"deltas": deltas(list(expired.postings))})
                    total += len(expired.postings)
                cur.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    cur.execute("ROLLBACK")
                raise
        return total

    def checkpoint(self) -> bool:
        """Copy the WAL into the database and empty it (after an erasure: no old page stays in the WAL).
        True when it was complete (no reader held an older snapshot)."""
        busy, _log, _done = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return busy == 0

    def member_summary(self, code: str) -> dict[str, Any] | None:
        """A member's current balances and tier, as a reply would show them (for tools and tests)."""
        cur = self.conn.cursor()
        row = cur.execute(f"SELECT {MEMBER_COLUMNS} FROM members WHERE code = ?", (code,)).fetchone()
        return None if row is None else member_view(cur, row, self.program, self.clock())


def member_view(cur: sqlite3.Cursor, row: tuple, program: Program, now: datetime) -> dict[str, Any]:
    """A member (a `MEMBER_COLUMNS` row) as replies show them: code, name, balances, totals, tier."""
    member = load_member(cur, row, program, now)
    tier = program.tier_status(member.state.rolling).to_json()
    return _member_json(member, dict(member.state.balances), dict(member.state.totals), tier)


class _Refused(Exception):
    def __init__(self, plan: _Plan) -> None:
        super().__init__("refused")
        self.plan = plan


def _stored_body(req: Request) -> dict[str, Any]:
    """The request body as kept in the event log: personal details live in `members` only (erasure)."""
    if req.type != "enrol":
        return req.body
    return {k: v for k, v in req.body.items() if k in ("consents", "referrer")}


__all__ = ["Applied", "DirectRequest", "Ledger", "member_view"]
