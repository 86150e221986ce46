"""Figures, percentiles, the results table and the machine description."""

from __future__ import annotations

import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hub.broker import mosquitto_binary


@dataclass(frozen=True)
class Target:
    """An issue target: `check(value)` says whether a figure meets it; `text` is how the table shows it."""

    text: str
    check: Callable[[float], bool]


def at_most(limit: float, unit: str) -> Target:
    return Target(f"≤ {limit:g} {unit}", lambda value: value <= limit)


def at_least(limit: float, unit: str) -> Target:
    return Target(f"≥ {limit:,g} {unit}", lambda value: value >= limit)


@dataclass(frozen=True)
class Figure:
    bench: str
    name: str
    value: float
    unit: str
    target: Target | None = None

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        return "PASS" if self.target.check(self.value) else "MISS"

    def formatted(self) -> str:
        if self.unit in ("ms", "x", "s"):
            return f"{self.value:,.2f} {self.unit}"
        return f"{self.value:,.0f} {self.unit}"


def percentiles_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p99 and max of latencies given in seconds, in milliseconds."""
    if len(seconds) < 2:
        raise ValueError("need at least two samples")
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return {"p50": cuts[49] * 1000, "p99": cuts[98] * 1000, "max": max(seconds) * 1000}


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def print_table(figures: Sequence[Figure]) -> None:
    rows = [("benchmark", "figure", "value", "target", "")]
    rows += [(f.bench, f.name, f.formatted(), f.target.text if f.target else "", f.verdict) for f in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(widths[j]) for j, cell in enumerate(row)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


def _first_line(path: str, key: str) -> str:
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith(key):
            return line.split(":", 1)[1].strip()
    return "unknown"


def _mosquitto_version() -> str:
    binary = mosquitto_binary()
    if binary is None:
        return "not found"
    out = subprocess.run([binary, "-h"], capture_output=True, text=True, check=False).stdout
    return out.splitlines()[0] if out else "unknown"


def _filesystem(path: str) -> str:
    out = subprocess.run(["df", "-T", path], capture_output=True, text=True, check=False).stdout.splitlines()
    return out[1].split()[1] if len(out) > 1 else "unknown"


def machine() -> dict[str, str]:
    mem_kib = int(_first_line("/proc/meminfo", "MemTotal").split()[0])
    tmp = os.environ.get("TMPDIR", "/tmp")
    return {
        "CPU": _first_line("/proc/cpuinfo", "model name"),
        "cores": str(os.cpu_count()),
        "RAM": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "Python": platform.python_version(),
        "mosquitto": _mosquitto_version(),
        "SQLite": sqlite3.sqlite_version,
        "temp dir": f"{tmp} ({_filesystem(tmp)})",
        "py-spy": shutil.which("py-spy") or "not installed (cProfile used)",
    }


def print_machine(description: dict[str, str]) -> None:
    for key, value in description.items():
        print(f"  {key:<10} {value}")
