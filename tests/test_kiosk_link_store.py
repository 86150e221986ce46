"""The kiosk's outbox and member cache on real SQLite files: order, durability, bad rows, a full disk, bounds."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fidelio.contract import Request, dumps, new_request
from kiosk.link import MemberCache, Outbox, OutboxError, OutboxFull
from kiosk.session.model import CachedMember
from tests.support import REPO


def requests(n: int, kiosk: str = "k1") -> list[Request]:
    out = []
    for i in range(n):
        if i % 3 == 0:
            out.append(new_request("purchase", kiosk, f"pcsc:04A1{i:04X}", {"amount_cents": 100 + i}))
        elif i % 3 == 1:
            out.append(new_request("tap", kiosk, f"pcsc:04A1{i:04X}", sent_at="2026-03-01T10:00:00+01:00"))
        else:
            out.append(
                new_request("enrol", kiosk, f"pcsc:04A1{i:04X}", {"consents": {"email": True, "sms": False}})
            )
    return out


@pytest.fixture
def outbox(tmp_path: Path):
    box = Outbox(tmp_path / "outbox.sqlite")
    yield box
    box.close()


# -- outbox -----------------------------------------------------------------------------------------


def test_pending_gives_back_the_requests_in_the_order_they_were_added(outbox: Outbox):
    sent = requests(60)
    for request in sent:
        outbox.add(request)
    assert outbox.pending() == sent
    assert len(outbox) == 60


def test_a_request_is_on_disk_when_add_returns_even_if_the_process_is_killed(tmp_path: Path):
    path = tmp_path / "outbox.sqlite"
    script = textwrap.dedent(f"""
        import os, signal, sys
        from fidelio.contract import new_request
        from kiosk.link import Outbox
        box = Outbox({str(path)!r})
        for i in range(25):
            request = new_request("purchase", "k1", "pcsc:04A1B2C3", {{"amount_cents": 100 + i}})
            box.add(request)
            print(request.id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == -9, run.stderr
    printed = run.stdout.split()
    assert len(printed) == 25
    reopened = Outbox(path)
    try:
        assert [r.id for r in reopened.pending()] == printed
        assert [r.body["amount_cents"] for r in reopened.pending()] == list(range(100, 125))
    finally:
        reopened.close()


def test_requests_survive_a_reopen_and_new_ones_come_after_them(tmp_path: Path):
    path = tmp_path / "outbox.sqlite"
    first, later = requests(5), requests(3)
    box = Outbox(path)
    for request in first:
        box.add(request)
    box.remove(first[0].id)
    box.close()
    box = Outbox(path)
    for request in later:
        box.add(request)
    assert box.pending() == first[1:] + later
    box.close()


def test_remove_many_removes_exactly_those_ids(outbox: Outbox):
    sent = requests(10)
    for request in sent:
        outbox.add(request)
    outbox.remove_many([sent[1].id, sent[4].id, sent[9].id, "0190aaaa-0000-7000-8000-000000000000"])
    outbox.remove(sent[0].id)
    outbox.remove_many([])
    assert [r.id for r in outbox.pending()] == [sent[i].id for i in (2, 3, 5, 6, 7, 8)]
    assert len(outbox) == 6


def test_the_same_id_added_twice_is_stored_once_as_first_written(outbox: Outbox):
    request = new_request("purchase", "k1", "pcsc:04A1B2C3", {"amount_cents": 500})
    outbox.add(request)
    outbox.add(Request(**{**request.__dict__, "body": {"amount_cents": 999}}))
    assert outbox.pending() == [request]


def test_unreadable_rows_are_set_aside_and_the_others_still_served(outbox: Outbox, caplog):
    good = requests(3)
    outbox.add(good[0])
    conn = sqlite3.connect(outbox.path)  # another writer that scribbled over the table
    bad_rows = [
        ("0190aaaa-0000-7000-8000-000000000001", b"\x00\xff not json"),
        ("0190aaaa-0000-7000-8000-000000000002", b"[1, 2, 3]"),
        ("0190aaaa-0000-7000-8000-000000000003", dumps({**good[1].to_json(), "id": "someone-else"})),
        ("0190aaaa-0000-7000-8000-000000000004", dumps({**good[1].to_json(), "body": "oops"})),
    ]
    with conn:
        conn.executemany("INSERT INTO requests (id, payload, added_at) VALUES (?, ?, 'x')", bad_rows)
    conn.close()
    outbox.add(good[1])
    outbox.add(good[2])
    with caplog.at_level(logging.ERROR, logger="fidelio.kiosk.outbox"):
        assert outbox.pending() == good
    assert sum("set aside" in r.message for r in caplog.records) == 4
    assert outbox.set_aside_count() == 4
    assert len(outbox) == 3
    kept = sqlite3.connect(outbox.path).execute("SELECT id, payload FROM set_aside ORDER BY seq").fetchall()
    assert kept == bad_rows  # kept aside byte for byte, for whoever looks into it
    assert outbox.pending() == good  # and not reported again


def test_a_file_that_is_not_a_database_is_moved_aside_and_a_new_outbox_started(tmp_path: Path):
    path = tmp_path / "outbox.sqlite"
    path.write_bytes(b"this is not SQLite at all" * 100)
    box = Outbox(path)
    try:
        assert box.pending() == [] and len(box) == 0
        assert box.set_aside_file is not None
        assert box.set_aside_file.read_bytes().startswith(b"this is not SQLite")
        request = new_request("tap", "k1", "pcsc:04A1B2C3")
        box.add(request)
        assert box.pending() == [request]
    finally:
        box.close()


def test_a_full_disk_raises_a_clear_error_and_writes_nothing(outbox: Outbox):
    for request in requests(5):
        outbox.add(request)
    pages = outbox.conn.execute("PRAGMA page_count").fetchone()[0]
    outbox.conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite now answers SQLITE_FULL, as a full disk
    stored = outbox.pending()
    error: OutboxError | None = None
    for i in range(2000):
        request = new_request("purchase", "k1", "pcsc:04A1B2C3", {"amount_cents": 1 + i, "receipt": "R" * 60})
        before = len(outbox)
        try:
            outbox.add(request)
        except OutboxFull as exc:
            error = exc
            assert len(outbox) == before
            assert request.id not in {r.id for r in outbox.pending()}
            break
        stored.append(request)
    assert error is not None, "the file never filled up"
    assert "pleine" in error.words.fr and "full" in error.words.en
    assert outbox.pending() == stored  # everything before the failure intact, nothing half-written
    assert outbox.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    outbox.conn.execute("PRAGMA max_page_count = 1073741823")  # space is back
    late = new_request("tap", "k1", "pcsc:04A1B2C3")
    outbox.add(late)
    assert outbox.pending() == [*stored, late]


# -- member cache -----------------------------------------------------------------------------------


def member(points: int, code: str = "M7K2Q") -> dict:
    return {
        "code": code,
        "display_name": "Zélie",
        "balances": {"points": points, "stamps": 1, "cashback_cents": 0},
        "totals": {"spend_cents": points * 100, "visits": 1, "purchases": 1},
        "tier": {"name": "Bronze", "next": "Argent", "progress": {"basis": "points", "missing": 10}},
    }


def test_the_cache_returns_the_last_member_with_its_hub_time(tmp_path: Path):
    cache = MemberCache(tmp_path / "cache.sqlite")
    assert cache.get("pcsc:04A1B2C3") is None
    assert cache.put("pcsc:04A1B2C3", member(10), "2026-03-01T10:00:00.000000Z")
    assert cache.get("pcsc:04A1B2C3") == CachedMember(member(10), "2026-03-01T10:00:00.000000Z")
    cache.close()
    reopened = MemberCache(tmp_path / "cache.sqlite")
    assert reopened.get("pcsc:04A1B2C3") == CachedMember(member(10), "2026-03-01T10:00:00.000000Z")
    reopened.close()


def test_an_older_copy_never_replaces_a_newer_one(tmp_path: Path):
    cache = MemberCache(tmp_path / "cache.sqlite")
    card = "pcsc:04A1B2C3"
    assert cache.put(card, member(30), "2026-03-01T10:00:05.000000Z")
    assert not cache.put(card, member(20), "2026-03-01T10:00:04.999999Z")
    # 11:30+02:00 is 09:30 UTC: earlier, although it sorts later as text
    assert not cache.put(card, member(25), "2026-03-01T11:30:00.000000+02:00")
    assert cache.get(card).member == member(30)
    assert cache.put(card, member(40), "2026-03-01T10:00:06.000000Z")
    assert (
        cache.put_many(
            [(card, member(35), "2026-03-01T10:00:01Z"), ("pcsc:0A0B0C0D", member(1), "2026-03-01T10:00:01Z")]
        )
        == 1
    )
    assert cache.get(card).member == member(40)
    assert not cache.put(card, member(99), "yesterday")  # not a hub time: not cached
    assert cache.get(card).member == member(40)
    cache.close()


def test_the_cache_keeps_only_the_most_recently_written_cards(tmp_path: Path):
    cache = MemberCache(tmp_path / "cache.sqlite", max_cards=100)
    cards = [f"pcsc:0A{i:06X}" for i in range(250)]
    for i, card in enumerate(cards[:200]):
        cache.put(card, member(i), "2026-03-01T10:00:00Z")
    cache.put_many([(card, member(1), "2026-03-01T10:00:00Z") for card in cards[200:]])
    cache.put(cards[0], member(0), "2026-03-02T10:00:00Z")  # seen again: recent now
    assert len(cache) == 100
    kept = {card for card in cards if cache.get(card) is not None}
    assert kept == {cards[0], *cards[151:]}
    cache.close()
    reopened = MemberCache(tmp_path / "cache.sqlite", max_cards=100)
    assert len(reopened) == 100 and reopened.get(cards[0]) is not None
    reopened.close()


def test_forget_drops_a_card(tmp_path: Path):
    cache = MemberCache(tmp_path / "cache.sqlite")
    cache.put("pcsc:04A1B2C3", member(1), "2026-03-01T10:00:00Z")
    cache.forget("pcsc:04A1B2C3")
    assert cache.get("pcsc:04A1B2C3") is None and len(cache) == 0
    cache.close()


def test_a_copy_the_hub_has_not_refreshed_for_keep_days_is_dropped(tmp_path: Path):
    """Retention by hub time (the newest copy's), not by the kiosk's clock: a member erased on the hub who
    never taps again does not stay on the kiosk for good; what is dropped is overwritten in the file."""
    cache = MemberCache(tmp_path / "cache.sqlite", keep_days=90)
    gone, kept = "pcsc:0A000001", "pcsc:0A000002"
    named = {**member(5), "display_name": "Anaïs-Oubliée"}
    assert cache.put(gone, named, "2026-01-01T10:00:00Z")
    assert cache.put(kept, member(7), "2026-03-01T10:00:00Z")
    assert cache.put("pcsc:0A000003", member(1), "2026-03-31T10:00:00Z")  # 89 days after the first copy
    assert cache.get(gone) is not None and len(cache) == 3
    assert cache.put("pcsc:0A000004", member(1), "2026-04-02T10:00:00Z")  # now 91 days: dropped
    assert cache.get(gone) is None and cache.get(kept) is not None and len(cache) == 3
    # gone from the file and its WAL while the kiosk runs, not only once it is closed
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("cache.sqlite"))
    assert "Anaïs-Oubliée".encode() not in raw
    cache.close()
    reopened = MemberCache(tmp_path / "cache.sqlite", keep_days=30)
    assert reopened.put("pcsc:0A000005", member(1), "2026-04-02T10:00:01Z")
    assert reopened.get(kept) is None and len(reopened) == 3
    reopened.close()


def test_a_hub_clock_that_once_ran_ahead_does_not_keep_emptying_the_cache(tmp_path: Path):
    cache = MemberCache(tmp_path / "cache.sqlite", keep_days=90)
    assert cache.put("pcsc:0A000001", member(1), "2026-03-01T10:00:00Z")
    assert cache.put("pcsc:0A000002", member(2), "2027-03-01T10:00:00Z")  # a year ahead, once
    assert cache.get("pcsc:0A000001") is None  # older than that reply's time minus 90 days
    assert cache.put("pcsc:0A000003", member(3), "2026-03-01T10:05:00Z")  # the clock right again
    assert cache.get("pcsc:0A000003") is not None and len(cache) == 2
    cache.close()


def test_a_forgotten_card_is_gone_from_the_wal_too(tmp_path: Path):
    cache = MemberCache(tmp_path / "cache.sqlite")
    cache.put("pcsc:04A1B2C3", {**member(1), "display_name": "Zoé-Effacée"}, "2026-03-01T10:00:00Z")
    cache.forget("pcsc:04A1B2C3")
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("cache.sqlite"))
    assert "Zoé-Effacée".encode() not in raw
    cache.close()
