"""The kiosk app on a screen (Kivy under Debian's Xvfb), against the real hub and broker on loopback, each
figure beside a bare Kivy hello world's measured in the same run: cold start to the attract screen, CPU
and memory on the idle attract screen, a touch on it (X → SDL → Kivy → session → redrawn), and tap →
welcome screen drawn (simulated reader → outbox → broker → hub → reply → view → frame on screen)."""

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
from kiosk.ui.pace import LINGER_SECONDS
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
    proc.kill()
    proc.wait(30)
    return elapsed


def _cpu_seconds(pid: int, tid: int | None = None) -> float:
    """utime + stime of the process (or of one of its threads)."""
    stat = f"/proc/{pid}/task/{tid}/stat" if tid is not None else f"/proc/{pid}/stat"
    fields = Path(stat).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


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


class _Fine(Figure):
    """A figure shown with two decimals (idle CPU is a fraction of a percent)."""

    def formatted(self) -> str:
        return f"{self.value:,.2f} {self.unit}"


def _json_after(proc: subprocess.Popen[str], word: str) -> list[float]:
    """The JSON list on the child's line `WORD [...]` (a `TIMEOUT ...` line first fails the bench)."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("TIMEOUT"):
            raise RuntimeError(f"the kiosk child: {line.strip()}")
        if line.startswith(word + " "):
            return json.loads(line[len(word) + 1 :])
    raise RuntimeError(f"the kiosk child ended before {word!r} (exit {proc.wait()})")


def run(quick: bool) -> list[Figure]:
    rounds, idle, touches, taps = (3, 6.0, 4, 20) if quick else (7, 20.0, 12, 100)
    settle = LINGER_SECONDS + 2  # the kiosk's loop has slowed down, its link is up
    harness = HubHarness()
    harness.start_broker()
    harness.start_service()
    try:
        pos = harness.kiosk("bench-pos")
        pos.request("enrol", CARD, {"first_name": "Léa", "consents": {"email": False, "sms": False}})
        with tempfile.TemporaryDirectory() as store, xvfb_server() as display, xvfb_server() as other:
            config = _kiosk_config(harness, Path(store))
            _cold_start(["kiosk", str(config)], display)  # the first start makes the kiosk's stores
            hello, app = [], []
            for _ in range(rounds):  # interleaved, so both see the same machine load
                hello.append(_cold_start(["hello"], display))
                app.append(_cold_start(["kiosk", str(config)], display))
            # idle side by side, each on its own X server: the same minutes of the same machine
            length = str(settle + idle + 1)
            proc = _spawn(["kiosk", str(config), "--idle", length, "--touches", str(touches),
                           "--taps", str(taps), "--card", CARD], display)  # fmt: skip
            bare = _spawn(["hello", "--idle", length], other)
            _until(proc, "READY")
            _until(bare, "READY")
            time.sleep(settle)
            pids = {"kiosk": proc.pid, "hello": bare.pid}
            cpu0 = {k: (_cpu_seconds(pid), _cpu_seconds(pid, pid)) for k, pid in pids.items()}
            t0 = time.perf_counter()
            time.sleep(idle)
            wall = time.perf_counter() - t0
            cpu = {
                k: (_cpu_seconds(pid) - cpu0[k][0], _cpu_seconds(pid, pid) - cpu0[k][1])
                for k, pid in pids.items()
            }
            rss = {k: _rss_mb(pid) for k, pid in pids.items()}
            _until(bare, "IDLE")
            bare.wait(30)
            _until(proc, "IDLE")
            pressed = _json_after(proc, "TOUCH")
            latencies = _json_after(proc, "TAPS")
            proc.wait(30)
    finally:
        harness.close()
    h, a = statistics.median(hello), statistics.median(app)
    kiosk_cpu, hello_cpu = cpu["kiosk"][0] / wall * 100, cpu["hello"][0] / wall * 100
    touch, tap = percentiles_ms(pressed), percentiles_ms(latencies)
    return [
        Figure(BENCH, f"cold start, bare Kivy hello world (median of {rounds})", h, "s"),
        Figure(BENCH, f"cold start to the attract screen (median of {rounds})", a, "s"),
        Figure(BENCH, "cold start ratio kiosk / hello world", a / h, "x", at_most(1.5, "x")),
        _Fine(BENCH, f"idle CPU, bare Kivy hello world ({idle:g} s)", hello_cpu, "% of a core"),
        _Fine(
            BENCH, f"idle CPU on the attract screen ({idle:g} s)", kiosk_cpu, "% of a core", at_most(1, "%")
        ),
        _Fine(BENCH, "  of which the UI thread", cpu["kiosk"][1] / wall * 100, "% of a core"),
        Figure(BENCH, "RSS, bare Kivy hello world", rss["hello"], "MB"),
        Figure(BENCH, "RSS on the attract screen", rss["kiosk"], "MB", at_most(150, "MB")),
        Figure(BENCH, "RSS kiosk − hello world (the kiosk's own)", rss["kiosk"] - rss["hello"], "MB"),
        Figure(
            BENCH, f"touch on the idle attract screen → redrawn, p50 ({len(pressed)})", touch["p50"], "ms"
        ),
        Figure(
            BENCH, f"touch on the idle attract screen → redrawn, max ({len(pressed)})", touch["max"], "ms"
        ),
        Figure(BENCH, f"tap → welcome drawn, p50 ({len(latencies)} taps)", tap["p50"], "ms"),
        Figure(
            BENCH, f"tap → welcome drawn, p99 ({len(latencies)} taps)", tap["p99"], "ms", at_most(150, "ms")
        ),
    ]
