"""Benchmark 4: kill -9 soak — tests/test_hub_kill9.py, longer.

3 kiosks stream purchases (each resends the same id until answered) while the hub, a child process, is
killed with SIGKILL at random instants and restarted, ROUNDS times. Afterwards: every purchase was
answered, each member's lifetime spend and purchase count equal what its kiosk sent, every request id has
exactly one event, and `check_hub` finds nothing. Any failure raises SoakFailure.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import threading
import time
from dataclasses import dataclass

from bench.fixtures import cards, enrol_direct, running_broker
from bench.report import Figure
from hub.app import check_hub
from tests.support import HubHarness, StreamingKiosk

BENCH = "4 kill -9 soak"


class SoakFailure(AssertionError):
    """Something was lost, applied twice, or the ledger is unsound."""


@dataclass(frozen=True)
class SoakConfig:
    rounds: int = 50
    kiosks: int = 3

    @classmethod
    def quick(cls) -> SoakConfig:
        return cls(rounds=5)


def kill_and_restart(harness: HubHarness, rounds: int, rng: random.Random) -> None:
    for _ in range(rounds):
        time.sleep(rng.uniform(0.3, 1.2))
        harness.kill_hub_process(signal.SIGKILL)
        time.sleep(rng.uniform(0.0, 0.3))
        harness.start_hub_process()


def verify(harness: HubHarness, kiosks: list[StreamingKiosk], rounds: int) -> None:
    for kiosk in kiosks:
        if kiosk.is_alive():
            raise SoakFailure(f"{kiosk.name} never got its last reply")
        if kiosk.answered != set(kiosk.sent):
            raise SoakFailure(f"{kiosk.name}: {len(set(kiosk.sent) - kiosk.answered)} purchases unanswered")
    conn = sqlite3.connect(harness.data / "ledger.sqlite")
    try:
        for kiosk in kiosks:
            spend = conn.execute(
                "SELECT spend_cents, purchases FROM members WHERE id = (SELECT member_id FROM cards WHERE token = ?)",
                (kiosk.card,),
            ).fetchone()
            if spend != (sum(kiosk.sent.values()), len(kiosk.sent)):
                raise SoakFailure(f"{kiosk.name}: ledger has {spend}, kiosk sent {sum(kiosk.sent.values())}")
            ids = list(kiosk.sent)
            marks = ",".join("?" * len(ids))
            events = conn.execute(f"SELECT COUNT(*) FROM events WHERE id IN ({marks})", ids).fetchone()[0]
            if events != len(ids):
                raise SoakFailure(f"{kiosk.name}: {events} events for {len(ids)} distinct purchases")
    finally:
        conn.close()
    if sum(k.resends for k in kiosks) < rounds:
        raise SoakFailure("fewer resends than kills: the kills did not land on requests in flight")
    faults = check_hub(harness.data)
    if faults:
        raise SoakFailure(f"check_hub: {faults[:5]}")


def run(quick: bool) -> list[Figure]:
    cfg = SoakConfig.quick() if quick else SoakConfig()
    tokens = cards("4D", cfg.kiosks)
    with running_broker() as harness:
        enrol_direct(harness.data, tokens)
        stop = threading.Event()
        kiosks = [StreamingKiosk(harness, f"k{i}", tokens[i], stop) for i in range(cfg.kiosks)]
        print(f"  {cfg.rounds} rounds of kill -9 while {cfg.kiosks} kiosks stream purchases")
        started = time.perf_counter()
        harness.start_hub_process()
        for kiosk in kiosks:
            kiosk.start()
        kill_and_restart(harness, cfg.rounds, random.Random(2026))
        time.sleep(1.0)
        stop.set()
        for kiosk in kiosks:
            kiosk.join(timeout=60)
        wall = time.perf_counter() - started
        harness.kill_hub_process(signal.SIGTERM)
        verify(harness, kiosks, cfg.rounds)
    purchases = sum(len(k.sent) for k in kiosks)
    return [
        Figure(BENCH, "rounds (kill -9 + restart)", cfg.rounds, "rounds"),
        Figure(BENCH, "purchases made (all answered once)", purchases, "purchases"),
        Figure(BENCH, "resends", sum(k.resends for k in kiosks), "resends"),
        Figure(BENCH, "wall time", wall, "s"),
        Figure(BENCH, "lost / doubled / check_hub faults", 0, "(verified)"),
    ]
