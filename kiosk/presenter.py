"""The presenter: the one place where the session meets the devices, the hub link and the screens.

Threads (every Kivy call stays on the main thread):
- readers, the hub link (paho's network thread) and the workers hand events in with `post()` (any thread);
  a hub reply's vouchers are spooled on paho's thread first, before the link lets the request go;
- `pump()` runs on the main thread (the UI's clock, or the headless loop): it feeds the events to the pure
  session, hands the commands to the workers and redraws the screens from the session's `View`;
- two workers keep slow I/O off the main thread: the *link worker* writes each request to the outbox and
  publishes it (an fsync), the *printer worker* prints, reprints, and polls the printer's state.
Screens never talk to a device: they only receive a `View` (`render`) and send intents (`post`).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from fidelio.contract import Request
from kiosk.hardware.printer import STATE_TEXT, PrinterError, PrinterState, ReceiptPrinter, VoucherSpool
from kiosk.hardware.reader import CardEvent
from kiosk.hardware.voucher_layout import Block
from kiosk.link.outbox import OutboxError
from kiosk.session.machine import Session, reply_vouchers
from kiosk.session.model import (
    CachedMember,
    CardPresented,
    CardRemoved,
    CatalogueChanged,
    Command,
    DevicesChanged,
    Event,
    HubReply,
    LinkChanged,
    PrintFinished,
    PrintVoucher,
    ReprintLast,
    Screen,
    Send,
    SubmitFailed,
    Tick,
    View,
    Words,
)

log = logging.getLogger(__name__)

NO_PRINTER = Words(
    "Pas d'imprimante sur cette borne : le bon est gardé, le personnel peut l'imprimer.",
    "No printer on this kiosk: the voucher is kept, staff can print it.",
)
PRINTER_POLL_SECONDS = 10.0


class LinkPort(Protocol):
    """What the presenter needs of the hub link (kiosk.link.HubLink)."""

    def submit(self, request: Request) -> None: ...

    def set_devices(self, reader: str, printer: str) -> None: ...


class CachePort(Protocol):
    def get(self, card: str) -> CachedMember | None: ...


def _coalesced(events: list[Event]) -> list[Event]:
    """Runs of link-state changes kept to their last one (a drain reports the queue length per reply)."""
    out: list[Event] = []
    for event in events:
        if isinstance(event, LinkChanged) and out and isinstance(out[-1], LinkChanged):
            out[-1] = event
        else:
            out.append(event)
    return out


class _Worker:
    """One thread running jobs in the order they were given."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[], None]) -> None:
        self._jobs.put(job)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            except Exception:  # a worker never dies of one job: it is logged and the next one runs
                log.exception("kiosk worker job failed")

    def stop(self, timeout: float = 5) -> None:
        self._jobs.put(None)
        self._thread.join(timeout)


@dataclass
class PresenterStats:
    events: int = 0
    renders: int = 0
    printed: int = 0
    print_failures: int = 0


class Presenter:
    def __init__(
        self,
        session: Session,
        *,
        cache: CachePort,
        spool: VoucherSpool,
        printer: ReceiptPrinter | None,
        layout: Callable[[dict[str, Any]], list[Block]],
        render: Callable[[View], None] = lambda _view: None,
        wake: Callable[[], None] = lambda: None,
        readers_state: Callable[[], str] = lambda: "none",
        readers_text: Callable[[], tuple[str, str]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self.link: LinkPort | None = None
        self.cache = cache
        self.spool = spool
        self.printer = printer
        self.layout = layout
        self.render = render
        self.wake = wake
        self.clock = clock
        #: told the screen each time it changes (main thread): the watchdog says "busy" to systemd
        self.on_screen: Callable[[Screen], None] = lambda _screen: None
        # asked at each device poll (the readers' own threads set their health): for the status, in words
        self.readers_state = readers_state
        self.readers_text = readers_text
        self.reader_state = readers_state()
        self.stats = PresenterStats()
        self._events: queue.Queue[Event] = queue.Queue()
        self._main_thread: threading.Thread | None = None
        self._last_view: View | None = None
        self._link_worker = _Worker("kiosk-link")
        self._printer_worker = _Worker("kiosk-printer")
        self._poll_stop = threading.Event()
        self._poller: threading.Thread | None = None
        # printer worker only: what this process printed or was given, whatever the spool could record
        self._printed_here: set[str] = set()
        self._last_voucher: dict[str, Any] | None = None

    # -- from any thread ----------------------------------------------------------------------------

    def post(self, event: Event) -> None:
        self._events.put(event)
        self.wake()

    def on_card(self, event: CardEvent) -> None:
        """A reader's callback (its own thread): the cache is read here, off the main thread."""
        if event.kind == "presented":
            try:
                cached = self.cache.get(event.token)
            except Exception:  # a broken cache must not lose the tap
                log.exception("member cache unreadable")
                cached = None
            self.post(CardPresented(event.token, cached))
        else:
            self.post(CardRemoved(event.token))

    def on_reply(self, request_id: str, reply: dict[str, Any]) -> None:
        """Paho's thread, before the link lets the request leave the outbox: the reply's vouchers are
        spooled (fsync'd) first, so that a power cut in between loses neither (they print after it)."""
        for voucher in reply_vouchers(reply):
            self._keep(voucher)
        self.post(HubReply(request_id, reply))

    def on_link_state(self, online: bool, queue_length: int) -> None:
        self.post(LinkChanged(online, queue_length))

    def on_program(self, program: dict[str, Any]) -> None:
        self.post(CatalogueChanged(program))

    # -- main thread --------------------------------------------------------------------------------

    def pump(self) -> View:
        """Feed every waiting event to the session; run its commands; redraw if the view changed."""
        if self._main_thread is None:
            self._main_thread = threading.current_thread()
        assert threading.current_thread() is self._main_thread, "Presenter.pump runs on the main thread only"
        events: list[Event] = []
        while True:
            try:
                events.append(self._events.get_nowait())
            except queue.Empty:
                break
        if not events:
            events.append(Tick())
        for event in _coalesced(events):
            self.stats.events += 1
            for command in self.session.handle(event, self.clock()):
                self._run(command)
        view = self.session.view
        if view != self._last_view:
            if self._last_view is None or view.screen != self._last_view.screen:
                self.on_screen(view.screen)
            self._last_view = view
            self.stats.renders += 1
            self.render(view)
        return view

    def _run(self, command: Command) -> None:
        if isinstance(command, Send):
            request = command.request
            self._link_worker.submit(lambda: self._submit(request))
        elif isinstance(command, PrintVoucher):
            voucher = command.voucher
            self._printer_worker.submit(lambda: self._print(voucher))
        elif isinstance(command, ReprintLast):
            self._printer_worker.submit(self._reprint_last)

    # -- link worker --------------------------------------------------------------------------------

    def _submit(self, request: Request) -> None:
        if self.link is None:
            raise RuntimeError("no hub link attached")
        try:
            self.link.submit(request)
        except OutboxError as exc:  # not kept, so not sent: the person at the screen must know
            log.error("request not kept in the outbox", extra={"id": request.id, "error": exc.detail})
            self.post(SubmitFailed(request.id, exc.words))

    # -- printer worker -----------------------------------------------------------------------------

    def _keep(self, voucher: dict[str, Any]) -> None:
        """Into the spool; a failing disk (full, read-only) is logged and the voucher printed all the same."""
        try:
            self.spool.add(voucher)
        except sqlite3.Error as exc:
            log.error("voucher not kept in the spool", extra={"error": str(exc)})

    def _print(self, voucher: dict[str, Any]) -> None:
        code = voucher["code"]
        if code in self._printed_here or self.spool.is_printed(code):  # a reply given twice prints once
            self.post(PrintFinished(code))
            return
        self._last_voucher = voucher  # for staff "reprint", even if the spool cannot keep it
        self._keep(voucher)  # kept before anything is tried: reprintable whatever happens
        self.post(PrintFinished(code, self._try_print(voucher)))

    def _try_print(self, voucher: dict[str, Any]) -> Words | None:
        if self.printer is None:
            return NO_PRINTER
        try:
            self.printer.print_blocks(self.layout(voucher))
        except PrinterError as exc:
            self.stats.print_failures += 1
            self._report_devices(exc.state)
            return Words(exc.fr, exc.en)
        self._printed_here.add(voucher["code"])  # never again from the spool, even if it cannot be marked
        self.stats.printed += 1
        try:
            self.spool.mark_printed(voucher["code"])
        except sqlite3.Error as exc:
            log.error("printed voucher not marked in the spool", extra={"error": str(exc)})
        return None

    def _reprint_last(self) -> None:
        voucher = self._last_voucher if self._last_voucher is not None else self.spool.last()
        if voucher is not None:
            self.post(PrintFinished(voucher["code"], self._try_print(voucher)))

    def _poll_printer(self) -> None:
        """Report the printer's state; once it is ready again, print what paper-out left pending."""
        state = self.printer.state() if self.printer is not None else None
        self._report_devices(state)
        if state in (PrinterState.READY, PrinterState.PAPER_LOW):
            for voucher in self.spool.pending():
                if voucher["code"] in self._printed_here:
                    continue
                if self._try_print(voucher) is not None:
                    break

    def _report_devices(self, state: PrinterState | None) -> None:
        self.reader_state = self.readers_state()
        printer = state.value if state is not None else "none"
        text = Words(*STATE_TEXT[state]) if state is not None else NO_PRINTER
        reader_text = Words(*self.readers_text()) if self.readers_text is not None else None
        self.post(DevicesChanged(self.reader_state, printer, text, reader_text))
        if self.link is not None:
            self.link.set_devices(self.reader_state, printer)

    # -- lifecycle ----------------------------------------------------------------------------------

    def start_polling(self, every: float = PRINTER_POLL_SECONDS) -> None:
        def loop() -> None:
            while not self._poll_stop.is_set():
                self._printer_worker.submit(self._poll_printer)
                self._poll_stop.wait(every)

        self._poller = threading.Thread(target=loop, name="kiosk-printer-poll", daemon=True)
        self._poller.start()

    def stop(self) -> None:
        self._poll_stop.set()
        self._link_worker.stop()
        self._printer_worker.stop()
