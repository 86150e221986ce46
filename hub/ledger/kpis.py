"""The shop's figures for the dashboard: SQL aggregates on a read connection, in one snapshot.

Each figure reads the members projection (one scan) or a partial index made for it (schema v3:
purchases' spend postings, visit postings, anonymous purchases), never every posting. Months are UTC
calendar months (`substr(at, 1, 7)`): a purchase at 00:30 shop time on the 1st may count in the month
before. Money is integer cents; rates are integer per-mille, so nothing here is a float.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hub.ledger.clock import iso

LIVE = "erased_at IS NULL AND merged_into IS NULL"


@dataclass
class Kpis:
    members: int
    active_30: int
    active_90: int
    visits_90: int  # visits in the last 90 days
    visitors_90: int  # distinct members who visited in the last 90 days
    member_spend_365: int  # cents, purchases by members in the last 365 days
    member_purchases_365: int
    anonymous_spend_365: int  # cents, purchases of non-members (anonymous, or a card no member has)
    anonymous_purchases_365: int
    vouchers_issued: int
    vouchers_used: int
    points_outstanding: int
    stamps_outstanding: int
    kitty_outstanding_cents: int
    months: list[str] = field(default_factory=list)  # the last 12 months, oldest first ("2026-03")
    monthly: dict[str, list[int]] = field(default_factory=dict)  # series name -> one value per month

    @staticmethod
    def per_mille(part: int, whole: int) -> int:
        return part * 1000 // whole if whole else 0

    @property
    def active_30_pm(self) -> int:
        return self.per_mille(self.active_30, self.members)

    @property
    def active_90_pm(self) -> int:
        return self.per_mille(self.active_90, self.members)

    @property
    def visits_per_visitor_x10(self) -> int:
        """Visits per visiting member over 90 days, times ten (one decimal without a float)."""
        return self.visits_90 * 10 // self.visitors_90 if self.visitors_90 else 0

    @property
    def member_basket_cents(self) -> int:
        return self.member_spend_365 // self.member_purchases_365 if self.member_purchases_365 else 0

    @property
    def anonymous_basket_cents(self) -> int:
        return self.anonymous_spend_365 // self.anonymous_purchases_365 if self.anonymous_purchases_365 else 0

    @property
    def annual_spend_per_member_cents(self) -> int:
        return self.member_spend_365 // self.members if self.members else 0


def last_months(now: datetime, count: int = 12) -> list[str]:
    year, month = now.year, now.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def compute(conn: sqlite3.Connection, now: datetime) -> Kpis:
    cur = conn.cursor()
    cur.execute("BEGIN")  # one snapshot for every figure
    try:
        return _compute(cur, now)
    finally:
        cur.execute("COMMIT")


def _compute(cur: sqlite3.Cursor, now: datetime) -> Kpis:
    d30, d90, d365 = (iso(now - timedelta(days=n)) for n in (30, 90, 365))
    months = last_months(now)
    since = months[0] + "-01T00:00:00.000000Z"
    members, active_30, active_90, points, stamps, kitty = cur.execute(
        f"SELECT COUNT(*), COALESCE(SUM(last_activity_at >= ?), 0), COALESCE(SUM(last_activity_at >= ?), 0), "
        f"(SELECT COALESCE(SUM(points), 0) FROM members WHERE merged_into IS NULL), "
        f"(SELECT COALESCE(SUM(stamps), 0) FROM members WHERE merged_into IS NULL), "
        f"(SELECT COALESCE(SUM(cashback_cents), 0) FROM members WHERE merged_into IS NULL) "
        f"FROM members WHERE {LIVE}",
        (d30, d90),
    ).fetchone()
    visits_90, visitors_90 = cur.execute(
        "SELECT COUNT(*), COUNT(DISTINCT member_id) FROM postings INDEXED BY postings_visit_at "
        "WHERE account = 'visits' AND delta > 0 AND at >= ?",
        (d90,),
    ).fetchone()
    spend, purchases = cur.execute(
        "SELECT COALESCE(SUM(delta), 0), COUNT(*) FROM postings INDEXED BY postings_purchase_at "
        "WHERE account = 'spend_cents' AND rule = 'purchase' AND at >= ?",
        (d365,),
    ).fetchone()
    anon_spend, anon_count = _anonymous(cur, d365)
    issued, used = cur.execute(
        "SELECT COUNT(*), COALESCE(SUM(used_at IS NOT NULL), 0) FROM vouchers WHERE issued_at >= ?", (since,)
    ).fetchone()

    def by_month(sql: str, params: tuple = ()) -> list[int]:
        found = dict(cur.execute(sql, (since, *params)).fetchall())
        return [int(found.get(m, 0)) for m in months]

    monthly = {
        "enrolled": by_month(
            f"SELECT substr(enrolled_at, 1, 7), COUNT(*) FROM members WHERE enrolled_at >= ? AND {LIVE} GROUP BY 1"
        ),
        "visits": by_month(
            "SELECT substr(at, 1, 7), COUNT(*) FROM postings INDEXED BY postings_visit_at "
            "WHERE account = 'visits' AND delta > 0 AND at >= ? GROUP BY 1"
        ),
        "member_spend": by_month(
            "SELECT substr(at, 1, 7), SUM(delta) FROM postings INDEXED BY postings_purchase_at "
            "WHERE account = 'spend_cents' AND rule = 'purchase' AND at >= ? GROUP BY 1"
        ),
        "member_purchases": by_month(
            "SELECT substr(at, 1, 7), COUNT(*) FROM postings INDEXED BY postings_purchase_at "
            "WHERE account = 'spend_cents' AND rule = 'purchase' AND at >= ? GROUP BY 1"
        ),
        "vouchers_issued": by_month(
            "SELECT substr(issued_at, 1, 7), COUNT(*) FROM vouchers WHERE issued_at >= ? GROUP BY 1"
        ),
        "vouchers_used": by_month(
            "SELECT substr(used_at, 1, 7), COUNT(*) FROM vouchers WHERE used_at >= ? GROUP BY 1"
        ),
    }
    anon = _anonymous_by_month(cur, since)
    monthly["anonymous_spend"] = [anon.get(m, (0, 0))[0] for m in months]
    monthly["anonymous_purchases"] = [anon.get(m, (0, 0))[1] for m in months]
    monthly["member_basket"] = [
        s // n if n else 0 for s, n in zip(monthly["member_spend"], monthly["member_purchases"], strict=True)
    ]
    monthly["anonymous_basket"] = [
        s // n if n else 0
        for s, n in zip(monthly["anonymous_spend"], monthly["anonymous_purchases"], strict=True)
    ]
    return Kpis(
        members=members, active_30=active_30, active_90=active_90, visits_90=visits_90, visitors_90=visitors_90,
        member_spend_365=spend, member_purchases_365=purchases, anonymous_spend_365=anon_spend,
        anonymous_purchases_365=anon_count, vouchers_issued=issued, vouchers_used=used, points_outstanding=points,
        stamps_outstanding=stamps, kitty_outstanding_cents=kitty, months=months, monthly=monthly,
    )  # fmt: skip


# Non-members' purchases: anonymous ones (a POS telling a non-member's basket: an event with no card and
# no member) and the purchases of cards no member has (kept in card_spend toward their enrolment).
_ANONYMOUS = (
    "SELECT substr(received_at, 1, 7) AS month, CAST(json_extract(body, '$.amount_cents') AS INTEGER) AS cents "
    "FROM events INDEXED BY events_anonymous_purchase WHERE type = 'purchase' AND member_id IS NULL AND ok = 1 "
    "AND received_at >= ? "
    "UNION ALL SELECT substr(at, 1, 7), amount_cents FROM card_spend WHERE at >= ?"
)


def _anonymous(cur: sqlite3.Cursor, since: str) -> tuple[int, int]:
    spend, count = cur.execute(
        f"SELECT COALESCE(SUM(cents), 0), COUNT(*) FROM ({_ANONYMOUS})", (since, since)
    ).fetchone()
    return int(spend), int(count)


def _anonymous_by_month(cur: sqlite3.Cursor, since: str) -> dict[str, tuple[int, int]]:
    return {
        month: (int(spend), int(count))
        for month, spend, count in cur.execute(
            f"SELECT month, SUM(cents), COUNT(*) FROM ({_ANONYMOUS}) GROUP BY month", (since, since)
        )
    }
