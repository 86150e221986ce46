"""The presenter with real parts: the pure session, a real outbox (SQLite), the voucher spool, the
simulated printer (real PNGs) and a real, unconnected HubLink. What reaches the screen, and what is kept,
when the printer runs out of paper, a reply comes twice, or the disk is full."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from fidelio.contract import uuid7
from kiosk.hardware.printer import PrinterState, VoucherSpool
from kiosk.hardware.simulated_printer import SimulatedPrinter
from kiosk.hardware.voucher_layout import voucher_layout
from kiosk.headless import HeadlessLoop
from kiosk.link import MemberCache, Outbox
from kiosk.link.hub_link import HubLink
from kiosk.presenter import Presenter
from kiosk.provisioning import Provisioning
from kiosk.run import ViewWatch
from kiosk.session.machine import Session
from kiosk.session.model import CardPresented, HubReply, Screen, SessionSettings
from tests.support import wait_until

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
    view = kiosk.watch.view
    assert view.staff.printer == "ready"


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
