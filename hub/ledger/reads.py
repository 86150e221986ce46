"""Reading the ledger for the staff web and the HTTP API, on read-only connections (WAL readers).

Nothing here writes: writes go through the hub service's single writer. Every query is an index
lookup or a bounded range scan, so it stays fast at a million members.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from hub.codes import ALPHABET
from hub.ledger.clock import HubClock, iso
from hub.ledger.ledger import member_view
from hub.ledger.privacy import consent_history, export_member
from hub.ledger.schema import SCHEMA_VERSION, LedgerOpenError
from hub.ledger.search import card_token, name_key, phone_key, prefix_upper_bound
from hub.ledger.state import MEMBER_COLUMNS
from hub.ledger.vouchers import VoucherCheck, check_voucher
from hub.program import Program

SEARCH_LIMIT = 50
_MEMBER_CODE_CHARS = set(ALPHABET)


class ReadConnections:
    """One read-only connection per thread (the web serves requests from a thread pool)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if not self.path.exists():
                raise LedgerOpenError(f"Registre introuvable : {self.path} / Ledger not found: {self.path}")
            conn = sqlite3.connect(
                f"file:{self.path}?mode=ro",
                uri=True,
                check_same_thread=False,
                timeout=30,
                isolation_level=None,
            )
            conn.execute("PRAGMA query_only = ON")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                conn.close()
                raise LedgerOpenError(f"schema {version}, expected {SCHEMA_VERSION}")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


@dataclass(frozen=True)
class MemberHit:
    code: str
    first_name: str | None
    email: str | None
    phone: str | None
    tier: str | None
    points: int
    stamps: int
    cashback_cents: int
    last_activity_at: str | None
    matched: str  # name | phone | email | card | code


@dataclass
class HistoryLine:
    """One movement of a member's history: an event (or an expiry sweep) and its postings."""

    at: str
    event_id: str | None
    type: str  # tap | enrol | purchase | redeem | expiry
    source: str | None  # the kiosk, "web:<user>" or "api:<key>"; None for the hub's own sweeps
    amount_cents: int | None
    postings: list[dict[str, Any]] = field(default_factory=list)  # {"account", "delta", "rule", "expires_at"}
    reasons: list[dict[str, str]] = field(default_factory=list)  # the reply's effects, {"fr", "en"}
    program_version: int | None = None


@dataclass(frozen=True)
class MemberGone:
    """A member who was erased (the person gone, the accounts kept) or merged into another one."""

    code: str
    erased_at: str | None
    merged_into: str | None
    accounts: dict[str, int]


@dataclass(frozen=True)
class MemberDetail:
    id: int
    code: str
    first_name: str | None
    email: str | None
    phone: str | None
    birth_date: str | None
    enrolled_at: str
    last_activity_at: str | None
    view: dict[str, Any]  # member_view(): balances, totals, tier
    cards: list[dict[str, str]]
    consents: dict[str, dict[str, Any]]  # channel -> latest {"granted", "at", "policy_version", "source"}
    consent_history: list[dict[str, Any]]  # every change, oldest first, with "channel"
    vouchers: list[dict[str, Any]]
    history: list[HistoryLine]


class LedgerReader:
    def __init__(self, connections: ReadConnections, program: Program, clock: HubClock) -> None:
        self.connections = connections
        self.program = program
        self.clock = clock

    @property
    def conn(self) -> sqlite3.Connection:
        return self.connections.get()

    # -- search -----------------------------------------------------------------------------------
    def search(self, query: str, limit: int = SEARCH_LIMIT) -> list[MemberHit]:
        """Members whose first name, phone or e-mail starts with `query`, or whose card or member code
        is `query`. Each kind is one index lookup or range scan; results are merged, at most `limit`."""
        query = query.strip()
        if not query:
            return []
        found: dict[str, MemberHit] = {}
        for matched, sql, params in self._search_plans(query):
            if len(found) >= limit:
                break
            for row in self.conn.execute(sql + f" LIMIT {int(limit)}", params):
                hit = MemberHit(*row, matched=matched)
                found.setdefault(hit.code, hit)
        return list(found.values())[:limit]

    def _search_plans(self, query: str) -> list[tuple[str, str, tuple[Any, ...]]]:
        cols = (
            "m.code, m.first_name, m.email, m.phone, m.tier, m.points, m.stamps, m.cashback_cents, "
            "m.last_activity_at FROM members m"
        )
        live = "m.erased_at IS NULL AND m.merged_into IS NULL"
        plans: list[tuple[str, str, tuple[Any, ...]]] = []
        card = card_token(query)
        if card is not None:
            plans.append(
                (
                    "card",
                    f"SELECT {cols} JOIN cards c ON c.member_id = m.id WHERE c.token = ? AND {live}",
                    (card,),
                )
            )
        code = query.upper().replace("-", "").replace(" ", "")
        if 4 <= len(code) <= 8 and set(code) <= _MEMBER_CODE_CHARS:
            upper = prefix_upper_bound(code)
            plans.append(
                (
                    "code",
                    f"SELECT {cols} WHERE m.code >= ? AND m.code < ? AND {live} ORDER BY m.code",
                    (code, upper),
                )
            )
        if "@" in query:
            email = query.lower()
            plans.append(
                (
                    "email",
                    f"SELECT {cols} WHERE m.email >= ? AND m.email < ? AND {live} ORDER BY m.email",
                    (email, prefix_upper_bound(email)),
                )
            )
        digits = sum(ch.isdigit() for ch in query)
        if digits >= 3 and all(ch.isdigit() or ch in " +.-()" for ch in query):
            phone = phone_key(query)
            if phone:
                plans.append(
                    (
                        "phone",
                        f"SELECT {cols} WHERE m.phone_key >= ? AND m.phone_key < ? AND {live} ORDER BY m.phone_key",
                        (phone, prefix_upper_bound(phone)),
                    )
                )
        name = name_key(query)
        if name and card is None and "@" not in query and digits == 0:
            plans.append(
                (
                    "name",
                    f"SELECT {cols} WHERE m.name_key >= ? AND m.name_key < ? AND {live} ORDER BY m.name_key",
                    (name, prefix_upper_bound(name)),
                )
            )
        return plans

    # -- one member -------------------------------------------------------------------------------
    def member_id(self, *, code: str | None = None, card: str | None = None) -> int | None:
        if code is not None:
            row = self.conn.execute(
                "SELECT id FROM members WHERE code = ? AND erased_at IS NULL AND merged_into IS NULL",
                (code.strip().upper(),),
            ).fetchone()
        else:
            token = card_token(card or "")
            if token is None:
                return None
            row = self.conn.execute(
                "SELECT m.id FROM cards c JOIN members m ON m.id = c.member_id WHERE c.token = ? "
                "AND m.erased_at IS NULL",
                (token,),
            ).fetchone()
        return None if row is None else int(row[0])

    def gone(self, code: str) -> MemberGone | None:
        """A member code that is no longer a live member: erased (when), or merged (into which code)."""
        row = self.conn.execute(
            "SELECT m.code, m.erased_at, k.code, m.points, m.stamps, m.cashback_cents, m.spend_cents, m.visits, "
            "m.purchases FROM members m LEFT JOIN members k ON k.id = m.merged_into WHERE m.code = ? "
            "AND (m.erased_at IS NOT NULL OR m.merged_into IS NOT NULL)",
            (code.strip().upper(),),
        ).fetchone()
        if row is None:
            return None
        names = ("points", "stamps", "cashback_cents", "spend_cents", "visits", "purchases")
        return MemberGone(row[0], row[1], row[2], dict(zip(names, row[3:], strict=True)))

    def export(self, member_id: int) -> dict[str, Any]:
        """Everything held about a member (GDPR access), read in one snapshot."""
        cur = self.conn.cursor()
        cur.execute("BEGIN")
        try:
            return export_member(cur, member_id)
        finally:
            cur.execute("COMMIT")

    def members_by_phone(self, phone: str) -> list[int]:
        key = phone_key(phone)
        if not key:
            return []
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT id FROM members WHERE phone_key = ? AND erased_at IS NULL AND merged_into IS NULL LIMIT 10",
                (key,),
            )
        ]

    def view(self, member_id: int) -> dict[str, Any] | None:
        """The member as replies show them (contract shape), computed by the ledger's own code."""
        cur = self.conn.cursor()
        cur.execute("BEGIN")  # one snapshot for the member row and its postings
        try:
            row = cur.execute(f"SELECT {MEMBER_COLUMNS} FROM members WHERE id = ?", (member_id,)).fetchone()
            return None if row is None else member_view(cur, row, self.program, self.clock())
        finally:
            cur.execute("COMMIT")

    def detail(self, member_id: int, history_limit: int = 100) -> MemberDetail | None:
        cur = self.conn.cursor()
        cur.execute("BEGIN")
        try:
            return self._detail(cur, member_id, history_limit)
        finally:
            cur.execute("COMMIT")

    def _detail(self, cur: sqlite3.Cursor, member_id: int, history_limit: int) -> MemberDetail | None:
        row = cur.execute(
            f"SELECT {MEMBER_COLUMNS} FROM members WHERE id = ? AND erased_at IS NULL AND merged_into IS NULL",
            (member_id,),
        ).fetchone()
        if row is None:
            return None
        view = member_view(cur, row, self.program, self.clock())
        email, phone, birth, enrolled, last = cur.execute(
            "SELECT email, phone, birth_date, enrolled_at, last_activity_at FROM members WHERE id = ?",
            (member_id,),
        ).fetchone()
        cards = [
            {"token": t, "added_at": a}
            for t, a in cur.execute(
                "SELECT token, added_at FROM cards WHERE member_id = ? ORDER BY added_at", (member_id,)
            )
        ]
        history = consent_history(cur, member_id)
        consents = {c["channel"]: c for c in history}  # the latest per channel
        now_text = iso(self.clock())  # fixed-width UTC: text order is time order
        vouchers = [
            {
                "status": "used" if u else "expired" if e <= now_text else "valid",
                "code": c,
                "reward": r,
                "name": json.loads(n),
                "issued": i,
                "expires": e,
                "used_at": u,
                "used_by": b,
            }
            for c, r, n, i, e, u, b in cur.execute(
                "SELECT code, reward_id, name, issued_at, expires_at, used_at, used_by FROM vouchers "
                "WHERE member_id = ? ORDER BY issued_at DESC LIMIT 50",
                (member_id,),
            )
        ]
        return MemberDetail(
            id=member_id, code=row[1], first_name=row[2], email=email, phone=phone, birth_date=birth,
            enrolled_at=enrolled, last_activity_at=last, view=view, cards=cards, consents=consents,
            consent_history=history, vouchers=vouchers, history=self._history(cur, member_id, history_limit),
        )  # fmt: skip

    def _history(self, cur: sqlite3.Cursor, member_id: int, limit: int) -> list[HistoryLine]:
        """The newest postings (at most `limit`), grouped by the event that made them."""
        rows = cur.execute(
            "SELECT p.seq, p.event_seq, p.account, p.delta, p.at, p.expires_at, p.rule, p.program_version, "
            "e.id, e.type, e.kiosk, e.body, e.reply, e.member_id "
            "FROM (SELECT * FROM postings WHERE member_id = ? ORDER BY seq DESC LIMIT ?) p "
            "LEFT JOIN events e ON e.seq = p.event_seq ORDER BY p.seq DESC",
            (member_id, limit),
        ).fetchall()
        lines: list[HistoryLine] = []
        index: dict[Any, HistoryLine] = {}
        for (_seq, event_seq, account, delta, at, expires, rule, version, eid, etype, source, body, reply,
             event_member) in rows:  # fmt: skip
            key = event_seq if event_seq is not None else ("sweep", at)
            line = index.get(key)
            if line is None:
                amount = json.loads(body).get("amount_cents") if body else None
                reasons: list[dict[str, str]] = []
                if reply and event_member == member_id:  # a referrer's bonus sits in the referee's event
                    parsed = json.loads(bytes(reply))
                    reasons = [e["reason"] for e in parsed.get("effects", []) if "reason" in e]
                line = HistoryLine(
                    at=at, event_id=eid, type=etype or "expiry", source=source, amount_cents=amount,
                    reasons=reasons, program_version=version,
                )  # fmt: skip
                index[key] = line
                lines.append(line)
            line.postings.append({"account": account, "delta": delta, "rule": rule, "expires_at": expires})
        return lines

    # -- vouchers ---------------------------------------------------------------------------------
    def check_voucher(self, typed: str, now: datetime | None = None) -> VoucherCheck:
        return check_voucher(self.conn, typed, now or self.clock())

    # -- events -----------------------------------------------------------------------------------
    def stored_event(self, event_id: str) -> tuple[str, bytes] | None:
        row = self.conn.execute("SELECT kiosk, reply FROM events WHERE id = ?", (event_id,)).fetchone()
        return None if row is None else (row[0], bytes(row[1]))
