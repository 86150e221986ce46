"""Benchmark 3: ledger replay — recompute every balance from the postings (fold_postings) and check_ledger.

The ledger is built in two steps, both timed but not targets:
1. seed: a few hundred members enrolled, then purchases, taps and redemptions applied for real with
   Ledger.apply_batch (batches of 512) on a fresh file;
2. amplify: the seed's events and postings copied with SQL (new event ids and sequence numbers, same
   members, kiosks, amounts and rules) until the ledger holds the target number of events, then the
   members projection set to the fold of the new postings. apply_batch alone would need minutes for
   200,000 events on this machine (see benchmark 2's "ledger alone"), over the run's budget.
The ledger must pass check_ledger before anything is timed.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.fixtures import apply_in_batches, cards, enrolments, fresh_ledger
from bench.report import Figure, at_least, rate
from fidelio.contract import Request, new_request
from hub.ledger import Ledger, check_ledger, fold_postings, open_database
from hub.program.model import ACCOUNTS

BENCH = "3 ledger replay"
EVENT_COLUMNS = (
    "kiosk, type, card, member_id, received_at, sent_at, body, ok, error_code, program_version, reply"
)
POSTING_COLUMNS = "member_id, account, delta, at, expires_at, rule, program_version"


@dataclass(frozen=True)
class ReplayConfig:
    events: int = 200_000
    members: int = 300
    seed_events: int = 5_000
    repeats: int = 3

    @classmethod
    def quick(cls) -> ReplayConfig:
        return cls(events=30_000, seed_events=1_500)


def seed_requests(tokens: list[str], count: int) -> list[Request]:
    """Purchases (65 %), taps (30 %) and redemptions (5 %) on random members, seeded."""
    rng = random.Random(3)
    out = []
    for _ in range(count):
        card, roll = rng.choice(tokens), rng.random()
        if roll < 0.65:
            out.append(new_request("purchase", "till", card, {"amount_cents": rng.randint(100, 20_000)}))
        elif roll < 0.95:
            out.append(new_request("tap", "till", card))
        else:
            out.append(new_request("redeem", "till", card, {"reward": "cafe-offert"}))
    return out


def count(ledger: Ledger, table: str) -> int:
    return int(ledger.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def columns(ledger: Ledger, table: str, besides: tuple[str, ...]) -> str:
    """The table's columns but `besides`, read from the schema (so copies follow schema changes)."""
    names = [row[1] for row in ledger.conn.execute(f"PRAGMA table_info({table})")]
    return ", ".join(name for name in names if name not in besides)


def amplify(ledger: Ledger, target_events: int) -> None:
    """Copy the seed's events and postings until the ledger holds `target_events` events."""
    conn = ledger.conn
    event_columns = columns(ledger, "events", ("seq", "id"))
    posting_columns = columns(ledger, "postings", ("seq", "event_seq"))
    base_events = conn.execute("SELECT MAX(seq) FROM events").fetchone()[0]
    base_postings = conn.execute("SELECT MAX(seq) FROM postings").fetchone()[0]
    copies = math.ceil(target_events / count(ledger, "events")) - 1
    conn.execute("BEGIN IMMEDIATE")
    for copy in range(1, copies + 1):
        offset = copy * base_events
        conn.execute(
            f"INSERT INTO events (seq, id, {event_columns}) SELECT seq + ?, id || '-copy' || ?, {event_columns} "
            "FROM events WHERE seq <= ?",
            (offset, copy, base_events),
        )
        conn.execute(
            f"INSERT INTO postings (event_seq, {posting_columns}) SELECT event_seq + ?, {posting_columns} "
            "FROM postings WHERE seq <= ?",
            (offset, base_postings),
        )
    sums = ", ".join(
        f"{a} = (SELECT COALESCE(SUM(delta), 0) FROM postings p WHERE p.member_id = members.id "
        f"AND p.account = '{a}')"
        for a in ACCOUNTS
    )
    conn.execute(f"UPDATE members SET {sums}")
    conn.execute("COMMIT")


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """(median seconds over `repeats` runs, the last result)."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def build(ledger: Ledger, cfg: ReplayConfig) -> float:
    """Seed with apply_batch, then amplify; returns the seed's events/s."""
    tokens = cards("3C", cfg.members)
    print(f"  seed: {cfg.members} members, {cfg.seed_events} events with Ledger.apply_batch")
    started = time.perf_counter()
    apply_in_batches(ledger, enrolments("enrol-desk", tokens))
    apply_in_batches(ledger, seed_requests(tokens, cfg.seed_events), require_ok=False)
    seed_rate = rate(count(ledger, "events"), time.perf_counter() - started)
    print(f"  amplify to {cfg.events:,} events (SQL copies of the seed)")
    amplify(ledger, cfg.events)
    ledger.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return seed_rate


@dataclass(frozen=True)
class Timings:
    open_s: float
    fold_s: float
    check_s: float
    members_folded: int


def measure(path: Path, repeats: int) -> Timings:
    started = time.perf_counter()
    conn = open_database(path).conn  # what every hub start and `fidelio-hub check` do: quick_check
    open_s = time.perf_counter() - started
    try:
        faults = check_ledger(conn)
        if faults:
            raise RuntimeError(f"the replay ledger is not sound: {faults[:5]}")
        fold_s, folded = timed(lambda: fold_postings(conn), repeats)
        check_s, _ = timed(lambda: check_ledger(conn), 1)
    finally:
        conn.close()
    return Timings(open_s, fold_s, check_s, len(folded))


def run(quick: bool) -> list[Figure]:
    cfg = ReplayConfig.quick() if quick else ReplayConfig()
    with fresh_ledger() as ledger:
        seed_rate = build(ledger, cfg)
        events, postings = count(ledger, "events"), count(ledger, "postings")
        print(f"  fold_postings and check_ledger over {events:,} events, {postings:,} postings")
        path = Path(ledger.conn.execute("PRAGMA database_list").fetchone()[2])
        t = measure(path, cfg.repeats)
    if t.members_folded != cfg.members:
        raise RuntimeError(f"fold_postings found {t.members_folded} members, expected {cfg.members}")
    fold_target = at_least(200_000, "events/s")
    return [
        Figure(
            BENCH, f"seed with apply_batch ({cfg.seed_events + cfg.members} events)", seed_rate, "events/s"
        ),
        Figure(BENCH, f"fold_postings: {events:,} events", rate(events, t.fold_s), "events/s", fold_target),
        Figure(BENCH, f"fold_postings: {postings:,} postings", rate(postings, t.fold_s), "postings/s"),
        Figure(BENCH, "fold_postings time", t.fold_s * 1000, "ms"),
        Figure(BENCH, "check_ledger (integrity + fold + FK)", rate(events, t.check_s), "events/s"),
        Figure(BENCH, "check_ledger time", t.check_s * 1000, "ms"),
        Figure(BENCH, "open_database (quick_check, every hub start)", t.open_s * 1000, "ms"),
    ]
