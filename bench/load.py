"""Was the machine ours during the run? CPU used by other processes, from /proc/stat and os.times()."""

from __future__ import annotations

import os
from pathlib import Path


def _machine_busy_seconds() -> float:
    """CPU seconds spent busy by every core since boot (everything but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    """CPU seconds of this process and of its reaped children (the brokers and hubs it started)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class LoadMeter:
    def __init__(self) -> None:
        self.load_at_start = os.getloadavg()
        self._busy, self._own = _machine_busy_seconds(), _own_seconds()
        self.other_seconds = 0.0
        self.machine_seconds = 0.0

    def stop(self) -> None:
        busy = _machine_busy_seconds() - self._busy
        own = _own_seconds() - self._own
        self.other_seconds = max(0.0, busy - own)
        self.machine_seconds = busy

    def summary(self) -> str:
        return f"other processes used {self.other_seconds:.1f} CPU-s meanwhile"

    def report(self) -> None:
        print(f"  load avg   {self.load_at_start[0]:.2f} (1 min) when the run started")
        print(
            f"  others     {self.other_seconds:.1f} CPU-s used by processes this run did not start "
            f"(of {self.machine_seconds:.1f} CPU-s busy in all)"
        )
        if self.other_seconds > 0.05 * max(self.machine_seconds, 1.0):
            print("  WARNING    the machine was shared during this run: figures are pessimistic")
