"""Receipt printers behind one Protocol, the python-escpos implementation, and the voucher spool.

A voucher is written to the spool (SQLite, synchronous=FULL) before it is sent to the printer and
marked printed only once the printer took it: a torn-off roll, a cover left open or a printer that is
off never loses a voucher — it stays reprintable from the spool.

python-escpos is imported only where an ESC/POS printer is opened (~250 ms: it parses its printer
capabilities at import), never by the simulated printer, the spool or the voucher layout.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from escpos.exceptions import Error as EscposError  # a small module: no capabilities loaded

from kiosk.hardware.voucher_layout import Block

if TYPE_CHECKING:
    from escpos.escpos import Escpos

log = logging.getLogger(__name__)


class PrinterState(Enum):
    READY = "ready"
    PAPER_LOW = "paper_low"
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"  # cover open, error, or not answering
    UNREACHABLE = "unreachable"


STATE_TEXT: dict[PrinterState, tuple[str, str]] = {
    PrinterState.READY: ("Imprimante prête.", "Printer ready."),
    PrinterState.PAPER_LOW: (
        "Rouleau presque fini : prévoyez-en un neuf.",
        "Paper roll nearly out: get a new one ready.",
    ),
    PrinterState.PAPER_OUT: (
        "Plus de papier : remettez un rouleau, le bon sera imprimé ensuite.",
        "Out of paper: load a new roll, the voucher will print then.",
    ),
    PrinterState.OFFLINE: (
        "Imprimante hors ligne (capot ouvert ?) : refermez-la, le bon sera imprimé ensuite.",
        "Printer offline (cover open?): close it, the voucher will print then.",
    ),
    PrinterState.UNREACHABLE: (
        "Imprimante injoignable : vérifiez son câble et son alimentation.",
        "Printer unreachable: check its cable and power.",
    ),
}


class PrinterError(RuntimeError):
    def __init__(self, state: PrinterState, detail: str = "") -> None:
        fr, en = STATE_TEXT[state]
        super().__init__(f"{fr} / {en}" + (f" ({detail})" if detail else ""))
        self.state = state
        self.fr, self.en = fr, en


class ReceiptPrinter(Protocol):
    name: str

    def state(self) -> PrinterState: ...

    def print_blocks(self, blocks: list[Block]) -> None:
        """Print, or raise PrinterError saying why not."""


class EscposReceiptPrinter:
    """Any python-escpos backend (Network port 9100, File, Usb, Serial), opened per job."""

    def __init__(
        self,
        name: str,
        connect: Callable[[], Escpos],
        paper_mm: int = 80,
        answers_status: bool = True,
    ) -> None:
        self.name = name
        self._connect = connect
        self.paper_mm = paper_mm
        self.answers_status = answers_status  # DLE EOT: network/serial/USB yes, a file no

    def _state_of(self, device: Escpos) -> PrinterState:
        if not self.answers_status:
            return PrinterState.READY
        if not device.is_online():
            return PrinterState.OFFLINE
        paper = device.paper_status()
        return {0: PrinterState.PAPER_OUT, 1: PrinterState.PAPER_LOW}.get(paper, PrinterState.READY)

    def _open(self) -> Escpos:
        try:
            device = self._connect()
            device.open(raise_not_found=True)  # python-escpos opens lazily and logs instead of raising
            return device
        except (OSError, EscposError) as exc:
            raise PrinterError(PrinterState.UNREACHABLE, str(exc)) from exc

    def state(self) -> PrinterState:
        try:
            device = self._open()
        except PrinterError as exc:
            return exc.state
        try:
            return self._state_of(device)
        except (OSError, EscposError):
            return PrinterState.UNREACHABLE
        finally:
            device.close()

    def print_blocks(self, blocks: list[Block]) -> None:
        device = self._open()
        try:
            state = self._state_of(device)
            if state not in (PrinterState.READY, PrinterState.PAPER_LOW):
                raise PrinterError(state)
            from kiosk.hardware.escpos_render import render_escpos

            render_escpos(device, blocks, self.paper_mm)
        except (OSError, EscposError) as exc:
            raise PrinterError(PrinterState.UNREACHABLE, str(exc)) from exc
        finally:
            device.close()


class VoucherSpool:
    """Thread-safe (one lock around the one connection): the printer worker prints from it while paho's
    thread keeps the vouchers of the hub's replies. Ordered by insertion, never by the wall clock (a Pi
    has no RTC: after a power cut its time can be an hour behind the last voucher's). A file that is not
    a readable database is renamed aside (kept, logged) and a new spool started: the kiosk still starts."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self.path = Path(path)
        self.set_aside_file: Path | None = None  # where an unreadable spool was moved at open
        try:
            self.conn = self._open()
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorcode", 11) & 0xFF not in (11, 26):  # SQLITE_CORRUPT, SQLITE_NOTADB
                raise  # a full or failing disk: a good file stays where it is
            self.set_aside_file = self.path.with_name(
                f"{self.path.name}.unreadable-{time.strftime('%Y%m%dT%H%M%S')}"
            )
            for suffix in ("", "-wal", "-shm"):
                if Path(f"{self.path}{suffix}").exists():
                    Path(f"{self.path}{suffix}").rename(f"{self.set_aside_file}{suffix}")
            log.error(
                "voucher spool unreadable: moved aside, starting a new one",
                extra={"moved_to": str(self.set_aside_file), "error": str(exc)},
            )
            self.conn = self._open()

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"quick_check: {check}")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS vouchers (code TEXT PRIMARY KEY, voucher TEXT NOT NULL, "
                "added REAL NOT NULL, printed REAL)"
            )
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    def add(self, voucher: dict[str, Any]) -> None:
        with self._lock:
            self.conn.execute(
                "INSERT OR IGNORE INTO vouchers (code, voucher, added) VALUES (?, ?, ?)",
                (voucher["code"], json.dumps(voucher, ensure_ascii=False), time.time()),
            )

    def mark_printed(self, code: str) -> None:
        with self._lock:
            self.conn.execute("UPDATE vouchers SET printed = ? WHERE code = ?", (time.time(), code))

    def is_printed(self, code: str) -> bool:
        with self._lock:
            row = self.conn.execute("SELECT printed FROM vouchers WHERE code = ?", (code,)).fetchone()
        return row is not None and row[0] is not None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self.conn.execute("SELECT voucher FROM vouchers WHERE printed IS NULL ORDER BY rowid")
            return [json.loads(r[0]) for r in rows.fetchall()]

    def last(self) -> dict[str, Any] | None:
        with self._lock:
            row = self.conn.execute("SELECT voucher FROM vouchers ORDER BY rowid DESC LIMIT 1").fetchone()
        return json.loads(row[0]) if row else None


def print_voucher(
    printer: ReceiptPrinter,
    spool: VoucherSpool,
    voucher: dict[str, Any],
    layout: Callable[[dict], list[Block]],
) -> PrinterError | None:
    """Spool, then print. Returns the printer's problem (the voucher stays pending), or None."""
    spool.add(voucher)
    try:
        printer.print_blocks(layout(voucher))
    except PrinterError as exc:
        return exc
    spool.mark_printed(voucher["code"])
    return None
