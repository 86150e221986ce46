"""Several PC/SC readers, and a reader gone and back, on the real path: Debian's pcscd started with a
generated reader.conf.d, vsmartcard's reader in it (two PC/SC readers, one per slot and port) or none,
virtual cards on each reader's port."""

from __future__ import annotations

import subprocess
import time

import pytest

from kiosk.hardware.pcsc import PcscReader
from kiosk.hardware.reader import CardEvent, readers_state
from kiosk.hardware.vpcd_card import VirtualCard
from tests.support import Pcscd, VpcdReader, wait_until

COUNTER = VpcdReader("Comptoir")  # "Comptoir 00 00" on port 35963, "Comptoir 00 01" on 35964
SPARE = VpcdReader("Remplacant")  # another reader plugged in instead
LEFT, RIGHT = COUNTER.slot(0), COUNTER.slot(1)


@pytest.fixture(scope="module")
def pcscd():
    subprocess.run(["pkill", "-x", "pcscd"], check=False)  # one pcscd only: ours
    time.sleep(0.5)
    daemon = Pcscd(COUNTER)
    daemon.start()
    yield daemon
    daemon.kill()


@pytest.fixture
def reader(pcscd):
    if pcscd.vpcd != COUNTER:  # a test before left another reader, or none
        pcscd.restart(COUNTER)
    events: list[CardEvent] = []
    r = PcscReader(poll_seconds=0.03)
    r.start(events.append)
    yield r, events
    r.stop()


def seen(events: list[CardEvent]) -> list[tuple[str, str, str]]:
    return [(e.kind, e.token, e.reader) for e in events]


def test_two_readers_at_once_each_give_their_card_and_their_name(reader):
    _r, events = reader
    on_left = VirtualCard(bytes.fromhex("0A0A0A0A"), COUNTER.port)
    on_right = VirtualCard(bytes.fromhex("0B0B0B0B0B0B0B"), COUNTER.port + 1)
    assert wait_until(lambda: len(events) == 2, 5)
    assert sorted(seen(events)) == [
        ("presented", "pcsc:0A0A0A0A", LEFT),
        ("presented", "pcsc:0B0B0B0B0B0B0B", RIGHT),
    ]
    time.sleep(0.5)  # both resting: still one tap each
    assert len(events) == 2
    on_right.remove()
    assert wait_until(lambda: len(events) == 3, 5)
    assert seen(events)[-1] == ("removed", "pcsc:0B0B0B0B0B0B0B", RIGHT)  # the left card stays
    on_left.remove()
    assert wait_until(lambda: len(events) == 4, 5)
    assert seen(events)[-1] == ("removed", "pcsc:0A0A0A0A", LEFT)


def test_a_reader_gone_reports_its_card_removed_and_a_tap_is_seen_once_it_is_back(reader, pcscd):
    r, events = reader
    VirtualCard(bytes.fromhex("CAFEBABE"), COUNTER.port)  # resting on the counter's reader
    assert wait_until(lambda: ("presented", "pcsc:CAFEBABE", LEFT) in seen(events), 5)

    pcscd.restart(SPARE)  # the counter's reader unplugged, another one plugged in
    assert wait_until(lambda: LEFT not in r._debouncers, 10)  # forgotten with its reader…
    assert ("removed", "pcsc:CAFEBABE", LEFT) in seen(events)  # …and its card reported gone
    on_spare = VirtualCard(bytes.fromhex("5A5A5A5A"), SPARE.port)  # the loop lives on
    assert wait_until(lambda: ("presented", "pcsc:5A5A5A5A", SPARE.slot(0)) in seen(events), 5)
    on_spare.remove()

    pcscd.restart(COUNTER)  # plugged back in
    again = VirtualCard(bytes.fromhex("CAFEBABE"), COUNTER.port)
    assert wait_until(lambda: seen(events).count(("presented", "pcsc:CAFEBABE", LEFT)) == 2, 10)
    again.remove()
    assert wait_until(lambda: seen(events).count(("removed", "pcsc:CAFEBABE", LEFT)) == 2, 5)
    assert r._thread is not None and r._thread.is_alive()


def test_no_reader_at_all_then_one(reader, pcscd):
    r, events = reader
    VirtualCard(bytes.fromhex("11223344"), COUNTER.port + 1)
    assert wait_until(lambda: ("presented", "pcsc:11223344", RIGHT) in seen(events), 5)
    pcscd.restart(None)  # every reader unplugged
    assert wait_until(lambda: ("removed", "pcsc:11223344", RIGHT) in seen(events), 10)
    time.sleep(0.3)
    assert r._debouncers == {} and r._thread is not None and r._thread.is_alive()
    assert wait_until(lambda: r.health == "absent", 5)  # pcscd up, no reader plugged in
    assert readers_state([r]) == "absent: pcsc"
    pcscd.restart(COUNTER)
    card = VirtualCard(bytes.fromhex("11223344"), COUNTER.port + 1)
    assert wait_until(lambda: seen(events).count(("presented", "pcsc:11223344", RIGHT)) == 2, 10)
    assert wait_until(lambda: r.health == "ok", 5) and readers_state([r]) == "ok: pcsc"
    card.remove()
