"""Benchmark 2: durable ingest through the hub, against plain Mosquitto passthrough and the ledger alone.

- hub ingest: 10 TLS kiosks publish N purchase requests (QoS 1) as fast as paho lets them, spread over a
  pool of enrolled members; the hub (child process) applies them in group commits and answers each.
  Time from the first publish to the last reply → events/s.
- passthrough: the same 10 clients publish the same kind of requests (same size, same topics, QoS 1) to
  a plain subscriber logged in with the hub's credentials on the loopback listener, which only counts
  what arrives (the hub is not running then: the broker makes the hub's user name its client id).
  Time from the first publish to the last arrival → messages/s.
- ledger alone: the same enrolments and purchases applied with Ledger.apply_batch in batches of 512 on a
  fresh file (WAL, synchronous=FULL), no MQTT.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from bench.fixtures import (
    CpuMeter,
    Pending,
    apply_in_batches,
    cards,
    enrol_direct,
    enrolments,
    fresh_ledger,
    kiosk_gc_paused,
    running_broker,
    start_hub,
    start_together,
    timed_kiosk,
)
from bench.report import Figure, at_least, rate
from fidelio.contract import Request, Topics, new_request
from fidelio.mqttlink import make_client
from hub.config import HubPaths, load_config
from kiosk.simple_client import SimpleHubClient
from tests.support import HubHarness

BENCH = "2 durable ingest"
WAIT_S = 600.0


@dataclass(frozen=True)
class IngestConfig:
    requests: int = 20_000
    kiosks: int = 10
    members: int = 2_000

    @classmethod
    def quick(cls) -> IngestConfig:
        return cls(requests=3_000, members=500)


def purchases(kiosk: str, tokens: Sequence[str], count: int, seed: int) -> list[Request]:
    rng = random.Random(seed)
    return [
        new_request("purchase", kiosk, rng.choice(tokens), {"amount_cents": rng.randint(100, 20_000)})
        for _ in range(count)
    ]


def workload(kiosks: Sequence[str], tokens: Sequence[str], total: int) -> dict[str, list[Request]]:
    """`total` purchases split evenly over the kiosks (seeded: the same mix in every run)."""
    per_kiosk = total // len(kiosks)
    return {name: purchases(name, tokens, per_kiosk, seed=i) for i, name in enumerate(kiosks)}


class CountingSubscriber:
    """A plain QoS 1 subscriber with the hub's credentials that counts what arrives on the request topics."""

    def __init__(self, harness: HubHarness, expected: int) -> None:
        creds = load_config(HubPaths(harness.data)).mqtt
        self.topic = Topics(harness.shop).all_requests
        self.expected = expected
        self.count = 0
        self.last_arrival = 0.0
        self.all_in = threading.Event()
        self._subscribed = threading.Event()
        self.client = make_client("passthrough-counter", creds.username, creds.password)
        self.client.on_connect = lambda c, *_: c.subscribe(self.topic, qos=1)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", harness.local_port, keepalive=30)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError("the counting subscriber could not subscribe")

    def _on_message(self, _c: mqtt.Client, _u: object, _msg: mqtt.MQTTMessage) -> None:
        self.count += 1  # only paho's network thread runs this
        if self.count == self.expected:
            self.last_arrival = time.perf_counter()
            self.all_in.set()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _publisher(
    client: SimpleHubClient, requests: Sequence[Request], out: list[Pending]
) -> Callable[[], None]:
    """A thread body that publishes every request as fast as paho takes them, keeping their pendings."""

    def publish_all() -> None:
        out.extend(client.send(req) for req in requests)

    return publish_all


def passthrough(
    harness: HubHarness, clients: dict[str, SimpleHubClient], work: dict[str, list[Request]]
) -> float:
    """Messages/s from the first publish to the last arrival at a counting subscriber."""
    total = sum(len(reqs) for reqs in work.values())
    counter = CountingSubscriber(harness, total)
    try:
        _, started = start_together([_publisher(clients[k], work[k], []) for k in work])
        if not counter.all_in.wait(WAIT_S):
            raise RuntimeError(f"passthrough: {counter.count} of {total} messages arrived")
        return rate(total, counter.last_arrival - started)
    finally:
        counter.close()


def hub_ingest(clients: dict[str, SimpleHubClient], work: dict[str, list[Request]]) -> float:
    """Events/s from the first publish to the last reply (every reply must be ok)."""
    pendings: dict[str, list[Pending]] = {k: [] for k in work}
    threads, started = start_together([_publisher(clients[k], work[k], pendings[k]) for k in work])
    for thread in threads:
        thread.join()
    deadline = started + WAIT_S
    for kiosk, waiting in pendings.items():
        for pending in waiting:
            if not pending.done.wait(max(0.0, deadline - time.perf_counter())):
                raise RuntimeError(f"ingest: a purchase from {kiosk} got no reply in {WAIT_S:g} s")
            if pending.reply is None or not pending.reply["ok"]:
                raise RuntimeError(f"ingest: purchase refused: {pending.reply}")
    return rate(sum(len(reqs) for reqs in work.values()), time.perf_counter() - started)


def ledger_alone(tokens: Sequence[str], work: dict[str, list[Request]]) -> float:
    """Events/s of Ledger.apply_batch (batches of 512) on a fresh file, the same members and purchases."""
    requests = [req for reqs in work.values() for req in reqs]
    with fresh_ledger() as ledger:
        apply_in_batches(ledger, enrolments("enrol-desk", tokens))
        started = time.perf_counter()
        apply_in_batches(ledger, requests)
        return rate(len(requests), time.perf_counter() - started)


def run(quick: bool) -> list[Figure]:
    cfg = IngestConfig.quick() if quick else IngestConfig()
    tokens = cards("2B", cfg.members)
    names = [f"till-{i}" for i in range(cfg.kiosks)]
    with running_broker() as harness:
        enrol_direct(harness.data, tokens)
        clients = {name: timed_kiosk(harness, name) for name in names}
        assert harness.broker.proc is not None
        procs = {"kiosks (this process)": os.getpid(), "mosquitto": harness.broker.proc.pid}
        print(f"  passthrough: {cfg.requests} requests from {cfg.kiosks} kiosks to a counting subscriber")
        with kiosk_gc_paused(), CpuMeter(procs) as through_cpu:
            through = passthrough(harness, clients, workload(names, tokens, cfg.requests))
        start_hub(harness, clients[names[0]], tokens[0])
        assert harness.hub_proc is not None
        print(f"  hub ingest: {cfg.requests} purchases from {cfg.kiosks} kiosks over {cfg.members} members")
        with kiosk_gc_paused(), CpuMeter({**procs, "hub": harness.hub_proc.pid}) as ingest_cpu:
            ingest = hub_ingest(clients, workload(names, tokens, cfg.requests))
    print(f"  ledger alone: the same {cfg.requests} purchases, Ledger.apply_batch in batches of 512")
    alone = ledger_alone(tokens, workload(names, tokens, cfg.requests))
    return [
        Figure(
            BENCH, f"hub ingest ({cfg.requests} purchases)", ingest, "events/s", at_least(10_000, "events/s")
        ),
        Figure(BENCH, "mosquitto passthrough (same messages)", through, "msg/s"),
        Figure(BENCH, "ingest / passthrough", ingest / through, "x", at_least(0.5, "x")),
        Figure(BENCH, "ledger alone (apply_batch, 512)", alone, "events/s"),
        *cpu_figures("passthrough", through_cpu),
        *cpu_figures("ingest", ingest_cpu),
    ]


def cpu_figures(phase: str, meter: CpuMeter) -> list[Figure]:
    return [
        Figure(BENCH, f"CPU during {phase}: {name}", pct, "% of a core")
        for name, pct in meter.percent().items()
    ]
