"""The audit log: who did what, when, from where. Written in the same transaction as the action."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub.ledger import Ledger, iso
from hub.ledger.schema import transaction
from hub.ledger.vouchers import VoucherCheck, use_voucher_in_transaction


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff member ("staff:alice") or an integration's API key ("api:webshop")."""

    id: str
    address: str | None = None


def record(
    conn: sqlite3.Connection | sqlite3.Cursor,
    at: str,
    actor: Actor,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one line; call it inside the action's own write transaction."""
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, target, detail, address) VALUES (?, ?, ?, ?, ?, ?)",
        (
            at,
            actor.id,
            action,
            target,
            json.dumps(detail, ensure_ascii=False) if detail else None,
            actor.address,
        ),
    )


def write_one(conn: sqlite3.Connection, at: str, actor: Actor, action: str, target: str | None = None,
              detail: dict[str, Any] | None = None) -> None:  # fmt: skip
    """`record` in a transaction of its own (an action that writes nothing else, e.g. a failed login)."""
    with transaction(conn):
        record(conn, at, actor, action, target, detail)


@dataclass(frozen=True)
class AuditLine:
    seq: int
    at: str
    actor: str
    action: str
    target: str | None
    detail: dict[str, Any] | None
    address: str | None


def recent(conn: sqlite3.Connection, limit: int = 200, actor: str | None = None) -> list[AuditLine]:
    where, params = ("WHERE actor = ?", (actor,)) if actor else ("", ())
    rows = conn.execute(
        f"SELECT seq, at, actor, action, target, detail, address FROM audit_log {where} ORDER BY seq DESC LIMIT ?",
        (*params, limit),
    )
    return [
        AuditLine(s, a, who, act, t, json.loads(d) if d else None, addr)
        for s, a, who, act, t, d, addr in rows
    ]


def use_voucher_audited(code: str, who: Actor) -> Callable[[Ledger], VoucherCheck]:
    """The writer job for the till and the API alike: mark `code` used and audit it, in one transaction."""

    def job(ledger: Ledger) -> VoucherCheck:
        now = ledger.clock()
        with transaction(ledger.conn):
            result = use_voucher_in_transaction(ledger.conn, code, now, who.id)
            detail = {"result": "used" if result.ok else f"refused: {result.status}"}
            record(ledger.conn, iso(now), who, "voucher.use", result.code or code[:32], detail)
        return result

    return job
