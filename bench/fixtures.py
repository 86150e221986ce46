"""What several benchmarks share, on top of tests/support.py: a running hub, timed kiosks, enrolled cards,
a fresh ledger on disk, CPU accounting of processes."""

from __future__ import annotations

import contextlib
import gc
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import paho.mqtt.client as mqtt

from fidelio.contract import Request, new_request
from hub.app import demo_program_text, open_ledger
from hub.ledger import Ledger, open_database
from hub.program import load_program
from kiosk.simple_client import SimpleHubClient
from tests.support import HubHarness

NO_CONSENTS = {"email": False, "sms": False}
BATCH = 512  # the hub service's default batch_max


class Pending(Protocol):
    """What SimpleHubClient.send returns: set when the reply arrives."""

    done: threading.Event
    reply: dict[str, Any] | None


class TimedKiosk(SimpleHubClient):
    """A SimpleHubClient that stamps each reply's arrival (perf_counter) before waking its waiter."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.arrived: dict[str, float] = {}

    def _on_message(self, c: mqtt.Client, u: Any, msg: mqtt.MQTTMessage) -> None:
        now = time.perf_counter()
        correlation = getattr(msg.properties, "CorrelationData", None)
        if correlation:
            self.arrived[correlation.decode("utf-8")] = now
        super()._on_message(c, u, msg)


@contextlib.contextmanager
def kiosk_gc_paused() -> Iterator[None]:
    """Pause this process's cyclic GC (the simulated kiosks' process, not the hub's) while timing.

    Ten simulated kiosks share this one interpreter and keep every request's pending reply; its gen-2
    collections (measured: 27, 55, 77 ms, growing with the heap) would show up as latency spikes that
    real kiosks, each its own machine, do not cause. The hub child process keeps its GC as shipped."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def timed_kiosk(harness: HubHarness, name: str) -> TimedKiosk:
    client = TimedKiosk(harness.provision(name))
    client.connect()
    harness.clients.append(client)  # closed with the harness
    return client


@contextlib.contextmanager
def running_broker() -> Iterator[HubHarness]:
    """A fresh hub directory (demo program) and its Mosquitto; everything removed afterwards."""
    harness = HubHarness(shop="bench-shop")
    try:
        harness.start_broker()
        yield harness
    finally:
        harness.close()


def start_hub(harness: HubHarness, probe: SimpleHubClient, card: str) -> None:
    """The hub as a child process (its own interpreter, as on a shop's hub); returns once it answers."""
    harness.start_hub_process()
    reply = probe.call(new_request("tap", probe.prov.kiosk, card), timeout=1, attempts=30)
    if not reply.get("ok"):
        raise RuntimeError(f"hub answered the probe with {reply}")


def cards(prefix: str, count: int) -> list[str]:
    return [f"pcsc:{prefix}{i:06X}" for i in range(count)]


def enrolments(kiosk: str, tokens: Sequence[str]) -> list[Request]:
    return [new_request("enrol", kiosk, card, {"consents": NO_CONSENTS}) for card in tokens]


def apply_in_batches(
    ledger: Ledger, requests: Sequence[Request], batch: int = BATCH, require_ok: bool = True
) -> None:
    for start in range(0, len(requests), batch):
        for applied in ledger.apply_batch(requests[start : start + batch]):
            if require_ok and b'"ok":true' not in applied.reply:
                raise RuntimeError(f"the ledger refused a benchmark request: {applied.reply[:300]!r}")


def enrol_direct(data: Path, tokens: Sequence[str]) -> None:
    """Enrol cards straight into a (stopped) hub's ledger: quicker than through MQTT."""
    ledger = open_ledger(data)
    try:
        apply_in_batches(ledger, enrolments("enrol-desk", tokens))
    finally:
        ledger.db.conn.close()


@contextlib.contextmanager
def fresh_ledger() -> Iterator[Ledger]:
    """A new ledger file with the demo program (WAL, synchronous=FULL, as the hub opens it)."""
    with tempfile.TemporaryDirectory(prefix="fidelio-bench-") as tmp:
        db = open_database(Path(tmp) / "ledger.sqlite", create=True)
        try:
            yield Ledger(db, load_program(demo_program_text(), "demo.toml"))
        finally:
            db.conn.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """`with CpuMeter({"hub": pid, …}) as cpu:` → `cpu.percent()`: % of one core each used in the block."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self._before: dict[str, float] = {}
        self._started = 0.0
        self.used: dict[str, float] = {}
        self.elapsed = 0.0

    def __enter__(self) -> CpuMeter:
        self._before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self._started = time.perf_counter()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.elapsed = time.perf_counter() - self._started
        self.used = {name: cpu_seconds(pid) - self._before[name] for name, pid in self.pids.items()}

    def percent(self) -> dict[str, float]:
        return {name: used / self.elapsed * 100 for name, used in self.used.items()}


def start_together(targets: Sequence[Callable[[], None]]) -> tuple[list[threading.Thread], float]:
    """Start one thread per callable, all released at once; returns the threads and the release time."""
    gate = threading.Barrier(len(targets) + 1)

    def gated(fn: Callable[[], None]) -> None:
        gate.wait()
        fn()

    threads = [threading.Thread(target=gated, args=(fn,), daemon=True) for fn in targets]
    for thread in threads:
        thread.start()
    gate.wait()
    return threads, time.perf_counter()
