"""`--profile`: benchmark 2's hub ingest once more with the hub's threads under cProfile (wall clock), to
see what bounds it: the writer thread's time split into waiting for requests, parsing, the ledger (and of
that, the fsync'd commits), paho publish and ack; and how busy paho's network thread is.

The child hub loads bench/profile_site/sitecustomize.py (put on its PYTHONPATH only), which profiles
every thread and writes one pstats file per thread when the hub is stopped with SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import pstats
import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.fixtures import (
    apply_in_batches,
    cards,
    enrol_direct,
    enrolments,
    fresh_ledger,
    kiosk_gc_paused,
    running_broker,
    start_hub,
    timed_kiosk,
)
from bench.ingest import IngestConfig, hub_ingest, purchases, workload
from bench.ledger_costs import commit_ms, function_totals, profile_apply, statement_us
from bench.report import Figure

BENCH = "2c hub profile"
SITE = Path(__file__).resolve().parent / "profile_site"

#: (part of the writer thread's time, file name ends with, function name): cumulative times.
WRITER_PARTS = [
    ("writer: waiting for requests (queue.get)", "queue.py", "get"),
    ("writer: parse + validate (contract, JSON)", "fidelio/contract/messages.py", "parse_request"),
    ("writer: Ledger.apply_batch", "hub/ledger/ledger.py", "apply_batch"),
    ("writer: paho publish (replies, hub/events)", "paho/mqtt/client.py", "publish"),
    ("writer: paho ack (after commit)", "paho/mqtt/client.py", "ack"),
]


@contextlib.contextmanager
def profiled_children(out: Path) -> Iterator[None]:
    """Child processes started inside this block profile their threads into `out`."""
    saved = {key: os.environ.get(key) for key in ("PYTHONPATH", "FIDELIO_BENCH_PROFILE_DIR")}
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(SITE), saved["PYTHONPATH"]) if p)
    os.environ["FIDELIO_BENCH_PROFILE_DIR"] = str(out)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass(frozen=True)
class Baseline:
    """The ledger alone, in this process, for comparison: a commit, and one statement under cProfile."""

    commit_ms: float
    statement_us: float


def baseline(tokens: list[str], requests: int) -> Baseline:
    with fresh_ledger() as ledger:
        commit = commit_ms(ledger)
        apply_in_batches(ledger, enrolments("enrol-desk", tokens))
        sample = purchases("till", tokens, min(requests, 2048), seed=11)
        return Baseline(commit, statement_us(profile_apply(ledger, sample)))


def writer_figures(prof: Path, base: Baseline, requests: int) -> list[Figure]:
    stats = pstats.Stats(str(prof))
    total = function_totals(stats, "hub/service/service.py", "_writer_loop")[2]
    figures = [
        Figure(BENCH, name, function_totals(stats, file_end, fn)[2] / total * 100, "% of writer")
        for name, file_end, fn in WRITER_PARTS
    ]
    batches = function_totals(stats, "hub/ledger/ledger.py", "apply_batch")[0]
    commits = batches * base.commit_ms / 1000 / total * 100
    return [
        *figures,
        Figure(BENCH, "writer: of which fsync'd COMMITs (batches x median)", commits, "% of writer"),
        Figure(BENCH, "writer: group commits (batches)", batches, "batches"),
        Figure(BENCH, "writer: mean requests per batch", requests / max(batches, 1), "requests"),
        Figure(BENCH, "writer: one SQLite statement, in the hub", statement_us(stats), "µs"),
        Figure(BENCH, "  the same statement, ledger alone", base.statement_us, "µs"),
    ]


def network_figures(prof: Path) -> list[Figure]:
    """How much of paho's network thread is spent outside select() (reading, writing, waiting for the GIL)."""
    stats = pstats.Stats(str(prof))
    total = stats.total_tt  # type: ignore[attr-defined]
    idle = function_totals(stats, "~", "<built-in method select.select>")[1]
    return [Figure(BENCH, "paho network thread: busy (not in select)", (total - idle) / total * 100, "%")]


def profiled_ingest(cfg: IngestConfig, tokens: list[str], out: Path) -> float:
    """The ingest of benchmark 2 with a profiled hub; its profiles land in `out`. Returns events/s."""
    names = [f"till-{i}" for i in range(cfg.kiosks)]
    with running_broker() as harness:
        enrol_direct(harness.data, tokens)
        clients = {name: timed_kiosk(harness, name) for name in names}
        with profiled_children(out):
            start_hub(harness, clients[names[0]], tokens[0])
        print(f"  hub ingest under cProfile: {cfg.requests} purchases from {cfg.kiosks} kiosks")
        with kiosk_gc_paused():
            events_per_s = hub_ingest(clients, workload(names, tokens, cfg.requests))
        harness.kill_hub_process(signal.SIGTERM)  # the threads end and write their profiles
    return events_per_s


def run(quick: bool) -> list[Figure]:
    cfg = IngestConfig.quick() if quick else IngestConfig()
    tokens = cards("6F", cfg.members)
    base = baseline(tokens, cfg.requests)
    with tempfile.TemporaryDirectory(prefix="fidelio-prof-") as tmp:
        out = Path(tmp)
        events_per_s = profiled_ingest(cfg, tokens, out)
        figures = [Figure(BENCH, "hub ingest under cProfile", events_per_s, "events/s")]
        figures += writer_figures(out / "ledger-writer.prof", base, cfg.requests)
        for prof in sorted(out.glob("paho-mqtt-client-fidelio-hub-*.prof")):  # not the start-up probe's
            figures += network_figures(prof)
    return figures
