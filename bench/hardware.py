"""Kiosk hardware: tap-to-event latency through real pcscd + vsmartcard-vpcd (a virtual card connecting
is the tap), and the time to lay out, render and send one voucher to a network printer on loopback."""

from __future__ import annotations

import os
import subprocess
import threading
import time

from escpos.printer import Network

from bench.report import Figure, percentiles_ms
from hub.codes import new_voucher_code
from kiosk.hardware.pcsc import PcscReader
from kiosk.hardware.printer import EscposReceiptPrinter
from kiosk.hardware.reader import CardEvent
from kiosk.hardware.socket_printer_sim import SocketPrinterSim
from kiosk.hardware.voucher_layout import voucher_layout
from kiosk.hardware.vpcd_card import VirtualCard
from tests.support import PCSC_TEST_READER, Pcscd

BENCH = "5 kiosk hardware"


def _tap_latencies(taps: int) -> list[float]:
    presented = threading.Event()
    seen: list[float] = []

    def on_event(event: CardEvent) -> None:
        if event.kind == "presented":
            seen.append(event.at)
            presented.set()

    reader = PcscReader(reader_pattern=PCSC_TEST_READER, poll_seconds=0.02)
    reader.start(on_event)
    latencies = []
    try:
        time.sleep(0.5)
        for i in range(taps):
            presented.clear()
            started = time.monotonic()
            card = VirtualCard(i.to_bytes(4, "big") + b"\x04\x05\x06")
            if not presented.wait(5):
                raise RuntimeError("a tap was never reported")
            latencies.append(seen[-1] - started)
            card.remove()
            time.sleep(0.15)  # let the reader see the card leave
    finally:
        reader.stop()
    return latencies


def _voucher_times(count: int) -> list[float]:
    sim = SocketPrinterSim()
    printer = EscposReceiptPrinter(
        "bench", lambda: Network("127.0.0.1", sim.port, timeout=5, profile="TM-T88V")
    )
    times = []
    try:
        for _ in range(count):
            voucher = {
                "code": new_voucher_code(os.urandom(10)),
                "name": {"fr": "Café offert", "en": "Free coffee"},
                "value": {"kind": "amount_off", "amount_cents": 500},
                "expires": "2026-12-24T09:15:00.000000Z",
            }
            started = time.perf_counter()
            printer.print_blocks(voucher_layout("Boulangerie Élise", voucher))
            times.append(time.perf_counter() - started)
    finally:
        sim.close()
    return times


def run(quick: bool) -> list[Figure]:
    subprocess.run(["pkill", "-x", "pcscd"], check=False)
    time.sleep(0.5)
    pcscd = Pcscd()
    pcscd.start()
    try:
        taps = _tap_latencies(20 if quick else 100)
    finally:
        pcscd.kill()
    tap = percentiles_ms(taps)
    voucher = percentiles_ms(_voucher_times(10 if quick else 50))
    name = f"tap → event via pcscd + vpcd ({len(taps)} taps)"
    return [
        Figure(BENCH, f"{name} p50", tap["p50"], "ms"),
        Figure(BENCH, f"{name} p99", tap["p99"], "ms"),
        Figure(BENCH, "voucher layout + ESC/POS + send over TCP, p50", voucher["p50"], "ms"),
        Figure(BENCH, "voucher layout + ESC/POS + send over TCP, p99", voucher["p99"], "ms"),
    ]
