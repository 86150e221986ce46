"""Member segments for campaigns, and their export per channel (only members who consented to it).

Every segment is a WHERE clause on the members projection (one scan at most, whatever the number of
postings). RFM uses simple, documented thresholds on the projection rather than quintiles, so a
segment means the same thing in every shop and from one week to the next:

- R (recency): 3 if the last visit or purchase was at most 30 days ago, 2 if at most 90, else 1;
- F (frequency): visits + purchases since joining: 3 from 12, 2 from 4, else 1;
- M (monetary): spend since joining: 3 from 300 €, 2 from 100 €, else 1.

Named segments: champions (R3 F3 M3), loyal (R≥2 F≥2, champions excepted), new (joined in the last
30 days), at_risk (R1 F≥2: regulars not seen for 90 days), lost (R1 F1).

A member is exported for a channel only when their LATEST consent for that channel is a yes and they
have the address for it (an e-mail, a phone); erased and merged members never are.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hub.ledger.clock import iso

RECENT_DAYS, QUIET_DAYS = 30, 90
FREQ_HIGH, FREQ_MID = 12, 4
SPEND_HIGH, SPEND_MID = 30_000, 10_000
NEW_DAYS = 30
RFM_SEGMENTS = ("champions", "loyal", "new", "at_risk", "lost")
CHANNELS = {"email": "email", "sms": "phone"}  # channel -> the members column it needs


@dataclass(frozen=True)
class Segment:
    """`kind`: all | tier | inactive | birthday | rfm; `value`: the tier name, the RFM name or the days."""

    kind: str
    value: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}" if self.value else self.kind


def parse_segment(kind: str, value: str = "") -> Segment | None:
    if kind in ("all", "birthday"):
        return Segment(kind)
    if kind == "rfm" and value in RFM_SEGMENTS:
        return Segment(kind, value)
    if kind == "tier" and value:
        return Segment(kind, value)
    if kind == "inactive" and value.isdigit() and 1 <= int(value) <= 3650:
        return Segment(kind, str(int(value)))
    return None


def _recency(now: datetime) -> tuple[str, list[Any]]:
    last = "COALESCE(m.last_activity_at, m.enrolled_at)"
    sql = f"(CASE WHEN {last} >= ? THEN 3 WHEN {last} >= ? THEN 2 ELSE 1 END)"
    return sql, [iso(now - timedelta(days=RECENT_DAYS)), iso(now - timedelta(days=QUIET_DAYS))]


_FREQ = f"(CASE WHEN m.visits + m.purchases >= {FREQ_HIGH} THEN 3 WHEN m.visits + m.purchases >= {FREQ_MID} THEN 2 ELSE 1 END)"
_MONEY = (
    f"(CASE WHEN m.spend_cents >= {SPEND_HIGH} THEN 3 WHEN m.spend_cents >= {SPEND_MID} THEN 2 ELSE 1 END)"
)
LIVE = "m.erased_at IS NULL AND m.merged_into IS NULL"


def _rfm(name: str, now: datetime) -> tuple[str, list[Any]]:
    r, params = _recency(now)
    if name == "champions":
        return f"{r} = 3 AND {_FREQ} = 3 AND {_MONEY} = 3", params
    if name == "loyal":
        return f"{r} >= 2 AND {_FREQ} >= 2 AND NOT ({r} = 3 AND {_FREQ} = 3 AND {_MONEY} = 3)", params * 2
    if name == "new":
        return "m.enrolled_at >= ?", [iso(now - timedelta(days=NEW_DAYS))]
    if name == "at_risk":
        return f"{r} = 1 AND {_FREQ} >= 2", params
    return f"{r} = 1 AND {_FREQ} = 1", params


def segment_where(segment: Segment, now: datetime, local_month: int) -> tuple[str, list[Any]]:
    """The segment as a SQL condition on `members m` (live members only), with its parameters."""
    if segment.kind == "all":
        return LIVE, []
    if segment.kind == "tier":
        return f"{LIVE} AND m.tier = ?", [segment.value]
    if segment.kind == "inactive":
        since = iso(now - timedelta(days=int(segment.value)))
        return f"{LIVE} AND COALESCE(m.last_activity_at, m.enrolled_at) < ?", [since]
    if segment.kind == "birthday":
        return f"{LIVE} AND substr(m.birth_date, 6, 2) = ?", [f"{local_month:02d}"]
    sql, params = _rfm(segment.value, now)
    return f"{LIVE} AND {sql}", params


def consent_condition(channel: str) -> str:
    """The member has the channel's address and their latest consent for it is a yes."""
    column = CHANNELS[channel]
    return (
        f"m.{column} IS NOT NULL AND m.{column} <> '' AND (SELECT c.granted FROM consents c WHERE "
        f"c.member_id = m.id AND c.channel = '{channel}' ORDER BY c.seq DESC LIMIT 1) = 1"
    )


def count(conn: sqlite3.Connection, segment: Segment, now: datetime, local_month: int) -> dict[str, int]:
    """How many members the segment holds, and how many of them each channel may reach."""
    where, params = segment_where(segment, now, local_month)
    sums = ", ".join(f"COALESCE(SUM({consent_condition(ch)}), 0)" for ch in CHANNELS)
    total, *reach = conn.execute(f"SELECT COUNT(*), {sums} FROM members m WHERE {where}", params).fetchone()
    return {"members": total, **dict(zip(CHANNELS, reach, strict=True))}


def export_rows(conn: sqlite3.Connection, segment: Segment, channel: str, now: datetime,
                local_month: int) -> list[tuple[Any, ...]]:  # fmt: skip
    """(code, first_name, address, tier, points, stamps, cashback_cents, last activity) for the channel."""
    where, params = segment_where(segment, now, local_month)
    column = CHANNELS[channel]
    return conn.execute(
        f"SELECT m.code, m.first_name, m.{column}, m.tier, m.points, m.stamps, m.cashback_cents, "
        f"COALESCE(m.last_activity_at, m.enrolled_at) FROM members m WHERE {where} AND {consent_condition(channel)} "
        "ORDER BY m.code",
        params,
    ).fetchall()


def csv_cell(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection: a name starting with '=')."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_phone(text):
        return "'" + text
    return text


def _is_phone(text: str) -> bool:
    return text.startswith("+") and all(ch.isdigit() or ch in " .-()" for ch in text[1:])
