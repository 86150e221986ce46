"""kill -9 the hub at random instants while 3 kiosks stream purchases and resend what stays unanswered.

Nothing may be lost and nothing applied twice: each member's lifetime spend equals the sum of the
distinct purchases its kiosk made, every request id has exactly one event, and `check` passes.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import threading
import time

import pytest

from hub.app import check_hub
from tests.support import HubHarness, StreamingKiosk

ROUNDS = 20
KIOSKS = 3


@pytest.mark.slow
def test_kill9_at_random_instants_loses_nothing_and_applies_nothing_twice():
    harness = HubHarness()
    try:
        harness.start_broker()
        harness.start_service()
        cards = [f"pcsc:0A0B0C{i:02X}" for i in range(KIOSKS)]
        enrol = harness.kiosk("enrol-desk")
        for card in cards:
            assert enrol.request("enrol", card, {"consents": {"email": False, "sms": False}})["ok"]
        harness.stop_service()

        stop = threading.Event()
        kiosks = [StreamingKiosk(harness, f"k{i}", cards[i], stop) for i in range(KIOSKS)]
        rng = random.Random(2026)
        harness.start_hub_process()
        for kiosk in kiosks:
            kiosk.start()
        for _ in range(ROUNDS):
            time.sleep(rng.uniform(0.3, 1.2))
            harness.kill_hub_process(signal.SIGKILL)
            time.sleep(rng.uniform(0.0, 0.3))
            harness.start_hub_process()
        time.sleep(1.0)
        stop.set()
        for kiosk in kiosks:
            kiosk.join(timeout=60)
            assert not kiosk.is_alive(), "a kiosk never got its last reply"
        harness.kill_hub_process(signal.SIGTERM)

        conn = sqlite3.connect(harness.data / "ledger.sqlite")
        total_sent = 0
        for kiosk, card in zip(kiosks, cards, strict=True):
            assert kiosk.answered == set(kiosk.sent), "a purchase stayed unanswered"
            spend = conn.execute(
                "SELECT spend_cents, purchases FROM members WHERE id = (SELECT member_id FROM cards WHERE token = ?)",
                (card,),
            ).fetchone()
            assert spend == (sum(kiosk.sent.values()), len(kiosk.sent))
            ids = list(kiosk.sent)
            marks = ",".join("?" * len(ids))
            events = conn.execute(f"SELECT COUNT(*) FROM events WHERE id IN ({marks})", ids).fetchone()[0]
            assert events == len(ids)
            total_sent += len(ids)
        conn.close()
        assert total_sent > ROUNDS * KIOSKS, f"too few purchases to mean anything: {total_sent}"
        # the kills did land while requests were in flight (otherwise this test proves nothing)
        assert sum(k.resends for k in kiosks) >= ROUNDS
        assert check_hub(harness.data) == []
    finally:
        harness.close()
