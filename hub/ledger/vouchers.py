"""Checking and using a voucher at the till. Single use is enforced by the ledger (and a trigger)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.codes import CodeError, normalise_voucher_code
from hub.ledger.clock import iso, parse_iso

STATUS_TEXT = {
    "valid": ("Bon valable.", "Valid voucher."),
    "used": ("Ce bon a déjà été utilisé.", "This voucher was already used."),
    "expired": ("Ce bon a expiré.", "This voucher has expired."),
    "unknown": ("Aucun bon ne porte ce code (bon contrefait ?).", "No voucher has this code (forged?)."),
    "mistyped": ("Code mal saisi.", "Mistyped code."),
}


@dataclass(frozen=True)
class VoucherCheck:
    status: str  # valid | used | expired | unknown | mistyped
    code: str | None
    voucher: dict[str, Any] | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "valid"

    def message(self) -> dict[str, str]:
        fr, en = STATUS_TEXT[self.status]
        return {"fr": fr, "en": en}


def _lookup(conn: sqlite3.Connection, typed: str, now: datetime) -> VoucherCheck:
    try:
        code = normalise_voucher_code(typed)
    except CodeError as exc:
        return VoucherCheck("mistyped", None, detail=str(exc))
    row = conn.execute(
        "SELECT v.reward_id, v.name, v.value, v.issued_at, v.expires_at, v.used_at, v.used_by, m.code "
        "FROM vouchers v LEFT JOIN members m ON m.id = v.member_id WHERE v.code = ?",
        (code,),
    ).fetchone()
    if row is None:
        return VoucherCheck("unknown", code)
    reward, name, value, issued, expires, used_at, used_by, member = row
    voucher = {
        "code": code,
        "reward": reward,
        "name": json.loads(name),
        "value": json.loads(value),
        "issued": issued,
        "expires": expires,
        "used_at": used_at,
        "used_by": used_by,
        "member": member,
    }
    if used_at is not None:
        return VoucherCheck("used", code, voucher)
    if parse_iso(expires) <= now:
        return VoucherCheck("expired", code, voucher)
    return VoucherCheck("valid", code, voucher)


def check_voucher(conn: sqlite3.Connection, typed: str, now: datetime) -> VoucherCheck:
    return _lookup(conn, typed, now)


def use_voucher(conn: sqlite3.Connection, typed: str, now: datetime, by: str) -> VoucherCheck:
    """Mark a valid voucher used, once. Returns the check as it was before use (status 'valid' = used now)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = use_voucher_in_transaction(conn, typed, now, by)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def use_voucher_in_transaction(conn: sqlite3.Connection, typed: str, now: datetime, by: str) -> VoucherCheck:
    """`use_voucher` inside the caller's write transaction (the web writes its audit line in the same one)."""
    result = _lookup(conn, typed, now)
    if result.ok:
        cur = conn.execute(
            "UPDATE vouchers SET used_at = ?, used_by = ? WHERE code = ? AND used_at IS NULL",
            (iso(now), by, result.code),
        )
        if cur.rowcount != 1:  # pragma: no cover - the write lock makes this impossible
            raise RuntimeError("voucher changed under the write lock")
    return result
