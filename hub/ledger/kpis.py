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


def month_bounds(months: list[str]) -> list[tuple[str, str]]:
    """[start, end) of each month in ledger time text ("2026-03" -> "2026-03-01T…Z", "2026-04-01T…Z")."""
    starts = [f"{m}-01T00:00:00.000000Z" for m in months]
    year, month = (int(x) for x in months[-1].split("-"))
    after = f"{year + month // 12:04d}-{month % 12 + 1:02d}-01T00:00:00.000000Z"
    return list(zip(starts, [*starts[1:], after], strict=True))


#: Per month, each a range of one index (a count over a range is cheaper than a GROUP BY on substr()).
_MONTHLY = {
    "enrolled": "SELECT COUNT(*), 0 FROM members INDEXED BY members_enrolled WHERE enrolled_at >= ? AND "
    f"enrolled_at < ? AND {LIVE}",
    "visits": "SELECT COUNT(*), 0 FROM postings INDEXED BY postings_visit_at WHERE account = 'visits' AND delta > 0 "
    "AND at >= ? AND at < ?",
    "member_spend": "SELECT COALESCE(SUM(delta), 0), COUNT(*) FROM postings INDEXED BY postings_purchase_at "
    "WHERE account = 'spend_cents' AND rule = 'purchase' AND at >= ? AND at < ?",
    "anonymous_spend": "SELECT COALESCE(SUM(json_extract(body, '$.amount_cents')), 0), COUNT(*) FROM events "
    "INDEXED BY events_anonymous_purchase WHERE type = 'purchase' AND member_id IS NULL AND ok = 1 "
    "AND received_at >= ? AND received_at < ?",
    "card_spend": "SELECT COALESCE(SUM(amount_cents), 0), COUNT(*) FROM card_spend WHERE at >= ? AND at < ?",
    "vouchers_issued": "SELECT COUNT(*), COUNT(used_at) FROM vouchers INDEXED BY vouchers_issued "
    "WHERE issued_at >= ? AND issued_at < ?",
}


def _compute(cur: sqlite3.Cursor, now: datetime) -> Kpis:
    """The "12 months" figures are the 12 calendar months the charts show, this one included."""
    d30, d90 = (iso(now - timedelta(days=n)) for n in (30, 90))
    months = last_months(now)
    bounds = month_bounds(months)
    live = f"({LIVE})"
    # One scan of the members projection for every per-member figure (merged members hold nothing).
    members, active_30, active_90, points, stamps, kitty = (
        int(v or 0)
        for v in cur.execute(
            f"SELECT SUM({live}), SUM({live} AND last_activity_at >= ?), SUM({live} AND last_activity_at >= ?), "
            "SUM(points), SUM(stamps), SUM(cashback_cents) FROM members",
            (d30, d90),
        ).fetchone()
    )
    visits_90, visitors_90 = cur.execute(
        "SELECT COUNT(*), COUNT(DISTINCT member_id) FROM postings INDEXED BY postings_visit_at "
        "WHERE account = 'visits' AND delta > 0 AND at >= ?",
        (d90,),
    ).fetchone()
    series: dict[str, tuple[list[int], list[int]]] = {}
    for name, sql in _MONTHLY.items():
        rows = [cur.execute(sql, bound).fetchone() for bound in bounds]
        series[name] = ([int(r[0] or 0) for r in rows], [int(r[1] or 0) for r in rows])
    used_by_month = dict(cur.execute(  # the month they were used in, of those issued in the window
        "SELECT substr(used_at, 1, 7), COUNT(*) FROM vouchers INDEXED BY vouchers_issued "
        "WHERE issued_at >= ? AND used_at IS NOT NULL GROUP BY 1",
        (bounds[0][0],),
    ).fetchall())  # fmt: skip
    vouchers_used = [int(used_by_month.get(m, 0)) for m in months]
    member_spend, member_purchases = series["member_spend"]
    anonymous_spend = [
        a + b for a, b in zip(series["anonymous_spend"][0], series["card_spend"][0], strict=True)
    ]
    anonymous_purchases = [
        a + b for a, b in zip(series["anonymous_spend"][1], series["card_spend"][1], strict=True)
    ]
    vouchers_issued, vouchers_used_of = series["vouchers_issued"]
    monthly = {
        "enrolled": series["enrolled"][0],
        "visits": series["visits"][0],
        "member_spend": member_spend,
        "member_purchases": member_purchases,
        "member_basket": _ratios(member_spend, member_purchases),
        "anonymous_spend": anonymous_spend,
        "anonymous_purchases": anonymous_purchases,
        "anonymous_basket": _ratios(anonymous_spend, anonymous_purchases),
        "vouchers_issued": vouchers_issued,
        "vouchers_used": vouchers_used,
    }
    return Kpis(
        members=members, active_30=active_30, active_90=active_90, visits_90=visits_90, visitors_90=visitors_90,
        member_spend_365=sum(member_spend), member_purchases_365=sum(member_purchases),
        anonymous_spend_365=sum(anonymous_spend), anonymous_purchases_365=sum(anonymous_purchases),
        vouchers_issued=sum(vouchers_issued), vouchers_used=sum(vouchers_used_of), points_outstanding=points,
        stamps_outstanding=stamps, kitty_outstanding_cents=kitty, months=months, monthly=monthly,
    )  # fmt: skip


def _ratios(totals: list[int], counts: list[int]) -> list[int]:
    return [t // n if n else 0 for t, n in zip(totals, counts, strict=True)]
