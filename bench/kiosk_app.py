"""The kiosk app on a screen (Kivy under Debian's Xvfb), against the real hub and broker on loopback:
cold start to the attract screen vs a bare Kivy hello world in the same run, idle CPU and memory on the
attract screen, and tap → welcome screen drawn (simulated reader → outbox → broker → hub → reply → view →
frame on screen)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import tomli_w

from bench.report import Figure, at_most, percentiles_ms
from tests.support import REPO, HubHarness
from tests.xvfb import xvfb_server

BENCH = "6 kiosk app"
CARD = "pcsc:04BE0C0FFEE0"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _spawn(args: list[str], display: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DISPLAY": display}
    return subprocess.Popen(
        [sys.executable, "-m", "bench.kiosk_app_child", *args],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip


def _until(proc: subprocess.Popen[str], word: str) -> str:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == word or line.startswith(word):
            return line
    raise RuntimeError(f"the child ended before {word!r} (exit {proc.wait()})")


def _cold_start(args: list[str], display: str) -> float:
    started = time.perf_counter()
    proc = _spawn(args, display)
    _until(proc, "READY")
    elapsed = time.perf_counter() - started
    proc.kill() if args[0] == "kiosk" else None
    proc.wait(30)
    return elapsed


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _kiosk_config(harness: HubHarness, store: Path) -> Path:
    harness.provision("bench-kiosk")
    path = harness.root / "bench-kiosk.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    raw["storage"] = {"dir": str(store)}
    raw["display"] = {"shop_name": "Boulangerie Martin"}
    path.write_bytes(tomli_w.dumps(raw).encode())
    return path


def run(quick: bool) -> list[Figure]:
    rounds, idle, taps = (2, 5.0, 20) if quick else (5, 20.0, 100)
    harness = HubHarness()
    harness.start_broker()
    harness.start_service()
    try:
        pos = harness.kiosk("bench-pos")
        pos.request("enrol", CARD, {"first_name": "Léa", "consents": {"email": False, "sms": False}})
        with tempfile.TemporaryDirectory() as store, xvfb_server() as display:
            config = _kiosk_config(harness, Path(store))
            hello, app = [], []
            for _ in range(rounds):  # interleaved, so both see the same machine load
                hello.append(_cold_start(["hello"], display))
                app.append(_cold_start(["kiosk", str(config)], display))
            proc = _spawn(
                ["kiosk", str(config), "--idle", str(idle), "--taps", str(taps), "--card", CARD], display
            )
            _until(proc, "READY")
            time.sleep(2)  # connected, first status published
            cpu0, t0 = _cpu_seconds(proc.pid), time.perf_counter()
            time.sleep(idle - 3)
            cpu = (_cpu_seconds(proc.pid) - cpu0) / (time.perf_counter() - t0)
            rss = _rss_mb(proc.pid)
            _until(proc, "IDLE")
            latencies = json.loads(_until(proc, "["))
            proc.wait(30)
    finally:
        harness.close()
    h, a = statistics.median(hello), statistics.median(app)
    tap = percentiles_ms(latencies)
    return [
        Figure(BENCH, f"cold start, bare Kivy hello world (median of {rounds})", h, "s"),
        Figure(BENCH, f"cold start to the attract screen (median of {rounds})", a, "s"),
        Figure(BENCH, "cold start ratio kiosk / hello world", a / h, "×", at_most(1.5, "×")),
        Figure(
            BENCH,
            f"idle CPU on the attract screen ({idle - 3:g} s)",
            cpu * 100,
            "% of a core",
            at_most(1, "%"),
        ),
        Figure(BENCH, "RSS on the attract screen", rss, "MB", at_most(150, "MB")),
        Figure(BENCH, f"tap → welcome drawn, p50 ({len(latencies)} taps)", tap["p50"], "ms"),
        Figure(
            BENCH, f"tap → welcome drawn, p99 ({len(latencies)} taps)", tap["p99"], "ms", at_most(150, "ms")
        ),
    ]
