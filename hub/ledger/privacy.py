"""A member's personal data: export it (GDPR access) and erase it (GDPR erasure), keeping the ledger whole.

Erasure removes the person, not the accounts: the member row stays (code, balances, totals: the
projection still equals the fold of the postings, `fidelio-hub check` still passes) but every personal
value goes — first name, e-mail, phone, birth date, their search keys, the card tokens (in `cards`,
`events.card`, `card_spend.card` and the bodies of card replacements), the first name in the stored
replies — with UPDATEs (the append-only triggers forbid deletes and touching postings). The writer's
connection runs with `secure_delete`, so the old values are overwritten, not left in free pages, and a
checkpoint afterwards takes them out of the WAL.

A replayed request whose id was stored before the erasure gets the scrubbed reply: the member code
and balances, no name.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from fidelio.contract import dumps
from hub.ledger.clock import iso

#: What an erased card token becomes (no card token has this shape: see `search.card_token`).
ERASED_CARD = "erased"
#: Event body fields that name a card (card replacements).
_CARD_FIELDS = ("old_card", "new_card")


class PrivacyError(LookupError):
    """No such member, or already erased."""


def export_member(conn: sqlite3.Connection | sqlite3.Cursor, member_id: int) -> dict[str, Any]:
    """Everything the ledger holds about one member, as JSON-ready data (read it in one snapshot)."""
    cols = [
        "code", "first_name", "email", "phone", "birth_date", "enrolled_at", "tier", "points", "stamps",
        "cashback_cents", "spend_cents", "visits", "purchases", "last_activity_at", "erased_at", "merged_into",
    ]  # fmt: skip
    row = conn.execute(f"SELECT {', '.join(cols)} FROM members WHERE id = ?", (member_id,)).fetchone()
    if row is None:
        raise PrivacyError(f"no member id {member_id}")
    member = dict(zip(cols, row, strict=True))
    merged_into = member.pop("merged_into")
    if merged_into is not None:
        member["merged_into"] = conn.execute(
            "SELECT code FROM members WHERE id = ?", (merged_into,)
        ).fetchone()[0]
    referrer = conn.execute(
        "SELECT r.code FROM members m JOIN members r ON r.id = m.referrer_id WHERE m.id = ?", (member_id,)
    ).fetchone()
    member["referrer"] = referrer[0] if referrer else None

    def rows(sql: str, names: list[str]) -> list[dict[str, Any]]:
        return [dict(zip(names, r, strict=True)) for r in conn.execute(sql, (member_id,))]

    events = []
    for eid, kind, kiosk, card, received, body, ok, error in conn.execute(
        "SELECT id, type, kiosk, card, received_at, body, ok, error_code FROM events WHERE member_id = ? "
        "ORDER BY seq",
        (member_id,),
    ):
        events.append({"id": eid, "type": kind, "source": kiosk, "card": card, "at": received,
                       "body": json.loads(body), "ok": bool(ok), "error": error})  # fmt: skip
    return {
        "format": "fidelio-member-export/1",
        "member": member,
        "cards": rows(
            "SELECT token, added_at FROM cards WHERE member_id = ? ORDER BY added_at", ["token", "added_at"]
        ),
        "consents": rows(
            "SELECT channel, granted, at, policy_version, source FROM consents WHERE member_id = ? ORDER BY seq",
            ["channel", "granted", "at", "policy_version", "source"],
        ),
        "vouchers": [
            {**v, "name": json.loads(v["name"]), "value": json.loads(v["value"])}
            for v in rows(
                "SELECT code, reward_id, name, value, issued_at, expires_at, used_at, used_by FROM vouchers "
                "WHERE member_id = ? ORDER BY issued_at",
                ["code", "reward_id", "name", "value", "issued_at", "expires_at", "used_at", "used_by"],
            )
        ],
        "events": events,
        "postings": rows(
            "SELECT at, account, delta, rule, expires_at, program_version FROM postings WHERE member_id = ? "
            "ORDER BY seq",
            ["at", "account", "delta", "rule", "expires_at", "program_version"],
        ),
    }


def consent_history(conn: sqlite3.Connection | sqlite3.Cursor, member_id: int) -> list[dict[str, Any]]:
    """Every consent given or withdrawn, oldest first: channel, granted, time, policy version, source."""
    names = ["channel", "granted", "at", "policy_version", "source"]
    return [
        {**dict(zip(names, r, strict=True)), "granted": bool(r[1])}
        for r in conn.execute(
            "SELECT channel, granted, at, policy_version, source FROM consents WHERE member_id = ? ORDER BY seq",
            (member_id,),
        )
    ]


def record_consent(cur: sqlite3.Cursor, member_id: int, channel: str, granted: bool, now: datetime,
                   policy_version: str, source: str) -> None:  # fmt: skip
    """A consent given or withdrawn (append-only history; the latest per channel is in force)."""
    if channel not in ("email", "sms"):
        raise ValueError(f"unknown channel {channel!r}")
    cur.execute(
        "INSERT INTO consents (member_id, channel, granted, at, policy_version, source) VALUES (?, ?, ?, ?, ?, ?)",
        (member_id, channel, int(granted), iso(now), policy_version, source),
    )


def _scrub_reply(reply: bytes) -> bytes:
    """The stored reply without the member's name (the code, balances and effects stay)."""
    data = json.loads(bytes(reply))
    member = data.get("member")
    if isinstance(member, dict) and member.get("display_name") is not None:
        member["display_name"] = None
    return dumps(data)


def erase_member(cur: sqlite3.Cursor, member_id: int, now: datetime) -> dict[str, int]:
    """Scrub one member's personal data inside the caller's write transaction; returns what was touched.

    Raises PrivacyError for an unknown or already erased member."""
    row = cur.execute("SELECT erased_at FROM members WHERE id = ?", (member_id,)).fetchone()
    if row is None or row[0] is not None:
        raise PrivacyError(f"member id {member_id} is unknown or already erased")
    # Every card the member ever had: current ones, the ones named by their events (a replaced card too).
    tokens = {t for (t,) in cur.execute("SELECT token FROM cards WHERE member_id = ?", (member_id,))}
    for card, body in cur.execute("SELECT card, body FROM events WHERE member_id = ?", (member_id,)):
        if card:
            tokens.add(card)
        parsed = json.loads(body)
        tokens.update(parsed[name] for name in _CARD_FIELDS if isinstance(parsed.get(name), str))
    tokens.discard(ERASED_CARD)
    cur.execute(
        "UPDATE members SET first_name = NULL, email = NULL, phone = NULL, birth_date = NULL, name_key = NULL, "
        "phone_key = NULL, erased_at = ? WHERE id = ?",
        (iso(now), member_id),
    )
    touched = {"cards": cur.execute("DELETE FROM cards WHERE member_id = ?", (member_id,)).rowcount,
               "events": 0, "card_spend": 0}  # fmt: skip
    # The member's events, and any event naming one of their cards (a purchase before enrolling).
    marks = ",".join("?" * len(tokens))
    where = "member_id = ?" + (f" OR card IN ({marks})" if tokens else "")
    for seq, body, reply in cur.execute(
        f"SELECT seq, body, reply FROM events WHERE {where}", (member_id, *tokens)
    ).fetchall():
        parsed = json.loads(body)
        for name in _CARD_FIELDS:
            if name in parsed:
                parsed[name] = ERASED_CARD
        cur.execute(
            "UPDATE events SET card = CASE WHEN card IS NULL THEN NULL ELSE ? END, body = ?, reply = ? "
            "WHERE seq = ?",
            (ERASED_CARD, json.dumps(parsed), _scrub_reply(reply), seq),
        )
        touched["events"] += 1
    if tokens:
        touched["card_spend"] = cur.execute(
            f"UPDATE card_spend SET card = ? WHERE card IN ({marks})", (ERASED_CARD, *tokens)
        ).rowcount
    return touched


__all__ = [
    "ERASED_CARD",
    "PrivacyError",
    "consent_history",
    "erase_member",
    "export_member",
    "record_consent",
]
