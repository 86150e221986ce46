"""`fidelio-hub check`: the database is sound and the members projection equals the fold of postings."""

from __future__ import annotations

import sqlite3

from hub.program.model import ACCOUNTS, BALANCES


def fold_postings(conn: sqlite3.Connection) -> dict[int, dict[str, int]]:
    """Replay every posting into balances per member (the projection, recomputed from scratch)."""
    folded: dict[int, dict[str, int]] = {}
    for member_id, account, total in conn.execute(
        "SELECT member_id, account, SUM(delta) FROM postings GROUP BY member_id, account"
    ):
        folded.setdefault(member_id, dict.fromkeys(ACCOUNTS, 0))[account] = total
    return folded


def check_ledger(conn: sqlite3.Connection) -> list[str]:
    """Every fault found, in words; an empty list means the ledger is sound."""
    faults: list[str] = []
    integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    if integrity != ["ok"]:
        faults += [f"integrity: {line}" for line in integrity[:20]]
        return faults
    for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check"):
        faults.append(f"foreign key: {table} row {rowid} points to a missing {parent}")
    folded = fold_postings(conn)
    columns = ", ".join(ACCOUNTS)
    for row in conn.execute(f"SELECT id, code, {columns} FROM members"):
        member_id, code, values = row[0], row[1], dict(zip(ACCOUNTS, row[2:], strict=True))
        expected = folded.pop(member_id, dict.fromkeys(ACCOUNTS, 0))
        for account in ACCOUNTS:
            if values[account] != expected[account]:
                faults.append(
                    f"member {code}: {account} is {values[account]} in the projection, "
                    f"{expected[account]} in the postings"
                )
        for account in BALANCES:
            if values[account] < 0:
                faults.append(f"member {code}: {account} is negative ({values[account]})")
    for member_id in folded:
        faults.append(f"postings for member id {member_id}, who is not in the members table")
    for (count,) in conn.execute("SELECT COUNT(*) FROM events WHERE length(reply) = 0"):
        if count:
            faults.append(f"{count} events have no stored reply")
    for (count,) in conn.execute(
        "SELECT COUNT(*) FROM postings p LEFT JOIN programs g ON g.version = p.program_version WHERE g.version IS NULL"
    ):
        if count:
            faults.append(f"{count} postings name a program version that is not stored")
    return faults
