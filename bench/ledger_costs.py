"""Where the ledger's time goes, without MQTT: an fsync'd commit, a purchase as the member's history
grows, and a cProfile of Ledger.apply_batch grouped into a few buckets."""

from __future__ import annotations

import cProfile
import pstats
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence

from bench.fixtures import apply_in_batches, cards, enrolments, fresh_ledger
from bench.report import Figure
from fidelio.contract import Request, new_request
from hub.ledger import Ledger

BENCH = "2b ledger costs"

#: (bucket, part of the file name, part of the function name) matched against cProfile's keys; first wins.
#: Rows read by iterating a cursor count in the Python function that iterates (e.g. hub/ledger/state.py).
BUCKETS: list[tuple[str, str, str]] = [
    ("time parsing/formatting (datetime)", "_strptime", ""),
    ("time parsing/formatting (datetime)", "", "strptime"),
    ("time parsing/formatting (datetime)", "", "strftime"),
    ("time parsing/formatting (datetime)", "", "isoformat"),
    ("SQLite statements (C)", "", "execute"),
    ("SQLite statements (C)", "", "executemany"),
    ("SQLite statements (C)", "", "fetchone"),
    ("JSON encode/decode", "json", ""),
    ("hub/program (pure rules)", "hub/program", ""),
    ("hub/ledger (Python)", "hub/ledger", ""),
]


def commit_ms(ledger: Ledger, commits: int = 200) -> float:
    """Median time of BEGIN IMMEDIATE; one small insert; COMMIT (WAL, synchronous=FULL) on this disk."""
    conn = ledger.conn
    conn.execute("CREATE TABLE IF NOT EXISTS bench_commit (x INTEGER)")
    times = []
    for i in range(commits):
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO bench_commit VALUES (?)", (i,))
        conn.execute("COMMIT")
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def purchase_ms_by_history(
    ledger: Ledger, card: str, steps: Sequence[int], sample: int = 50
) -> dict[int, float]:
    """ms per purchase (batches of `sample`) for one member once it has made `step` earlier purchases."""
    rng = random.Random(5)
    out, made = {}, 0
    for step in steps:
        filler = [_purchase(card, rng) for _ in range(step - made)]
        apply_in_batches(ledger, filler)
        batch = [_purchase(card, rng) for _ in range(sample)]
        started = time.perf_counter()
        apply_in_batches(ledger, batch)
        out[step] = (time.perf_counter() - started) / sample * 1000
        made = step + sample
    return out


def _purchase(card: str, rng: random.Random) -> Request:
    return new_request("purchase", "till", card, {"amount_cents": rng.randint(100, 20_000)})


def bucket_of(key: tuple[str, int, str]) -> str:
    filename, _, function = key
    for name, in_file, in_function in BUCKETS:
        if (not in_file or in_file in filename) and (not in_function or in_function in function):
            return name
    return "other Python"


def profile_apply(ledger: Ledger, requests: Sequence[Request]) -> pstats.Stats:
    profiler = cProfile.Profile()
    profiler.enable()
    apply_in_batches(ledger, requests)
    profiler.disable()
    return pstats.Stats(profiler)


def bucket_shares(stats: pstats.Stats) -> dict[str, float]:
    """Share of the profiled time (cProfile tottime) per bucket, in %, largest first."""
    shares: dict[str, float] = defaultdict(float)
    for key, (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        shares[bucket_of(key)] += tottime
    total = sum(shares.values()) or 1.0
    return {name: value / total * 100 for name, value in sorted(shares.items(), key=lambda kv: -kv[1])}


def function_totals(stats: pstats.Stats, file_end: str, function: str) -> tuple[int, float, float]:
    """(calls, tottime, cumtime) of a function (file name ends with `file_end`), summed over its keys."""
    calls, tot, cum = 0, 0.0, 0.0
    for (filename, _line, name), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if name == function and filename.endswith(file_end):
            calls, tot, cum = calls + nc, tot + tt, cum + ct
    return calls, tot, cum


def statement_us(stats: pstats.Stats) -> float:
    """Mean wall time of one sqlite3 Cursor.execute, in µs (it releases the GIL and must take it back)."""
    calls, tottime, _ = function_totals(stats, "~", "<method 'execute' of 'sqlite3.Cursor' objects>")
    return tottime / max(calls, 1) * 1e6


def history_costs(steps: Sequence[int]) -> dict[int, float]:
    hot = "pcsc:5EFFFFFF"
    with fresh_ledger() as ledger:
        apply_in_batches(ledger, enrolments("enrol-desk", [hot]))
        return purchase_ms_by_history(ledger, hot, steps)


def run(quick: bool) -> list[Figure]:
    tokens = cards("5E", 500)
    rng = random.Random(9)
    sample = [_purchase(rng.choice(tokens), rng) for _ in range(1024 if quick else 2048)]
    with fresh_ledger() as ledger:
        commit = commit_ms(ledger)
        apply_in_batches(ledger, enrolments("enrol-desk", tokens))
        shares = bucket_shares(profile_apply(ledger, sample))
    steps = (0, 100) if quick else (0, 100, 300)
    return [
        Figure(BENCH, "fsync'd COMMIT (WAL, synchronous=FULL), median", commit, "ms"),
        *(
            Figure(BENCH, f"purchase, member with {step} earlier purchases", ms, "ms")
            for step, ms in history_costs(steps).items()
        ),
        *(
            Figure(BENCH, f"apply_batch profile: {name}", share, "% of time")
            for name, share in shares.items()
        ),
    ]
