"""The presenter with real parts: the pure session, a real outbox (SQLite), the voucher spool, the
simulated printer (real PNGs) and a real, unconnected HubLink. What reaches the screen, and what is kept,
when the printer runs out of paper, a reply comes twice, or the disk is full."""

from __future__ import annotations

import sqlite3
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from fidelio.contract import uuid7
from kiosk.app import build_kiosk
from kiosk.config import parse_kiosk_config
from kiosk.hardware.pcsc import PcscReader
from kiosk.hardware.printer import PrinterState, VoucherSpool
from kiosk.hardware.reader import readers_state, readers_text
from kiosk.hardware.simulated_printer import SimulatedPrinter
from kiosk.hardware.voucher_layout import voucher_layout
from kiosk.headless import HeadlessLoop
from kiosk.link import MemberCache, Outbox
from kiosk.link.hub_link import HubLink
from kiosk.presenter import Presenter
from kiosk.provisioning import Provisioning
from kiosk.run import ViewWatch
from kiosk.session.machine import Session
from kiosk.session.model import (
    CardPresented,
    ChooseReward,
    Confirm,
    HubReply,
    Screen,
    SessionSettings,
    ShowRewards,
    Words,
)
from tests.support import HubHarness, running_hub, wait_until

PROV = Provisioning("shop", "comptoir", "127.0.0.1", 1, "kiosk-comptoir", "pw", False, None)
VOUCHER = {
    "code": "KKPP-86E0-3E57-YE30-J",
    "reward": "cafe-offert",
    "name": {"fr": "Café offert", "en": "Free coffee"},
    "value": {"kind": "free_product", "product": {"fr": "Un café", "en": "A coffee"}},
    "issued": "2026-12-01T09:00:00.000000Z",
    "expires": "2026-12-31T09:00:00.000000Z",
}
MEMBER = {
    "code": "7K3Q9PXA",
    "display_name": "Camille",
    "balances": {"points": 10, "stamps": 0, "cashback_cents": 0},
    "totals": {"spend_cents": 0, "visits": 1, "purchases": 0},
    "tier": {"name": "Bronze", "next": None, "progress": {}},
}


class Kiosk:
    def __init__(self, tmp: Path) -> None:
        self.outbox = Outbox(tmp / "outbox.sqlite")
        self.cache = MemberCache(tmp / "members.sqlite")
        self.spool = VoucherSpool(tmp / "vouchers.sqlite")
        self.printer = SimulatedPrinter(tmp / "paper")
        self.session = Session(SessionSettings(kiosk="comptoir"), uuid7)
        self.watch, self.loop = ViewWatch(), HeadlessLoop()
        self.presenter = Presenter(
            self.session,
            cache=self.cache,
            spool=self.spool,
            printer=self.printer,
            layout=lambda v: voucher_layout("Boulangerie", v),
            render=self.watch,
            wake=self.loop.wake,
        )
        self.link = HubLink(
            PROV, self.outbox, self.cache, on_reply=self.presenter.on_reply,
            on_state=self.presenter.on_link_state, on_program=self.presenter.on_program,
        )  # fmt: skip
        self.presenter.link = self.link  # never started: requests stay queued in the outbox
        self.thread = threading.Thread(target=self.loop.run, args=(self.presenter.pump,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.loop.stop()
        self.thread.join(5)
        self.presenter.stop()
        self.outbox.close()


@pytest.fixture
def kiosk(tmp_path: Path):
    k = Kiosk(tmp_path)
    yield k
    k.close()


def reply_with_voucher(rid: str) -> dict:
    return {"v": 1, "id": rid, "ok": True, "at": "2026-12-01T09:00:00.000000Z", "member": MEMBER,
            "effects": [], "voucher": VOUCHER}  # fmt: skip


def test_a_tap_is_in_the_outbox_before_anything_else(kiosk: Kiosk):
    kiosk.presenter.post(CardPresented("pcsc:04A1B2C3"))
    assert wait_until(lambda: len(kiosk.outbox) == 1, 5)
    (request,) = kiosk.outbox.pending()
    assert request.type == "tap" and request.card == "pcsc:04A1B2C3" and request.kiosk == "comptoir"


def test_a_voucher_in_a_reply_prints_once_even_if_the_reply_comes_twice(kiosk: Kiosk):
    for _ in range(2):
        kiosk.presenter.post(HubReply(uuid7(), reply_with_voucher(uuid7())))
    assert wait_until(lambda: kiosk.spool.is_printed(VOUCHER["code"]), 5)
    assert wait_until(lambda: kiosk.presenter._printer_worker._jobs.empty(), 5)
    assert kiosk.printer.printed == 1 and len(list((kiosk.printer.out_dir).glob("*.png"))) == 1


def test_paper_out_keeps_the_voucher_and_prints_it_when_paper_is_back(kiosk: Kiosk):
    kiosk.printer.set_state(PrinterState.PAPER_OUT)
    kiosk.presenter.post(HubReply(uuid7(), reply_with_voucher(uuid7())))
    assert wait_until(lambda: [v["code"] for v in kiosk.spool.pending()] == [VOUCHER["code"]], 5)
    assert kiosk.printer.printed == 0
    kiosk.printer.set_state(PrinterState.READY)
    kiosk.presenter._printer_worker.submit(kiosk.presenter._poll_printer)  # the periodic poll, now
    assert wait_until(lambda: kiosk.spool.pending() == [] and kiosk.printer.printed == 1, 5)
    assert kiosk.watch.wait(lambda v: v.staff.printer == "ready", 5)  # the staff screen knows


def test_a_full_disk_is_said_on_screen_and_nothing_is_pretended(kiosk: Kiosk):
    from kiosk.link.outbox import FULL_WORDS

    pages = kiosk.outbox.conn.execute("PRAGMA page_count").fetchone()[0]
    kiosk.outbox.conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLITE_FULL from now on, as a full disk
    full = None
    for n in range(300):  # taps until the last free pages are used up
        kiosk.presenter.post(CardPresented(f"pcsc:{n:08X}"))
        full = kiosk.watch.wait(lambda v: v.message == FULL_WORDS, 0.05)
        if full is not None:
            break
    assert full is not None, "a tap that could not be kept was not said on screen"
    assert full.screen == Screen.MESSAGE and full.member is None
    kept = kiosk.outbox.pending()
    assert len(kept) == len({r.id for r in kept}) and all(r.type == "tap" for r in kept)  # whole rows only
    kiosk.outbox.conn.execute("PRAGMA max_page_count = 1073741823")  # space is back: taps are kept again
    kiosk.presenter.post(CardPresented("pcsc:0A0B0C0D"))
    assert wait_until(lambda: any(r.card == "pcsc:0A0B0C0D" for r in kiosk.outbox.pending()), 5)


# -- the voucher spool when storage or the clock misbehave -------------------------------------------


def voucher(code: str) -> dict:
    return {**VOUCHER, "code": code}


def test_a_voucher_prints_even_when_the_spool_cannot_keep_it(kiosk: Kiosk):
    """The SD card went read-only (ext4 remounts so on errors) or is full: the customer still gets the
    paper, and staff can still reprint it."""
    kiosk.spool.conn.execute("PRAGMA query_only = ON")  # every write now fails, as on a read-only card
    kiosk.presenter.on_reply(uuid7(), reply_with_voucher(uuid7()))
    assert wait_until(lambda: kiosk.printer.printed == 1, 5), "the voucher was not printed"
    kiosk.presenter._printer_worker.submit(kiosk.presenter._reprint_last)  # what staff "reprint" runs
    assert wait_until(lambda: kiosk.printer.printed == 2, 5), "the voucher could not be reprinted"


def test_a_voucher_printed_while_the_disk_fails_is_not_printed_again_by_the_poll(tmp_path: Path):
    k = Kiosk(tmp_path)
    try:
        # the storage fails while the printer works: the print cannot be marked in the spool
        k.printer.on_print = lambda _png: k.spool.conn.execute("PRAGMA query_only = ON")
        k.presenter.on_reply(uuid7(), reply_with_voucher(uuid7()))
        assert wait_until(lambda: k.printer.printed == 1, 5)
        for _ in range(3):  # the periodic poll, three times
            k.presenter._printer_worker.submit(k.presenter._poll_printer)
        assert wait_until(lambda: k.presenter._printer_worker._jobs.empty(), 5)
        done = threading.Event()
        k.presenter._printer_worker.submit(done.set)
        assert done.wait(5)
        assert k.printer.printed == 1, "the same voucher came out of the printer again"
    finally:
        k.close()


def test_the_last_voucher_is_the_last_one_spooled_whatever_the_wall_clock_did(tmp_path: Path, monkeypatch):
    """A Pi has no RTC: after a power cut fake-hwclock restores the time saved up to an hour earlier."""
    import kiosk.hardware.printer as printer_module

    clock = iter([1_800_000_000.0, 1_799_996_400.0])  # the second voucher, after a reboot: an hour "earlier"
    monkeypatch.setattr(printer_module, "time", SimpleNamespace(time=lambda: next(clock)))
    spool = VoucherSpool(tmp_path / "vouchers.sqlite")
    spool.add(voucher("AAAA-AAAA-AAAA-AAAA-A"))
    spool.add(voucher("BBBB-BBBB-BBBB-BBBB-B"))
    assert spool.last()["code"] == "BBBB-BBBB-BBBB-BBBB-B"  # staff "reprint" must not print an older one
    assert [v["code"] for v in spool.pending()] == ["AAAA-AAAA-AAAA-AAAA-A", "BBBB-BBBB-BBBB-BBBB-B"]


# -- with the real broker and hub ----------------------------------------------------------------------


@pytest.fixture
def hub() -> Iterator[HubHarness]:
    with running_hub() as harness:
        yield harness


def test_a_redeemed_voucher_is_on_disk_before_its_request_leaves_the_outbox(hub: HubHarness, tmp_path: Path):
    """A power cut right after the hub's reply is taken must not lose the voucher: once the request is out
    of the outbox (nothing will be resent), the voucher must already be in the spool file, even while the
    printer worker is still busy with a slow printer."""
    card = "pcsc:04AA55AA55AA55"
    pos = hub.kiosk("caisse")
    assert pos.request("enrol", card, {"consents": {"email": False, "sms": False}})["ok"]
    assert pos.request("purchase", card, {"amount_cents": 10_000})["ok"]  # 100 points: a coffee costs 40

    hub.provision("comptoir")
    raw = tomllib.loads((hub.root / "comptoir.toml").read_text(encoding="utf-8"))
    raw["storage"] = {"dir": str(tmp_path / "kiosk")}
    raw["hardware"] = {"readers": [{"kind": "simulated"}], "printer": {"kind": "simulated"}}
    runtime = build_kiosk(parse_kiosk_config(raw, hub.root / "comptoir.toml"))
    watch, loop = ViewWatch(), HeadlessLoop()
    runtime.presenter.render, runtime.presenter.wake = watch, loop.wake
    pump = threading.Thread(target=loop.run, args=(runtime.presenter.pump,), daemon=True)
    busy = threading.Event()
    runtime.start()
    pump.start()
    try:
        assert watch.wait(lambda v: v.online, 15), "the kiosk never came online"
        runtime.simulated_reader.tap(card)
        assert watch.wait(lambda v: v.screen == Screen.WELCOME and v.member is not None, 10)
        runtime.presenter.post(ShowRewards())
        assert watch.wait(lambda v: any(r.id == "cafe-offert" and r.affordable for r in v.rewards), 10)
        runtime.presenter.post(ChooseReward("cafe-offert"))
        assert watch.wait(lambda v: v.screen == Screen.CONFIRM, 5)
        assert wait_until(lambda: len(runtime.outbox) == 0, 5)  # the tap is answered
        runtime.presenter._printer_worker.submit(busy.wait)  # a slow printer keeps the worker busy
        runtime.presenter.post(Confirm())
        assert watch.wait(lambda v: v.screen == Screen.PRINTING, 10), "the hub did not issue the voucher"
        assert wait_until(lambda: len(runtime.outbox) == 0, 5)  # answered: it will never be resent
        on_disk = sqlite3.connect(tmp_path / "kiosk" / "vouchers.sqlite")  # what a power cut leaves now
        try:
            kept = on_disk.execute("SELECT COUNT(*) FROM vouchers").fetchone()[0]
        finally:
            on_disk.close()
        assert kept == 1, "the hub's voucher was only in memory once its request had left the outbox"
        busy.set()
        assert wait_until(lambda: runtime.printer.printed == 1, 10)
    finally:
        busy.set()
        loop.stop()
        pump.join(5)
        runtime.stop()


def test_a_kiosk_whose_voucher_spool_is_unreadable_still_starts(tmp_path: Path):
    """An SD card that tore the spool file must not keep the kiosk from starting (the outbox and the cache
    already recover so): the file is moved aside, kept for staff, and a new spool is started."""
    store = tmp_path / "kiosk"
    store.mkdir()
    (store / "vouchers.sqlite").write_bytes(b"\x00torn by a power cut\x00" * 512)
    raw = {"shop": "shop", "kiosk": "comptoir", "storage": {"dir": str(store)},
           "mqtt": {"host": "127.0.0.1", "port": 1, "username": "kiosk-comptoir", "password": "pw", "tls": False}}  # fmt: skip
    runtime = build_kiosk(parse_kiosk_config(raw))
    try:
        runtime.spool.add(voucher("CCCC-CCCC-CCCC-CCCC-C"))
        assert runtime.spool.last()["code"] == "CCCC-CCCC-CCCC-CCCC-C"
        assert [p.name.startswith("vouchers.sqlite.unreadable-") for p in store.iterdir()].count(True) == 1
    finally:
        runtime.outbox.close()


def test_the_headless_kiosk_tells_systemd_it_is_ready_and_feeds_the_watchdog(tmp_path: Path):
    """fidelio-kiosk.service is Type=notify with a watchdog: the headless loop must feed it itself."""
    import socket

    from kiosk.app import build_kiosk
    from kiosk.config import parse_kiosk_config
    from kiosk.run import run_headless

    sock_path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(sock_path))
    listener.settimeout(5)
    raw = {"shop": "shop", "kiosk": "k1", "storage": {"dir": str(tmp_path / "k")},
           "mqtt": {"host": "127.0.0.1", "port": 1, "username": "u", "password": "p", "tls": False}}  # fmt: skip
    runtime = build_kiosk(parse_kiosk_config(raw))

    def commands():
        messages = []
        while not any("WATCHDOG=1" in m for m in messages):
            messages.append(listener.recv(256).decode())
        # a customer at the kiosk is said to systemd (an update waits for the attract screen), then gone
        yield "tap pcsc:04A1B2C3"
        while not any(m.startswith("STATUS=busy") for m in messages):
            messages.append(listener.recv(256).decode())
        yield "finish"
        while not messages[-1].startswith("STATUS=idle"):
            messages.append(listener.recv(256).decode())
        got.extend(messages)
        yield "quit"

    got: list[str] = []
    env = {"NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "400000"}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        run_headless(runtime, commands(), lambda _s: None)
    listener.close()
    assert any(m.startswith("READY=1") for m in got) and any("WATCHDOG=1" in m for m in got)
    statuses = [m for m in got if m.startswith("STATUS=")]
    assert statuses[0].startswith("STATUS=busy: ") and statuses[-1] == "STATUS=idle: attract screen"
    assert next(m for m in got if m.startswith("READY=1")) == "READY=1\nSTATUS=idle: attract screen"


def test_a_reader_unplugged_reaches_the_staff_screen_and_the_kiosk_status(kiosk: Kiosk):
    """The readers' health is asked at each device poll: the staff screen and the retained status (what
    the hub's kiosks page shows) follow it."""
    reader = PcscReader()  # its health as its loop would set it; not started
    reader.health = "ok"
    kiosk.presenter.readers_state = lambda: readers_state([reader])
    kiosk.presenter.readers_text = lambda: readers_text([reader])
    kiosk.presenter.start_polling(every=0.05)
    assert kiosk.watch.wait(lambda v: v.staff.reader == "ok: pcsc", 5)
    reader.health = "absent"
    shown = kiosk.watch.wait(lambda v: v.staff.reader == "absent: pcsc", 5)
    assert shown is not None and shown.staff.reader_text == Words("débranché (pcsc)", "unplugged (pcsc)")
    assert wait_until(lambda: kiosk.link._devices.get("reader") == "absent: pcsc", 5)
    assert b'"reader":"absent: pcsc"' in kiosk.link._status_payload("online")
