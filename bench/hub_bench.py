"""Run Fidelio's benchmarks and print every figure with its target, then the machine.

    .venv/bin/python -m bench.hub_bench [--quick] [--only latency,ingest,costs,replay,soak] [--profile]

Exit status 1 when the kill -9 soak finds anything lost, doubled or unsound, or a benchmark breaks;
a figure that misses its target is reported as MISS, not an error.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

from bench import hardware, ingest, kiosk_app, latency, ledger_costs, outbox, replay, soak, web_search
from bench.load import LoadMeter
from bench.report import Figure, machine, print_machine, print_table

BENCHES = ("latency", "ingest", "costs", "replay", "soak", "hardware", "outbox", "kiosk", "web")


def _runners(profile: bool) -> dict[str, Callable[[bool], list[Figure]]]:
    runners: dict[str, Callable[[bool], list[Figure]]] = {
        "latency": latency.run,
        "ingest": ingest.run,
        "costs": ledger_costs.run,
        "replay": replay.run,
        "soak": soak.run,
        "hardware": hardware.run,
        "outbox": outbox.run,
        "kiosk": kiosk_app.run,
        "web": web_search.run,
    }
    if profile:
        from bench import hub_profile

        runners["profile"] = hub_profile.run
    return runners


@contextlib.contextmanager
def private_tempdir() -> Iterator[None]:
    """Every temporary hub, broker and ledger of this run under one directory of its own (not /tmp,
    where other tools' clean-ups may sweep `fidelio-*`); removed at the end. Traversable by the
    `mosquitto` user, which the broker becomes once started."""
    root = Path(
        tempfile.mkdtemp(prefix="fidelio-bench-", dir="/var/tmp" if Path("/var/tmp").is_dir() else None)
    )
    root.chmod(0o755)
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"], tempfile.tempdir = str(root), str(root)
    try:
        yield
    finally:
        tempfile.tempdir = None
        if saved is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved
        shutil.rmtree(root, ignore_errors=True)


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench.hub_bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a short smoke run (figures not comparable)")
    p.add_argument("--only", default=",".join(BENCHES), help=f"comma-separated subset of {','.join(BENCHES)}")
    p.add_argument("--profile", action="store_true", help="also profile the hub's threads during an ingest")
    return p.parse_args(argv)


def _run_all(
    runners: dict[str, Callable[[bool], list[Figure]]], chosen: list[str], quick: bool
) -> tuple[list[Figure], list[str]]:
    figures: list[Figure] = []
    failed: list[str] = []
    for name in chosen:
        print(f"[{name}]")
        bench_started, load = time.perf_counter(), LoadMeter()
        try:
            figures += runners[name](quick)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            print(f"[{name}] FAILED")
        load.stop()
        print(f"[{name}] {time.perf_counter() - bench_started:.1f} s; {load.summary()}")
    return figures, failed


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress shows in a pipe
    logging.basicConfig(level=logging.WARNING)
    runners = _runners(args.profile)
    chosen = [name for name in args.only.split(",") if name] + (["profile"] if args.profile else [])
    unknown = [name for name in chosen if name not in runners]
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHES)}", file=sys.stderr
        )
        return 2
    load = LoadMeter()
    started = time.perf_counter()
    with private_tempdir():
        figures, failed = _run_all(runners, chosen, args.quick)
        machine_lines = machine()
    load.stop()
    print(f"\nFigures ({'quick smoke run, not comparable' if args.quick else 'full run'}; "
          f"{time.perf_counter() - started:.0f} s):\n")  # fmt: skip
    print_table(figures)
    print("\nMachine:")
    print_machine(machine_lines)
    load.report()
    if failed:
        print(f"\nFAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
