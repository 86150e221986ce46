"""Restarting the role's services and telling whether they came up: behind one small interface.

`Systemd` is the device's; the tests, on machines where systemd is not PID 1, use a command per unit
behind the same contract (tests/update_support.py), and the qemu boot (image-build/verify.sh) the real one.
"""

from __future__ import annotations

import subprocess
import time
from typing import Protocol

from fidelio.update.errors import UpdateError


class Services(Protocol):
    def restart(self, unit: str) -> None:
        """Restart and wait until started (READY for Type=notify); UpdateError when it does not start."""

    def run_oneshot(self, unit: str) -> None:
        """Run a oneshot unit to completion (the hub's pre-update backup); UpdateError when it fails."""

    def settled(self, unit: str, seconds: float) -> bool:
        """True when the unit stays up, not restarted, for `seconds`."""

    def busy(self, unit: str) -> str | None:
        """What the unit says it is in the middle of (a customer at the kiosk), or None when a restart
        now interrupts no one."""


#: the kiosk app's sd_notify STATUS= while someone uses it (kiosk/watchdog.py `session_status`)
BUSY_PREFIX = "busy"


def _failed(unit: str, detail: str) -> UpdateError:
    return UpdateError(
        "service_failed",
        f"Le service {unit} ne démarre pas ({detail})",
        f"The service {unit} does not start ({detail})",
    )


class Systemd:
    def __init__(self, systemctl: str = "systemctl", poll_s: float = 2.0, timeout_s: float = 900) -> None:
        self._systemctl = systemctl
        self._poll_s = poll_s
        self._timeout_s = timeout_s

    def _call(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self._systemctl, *args], capture_output=True, text=True, timeout=self._timeout_s, check=False
        )

    def _show(self, unit: str, *props: str) -> dict[str, str]:
        props = props or ("ActiveState", "NRestarts", "MainPID")
        out = self._call("show", unit, *(f"--property={p}" for p in props)).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def _job(self, verb: str, unit: str) -> None:
        """`systemctl restart|start UNIT`: returns once systemd says the job is done (READY, or exited)."""
        try:
            done = self._call(verb, unit)
        except subprocess.TimeoutExpired as exc:
            raise _failed(unit, "timeout") from exc
        if done.returncode != 0:
            # systemctl's own words are two lines of "see journalctl"; the unit's result says it plainly
            shown = self._show(unit, "Result", "ExecMainStatus")
            detail = f"{shown.get('Result', '?')}, exit status {shown.get('ExecMainStatus', '?')}"
            raise _failed(unit, detail)

    def restart(self, unit: str) -> None:
        self._job("restart", unit)

    def run_oneshot(self, unit: str) -> None:
        self._job("start", unit)

    def busy(self, unit: str) -> str | None:
        # systemd keeps a dead unit's last STATUS=: only a running app can be in use
        shown = self._show(unit, "ActiveState", "SubState", "StatusText")
        if (shown.get("ActiveState"), shown.get("SubState")) != ("active", "running"):
            return None
        text = shown.get("StatusText", "")
        return text if text.startswith(BUSY_PREFIX) else None

    def settled(self, unit: str, seconds: float) -> bool:
        first = self._show(unit)
        until = time.monotonic() + seconds
        while True:
            now = self._show(unit)
            if now.get("ActiveState") != "active" or now.get("NRestarts") != first.get("NRestarts"):
                return False
            if now.get("MainPID") != first.get("MainPID"):
                return False
            if time.monotonic() >= until:
                return True
            time.sleep(self._poll_s)
