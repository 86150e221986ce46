"""Benchmark 6: the kiosk's outbox drain — 10,000 queued requests through `kiosk.link.HubLink`.

A kiosk comes back with N requests in its outbox (SQLite, WAL, synchronous=FULL), e.g. after a day with
the hub unreachable. Everything real: the outbox file, Debian's Mosquitto with the generated config (TLS),
the hub as a child process, `HubLink` in this process.
- fill: N `Outbox.add` calls, each fsync'd (what every customer action costs the kiosk).
- drain (new requests): `HubLink.start()` on that outbox with the hub running; the clock starts at
  `start()` (the kiosk's reconnect, TLS handshake included). (a) until the broker has acknowledged
  (PUBACK) every request; (b) until the hub has answered every one and the outbox is empty.
- replay (stored replies): the same N requests put back in the outbox (a kiosk that lost its deletes in a
  crash) and drained again: the hub answers each from its stored reply without applying it, so this shows
  what the link itself can take when the hub is quick.
- broker alone: N new requests drained with the hub stopped, until all PUBACKed ((a) with no hub
  competing for this machine's two cores).
- plain client: N new requests of the same mix from `SimpleHubClient` (no outbox, nothing on disk),
  first publish to last reply: the hub's own pace for this work, the bound of (b).
"""

from __future__ import annotations

import os
import random
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.fixtures import CpuMeter, cards, enrol_direct, running_broker, start_hub
from bench.report import Figure, at_most, percentiles_ms, rate
from fidelio.contract import Request, new_request
from kiosk.link import HubLink, MemberCache, Outbox
from kiosk.provisioning import Provisioning
from kiosk.simple_client import SimpleHubClient
from tests.support import HubHarness

BENCH = "6 kiosk outbox"
WAIT_S = 600.0
TARGET_S = 5.0


@dataclass(frozen=True)
class OutboxConfig:
    requests: int = 10_000
    members: int = 500

    @classmethod
    def quick(cls) -> OutboxConfig:
        return cls(requests=1_000, members=100)


def workload(kiosk: str, tokens: Sequence[str], count: int, seed: int) -> list[Request]:
    """Half taps, half purchases on random members (seeded)."""
    rng = random.Random(seed)
    return [
        new_request("purchase", kiosk, rng.choice(tokens), {"amount_cents": rng.randint(100, 20_000)})
        if rng.random() < 0.5
        else new_request("tap", kiosk, rng.choice(tokens))
        for _ in range(count)
    ]


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = WAIT_S) -> float:
    """Poll every 5 ms; the perf_counter time at which `predicate` first held."""
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"outbox bench: {what} not reached within {timeout:g} s")
        time.sleep(0.005)
    return time.perf_counter()


@dataclass
class Drain:
    acked_s: float  # start() → every request PUBACKed by the broker
    replied_s: float  # start() → every request answered by the hub
    removed_s: float  # start() → the outbox empty
    delete_batches: int
    statuses: int
    unmatched: int
    not_ok: int
    cpu: dict[str, float]


class DrainingKiosk:
    """A HubLink on an outbox, timing its drain."""

    def __init__(self, prov: Provisioning, outbox: Outbox, cache: MemberCache) -> None:
        self.outbox = outbox
        self.all_replied = threading.Event()
        self.replied_at = 0.0
        self.not_ok = 0
        self.link = HubLink(
            prov, outbox, cache, on_reply=self._on_reply, on_state=self._on_state, on_program=lambda _s: None
        )

    def _on_reply(self, _rid: str, reply: dict) -> None:
        if not reply.get("ok"):
            self.not_ok += 1

    def _on_state(self, _online: bool, queue: int) -> None:
        if queue == 0 and not self.all_replied.is_set():
            self.replied_at = time.perf_counter()
            self.all_replied.set()

    def drain(self, pids: dict[str, int]) -> Drain:
        with CpuMeter(pids) as cpu:
            started = time.perf_counter()
            self.link.start()
            acked = wait_for(lambda: self.link.connected and self.link.unacknowledged() == 0, "all PUBACKed")
            if not self.all_replied.wait(WAIT_S):
                raise RuntimeError(f"outbox bench: {self.link.queue} requests never answered")
            removed = wait_for(lambda: len(self.outbox) == 0, "the outbox empty")
        counters = self.link.counters
        result = Drain(
            acked - started, self.replied_at - started, removed - started, counters["delete_batches"],
            counters["status_published"], counters["unmatched_replies"], self.not_ok, cpu.percent(),
        )  # fmt: skip
        self.link.stop()
        return result


def fill(outbox: Outbox, requests: Sequence[Request]) -> list[float]:
    """Add every request (one fsync'd transaction each); the time of each add, in seconds."""
    times = []
    for request in requests:
        started = time.perf_counter()
        outbox.add(request)
        times.append(time.perf_counter() - started)
    return times


def drain_once(
    harness: HubHarness, prov: Provisioning, where: Path, requests: Sequence[Request]
) -> tuple[Drain, list[float]]:
    outbox, cache = Outbox(where / "outbox.sqlite"), MemberCache(where / "cache.sqlite")
    try:
        adds = fill(outbox, requests)
        assert harness.hub_proc is not None and harness.broker.proc is not None
        pids = {
            "kiosk (this process)": os.getpid(),
            "hub": harness.hub_proc.pid,
            "mosquitto": harness.broker.proc.pid,
        }
        result = DrainingKiosk(prov, outbox, cache).drain(pids)
        if result.not_ok:
            raise RuntimeError(f"outbox bench: {result.not_ok} requests refused by the hub")
        return result, adds
    finally:
        outbox.close()
        cache.close()


def acks_only(prov: Provisioning, where: Path, requests: Sequence[Request]) -> float:
    """Seconds from `start()` to every request PUBACKed, with the hub stopped (the broker keeps them for
    its session): the link and the broker alone, no hub competing for this machine's cores."""
    where.mkdir(exist_ok=True)
    outbox, cache = Outbox(where / "outbox.sqlite"), MemberCache(where / "cache.sqlite")
    try:
        fill(outbox, requests)
        link = HubLink(prov, outbox, cache, on_reply=lambda *_: None, on_state=lambda *_: None,
                       on_program=lambda _s: None)  # fmt: skip
        started = time.perf_counter()
        link.start()
        acked = wait_for(lambda: link.connected and link.unacknowledged() == 0, "all PUBACKed")
        link.stop()
        return acked - started
    finally:
        outbox.close()
        cache.close()


def plain_client(client: SimpleHubClient, requests: Sequence[Request]) -> float:
    """Seconds from the first publish to the last reply, no outbox (the hub's pace for this work)."""
    started = time.perf_counter()
    pendings = [client.send(request) for request in requests]
    deadline = started + WAIT_S
    for pending in pendings:
        if not pending.done.wait(max(0.0, deadline - time.perf_counter())):
            raise RuntimeError("outbox bench: the plain client got no reply in time")
        if pending.reply is None or not pending.reply["ok"]:
            raise RuntimeError(f"outbox bench: refused: {pending.reply}")
    return time.perf_counter() - started


def run(quick: bool) -> list[Figure]:
    cfg = OutboxConfig.quick() if quick else OutboxConfig()
    n = cfg.requests
    tokens = cards("6B", cfg.members)
    with running_broker() as harness, tempfile.TemporaryDirectory(prefix="fidelio-outbox-") as tmp:
        enrol_direct(harness.data, tokens)
        probe = SimpleHubClient(harness.provision("probe"))
        probe.connect()
        harness.clients.append(probe)
        start_hub(harness, probe, tokens[0])
        prov = harness.provision("drain")
        requests = workload("drain", tokens, n, seed=6)

        print(f"  drain: {n} requests (half taps, half purchases) added to the outbox, then HubLink.start()")
        first, adds = drain_once(harness, prov, Path(tmp), requests)
        print(f"  replay: the same {n} requests again (the hub answers from its stored replies)")
        replay, _ = drain_once(harness, prov, Path(tmp), requests)
        print(f"  plain client: {n} new requests of the same mix, SimpleHubClient (no outbox)")
        plain = plain_client(probe, workload("probe", tokens, n, seed=7))
        print(f"  broker alone: {n} new requests, HubLink.start() with the hub stopped, until all PUBACKed")
        harness.kill_hub_process(signal.SIGTERM)
        broker_only = acks_only(prov, Path(tmp) / "hub-stopped", workload("drain", tokens, n, seed=8))

    add_ms = percentiles_ms(adds)
    figures = [
        Figure(BENCH, f"outbox add, fsync'd ({n} requests) p50", add_ms["p50"], "ms"),
        Figure(BENCH, f"outbox add, fsync'd ({n} requests) p99", add_ms["p99"], "ms"),
        Figure(BENCH, "outbox add rate", rate(n, sum(adds)), "adds/s"),
        Figure(BENCH, f"(a) start → all {n} PUBACKed by the broker", first.acked_s, "s"),
        Figure(BENCH, "(a) broker acceptance rate", rate(n, first.acked_s), "msg/s"),
        Figure(BENCH, "(a) the same, hub stopped (link + broker alone)", broker_only, "s"),
        Figure(BENCH, f"(b) start → all {n} answered by the hub", first.replied_s, "s"),
        Figure(
            BENCH,
            "(b) start → all answered and the outbox empty",
            first.removed_s,
            "s",
            at_most(TARGET_S, "s"),
        ),
        Figure(BENCH, "(b) drain rate (answered and removed)", rate(n, first.removed_s), "requests/s"),
        Figure(BENCH, f"plain client, no outbox: {n} new requests → last reply", plain, "s"),
        Figure(BENCH, "plain client rate (the hub's pace for this mix)", rate(n, plain), "requests/s"),
        Figure(BENCH, "(b) / plain client", first.removed_s / plain, "x"),
        Figure(BENCH, f"replay of {n} already applied → outbox empty", replay.removed_s, "s"),
        Figure(BENCH, "replay rate (stored replies)", rate(n, replay.removed_s), "requests/s"),
        Figure(BENCH, "(b) outbox delete transactions (one fsync each)", first.delete_batches, "batches"),
        Figure(BENCH, "(b) replies per delete transaction", n / max(1, first.delete_batches), "replies"),
        Figure(BENCH, "(b) retained statuses published during the drain", first.statuses, "statuses"),
        Figure(BENCH, "(b) replies matching nothing (duplicates)", first.unmatched, "replies"),
        *[Figure(BENCH, f"CPU during (b): {name}", pct, "% of a core") for name, pct in first.cpu.items()],
        *[
            Figure(BENCH, f"CPU during replay: {name}", pct, "% of a core")
            for name, pct in replay.cpu.items()
        ],
    ]
    return figures
