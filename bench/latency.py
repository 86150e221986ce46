"""Benchmark 1: a tap's round trip, kiosk (TLS) → Mosquitto → hub (child process) → reply.

- sequential: one kiosk taps one enrolled card, waiting for each reply before the next tap;
  latency = from just before publishing to the moment the caller has the reply.
- paced (open loop): 10 kiosks, each tapping its own card at 20 taps/s on a fixed schedule with a random
  phase; each tap is sent at its scheduled time (or at once, if the sender is late) and its latency is
  measured from the SCHEDULED time to the reply's arrival, so a stall counts for every tap it delays.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

from bench.fixtures import (
    Pending,
    TimedKiosk,
    cards,
    enrol_direct,
    kiosk_gc_paused,
    running_broker,
    start_hub,
    timed_kiosk,
)
from bench.report import Figure, at_most, percentiles_ms, rate
from fidelio.contract import new_request
from kiosk.simple_client import SimpleHubClient
from tests.support import HubHarness

BENCH = "1 tap round trip"
REPLY_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class LatencyConfig:
    sequential_taps: int = 2_000
    warmup_taps: int = 200
    kiosks: int = 10
    taps_per_second: float = 20.0
    seconds: float = 15.0

    @classmethod
    def quick(cls) -> LatencyConfig:
        return cls(sequential_taps=300, warmup_taps=50, seconds=4.0)


def sequential(kiosk: SimpleHubClient, card: str, taps: int) -> list[float]:
    latencies = []
    for _ in range(taps):
        req = new_request("tap", kiosk.prov.kiosk, card)
        start = time.perf_counter()
        reply = kiosk.call(req, timeout=REPLY_TIMEOUT_S, attempts=1)
        latencies.append(time.perf_counter() - start)
        if not reply["ok"]:
            raise RuntimeError(f"tap refused: {reply}")
    return latencies


@dataclass
class PacedKiosk:
    client: TimedKiosk
    card: str
    phase: float
    scheduled: list[tuple[float, str, Pending]]  # (scheduled send time, request id, its reply)

    def run(self, start: float, period: float, count: int) -> None:
        requests = [new_request("tap", self.client.prov.kiosk, self.card) for _ in range(count)]
        for i, req in enumerate(requests):
            due = start + self.phase + i * period
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.scheduled.append((due, req.id, self.client.send(req)))

    def latencies(self, deadline: float) -> tuple[list[float], int]:
        """(latency of every answered tap, number of taps without a reply by `deadline`)."""
        out, missing = [], 0
        for due, rid, pending in self.scheduled:
            if not pending.done.wait(max(0.0, deadline - time.perf_counter())):
                missing += 1
                continue
            assert pending.reply is not None
            if not pending.reply["ok"]:
                raise RuntimeError(f"tap refused: {pending.reply}")
            out.append(self.client.arrived[rid] - due)
        return out, missing


def paced(kiosks: list[PacedKiosk], per_second: float, seconds: float) -> tuple[list[float], int]:
    period = 1.0 / per_second
    count = int(seconds * per_second)
    start = time.perf_counter() + 0.2
    threads = [threading.Thread(target=k.run, args=(start, period, count), daemon=True) for k in kiosks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deadline = time.perf_counter() + REPLY_TIMEOUT_S
    latencies: list[float] = []
    missing = 0
    for kiosk in kiosks:
        got, lost = kiosk.latencies(deadline)
        latencies += got
        missing += lost
    return latencies, missing


def _latency_figures(label: str, latencies: list[float], target_ms: float) -> list[Figure]:
    pct = percentiles_ms(latencies)
    return [
        Figure(BENCH, f"{label} p50", pct["p50"], "ms"),
        Figure(BENCH, f"{label} p99", pct["p99"], "ms", at_most(target_ms, "ms")),
        Figure(BENCH, f"{label} max", pct["max"], "ms"),
    ]


def sequential_phase(harness: HubHarness, card: str, cfg: LatencyConfig) -> tuple[list[float], float]:
    """(latencies, taps/s) of one kiosk tapping `card` again and again, after a warm-up."""
    solo = timed_kiosk(harness, "solo")
    start_hub(harness, solo, card)
    print(f"  sequential: {cfg.warmup_taps} warm-up + {cfg.sequential_taps} taps, 1 kiosk")
    sequential(solo, card, cfg.warmup_taps)
    with kiosk_gc_paused():
        started = time.perf_counter()
        latencies = sequential(solo, card, cfg.sequential_taps)
        return latencies, rate(len(latencies), time.perf_counter() - started)


def paced_phase(harness: HubHarness, tokens: list[str], cfg: LatencyConfig) -> list[float]:
    """Latencies of `cfg.kiosks` kiosks tapping their own card on schedule (the hub already runs)."""
    rng = random.Random(1)
    period = 1.0 / cfg.taps_per_second
    fleet = [
        PacedKiosk(timed_kiosk(harness, f"paced-{i}"), card, rng.uniform(0, period), [])
        for i, card in enumerate(tokens)
    ]
    for kiosk in fleet:  # warm every path (TLS session, member rows) before measuring
        sequential(kiosk.client, kiosk.card, 5)
    print(f"  paced: {cfg.kiosks} kiosks x {cfg.taps_per_second:g} taps/s for {cfg.seconds:g} s")
    with kiosk_gc_paused():
        latencies, missing = paced(fleet, cfg.taps_per_second, cfg.seconds)
    if missing:
        raise RuntimeError(f"{missing} paced taps got no reply within {REPLY_TIMEOUT_S} s")
    return latencies


def run(quick: bool) -> list[Figure]:
    cfg = LatencyConfig.quick() if quick else LatencyConfig()
    tokens = cards("1A", cfg.kiosks + 1)
    with running_broker() as harness:
        enrol_direct(harness.data, tokens)
        seq, seq_rate = sequential_phase(harness, tokens[0], cfg)
        lat = paced_phase(harness, tokens[1:], cfg)
    total = cfg.kiosks * cfg.taps_per_second
    return [
        *_latency_figures(f"sequential ({len(seq)} taps)", seq, 25),
        Figure(BENCH, "sequential taps/s (1 kiosk)", seq_rate, "taps/s"),
        *_latency_figures(f"paced {total:g}/s ({len(lat)} taps)", lat, 50),
    ]
