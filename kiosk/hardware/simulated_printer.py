"""The simulated printer of the demo and the kiosk app (DESIGN §2): the voucher as a PNG for the screen,
and as a file in `out_dir` when one is given. Its state is set by hand (`set_state`), so paper out or a
printer offline can be shown in the demo and the tests: it refuses to print exactly like the real one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from kiosk.hardware.png_render import render_png
from kiosk.hardware.printer import PrinterError, PrinterState
from kiosk.hardware.voucher_layout import Block

PRINTS = (PrinterState.READY, PrinterState.PAPER_LOW)


class SimulatedPrinter:
    def __init__(
        self,
        out_dir: Path | None = None,
        name: str = "simulated",
        on_print: Callable[[bytes], None] | None = None,
    ) -> None:
        self.name = name
        self.out_dir = out_dir
        self.on_print = on_print  # e.g. the UI showing the voucher on screen
        self.last_png: bytes | None = None
        self.last_path: Path | None = None
        self.printed = 0
        self._state = PrinterState.READY
        self._lock = threading.Lock()

    def set_state(self, state: PrinterState) -> None:
        self._state = state

    def state(self) -> PrinterState:
        return self._state

    def print_blocks(self, blocks: list[Block]) -> None:
        state = self._state
        if state not in PRINTS:
            raise PrinterError(state)
        png = render_png(blocks)
        with self._lock:
            self.printed += 1
            if self.out_dir is not None:
                self.out_dir.mkdir(parents=True, exist_ok=True)
                self.last_path = self._free_path()
                self.last_path.write_bytes(png)
            self.last_png = png
        if self.on_print is not None:
            self.on_print(png)

    def _free_path(self) -> Path:
        """The next voucher-NNNNN.png: files of an earlier run are kept, never overwritten."""
        assert self.out_dir is not None
        taken = [int(p.stem[8:]) for p in self.out_dir.glob("voucher-*.png") if p.stem[8:].isdigit()]
        return self.out_dir / f"voucher-{max(taken, default=0) + 1:05d}.png"
