"""What first boot does to the system beyond writing files: the small interface the tests replace."""

from __future__ import annotations

import grp
import pwd
import subprocess
import sys
from pathlib import Path
from typing import Protocol


class Actions(Protocol):
    def set_hostname(self, name: str) -> None: ...

    def enable(self, units: list[str]) -> None: ...

    def disable(self, units: list[str]) -> None: ...

    def start(self, units: list[str]) -> None: ...

    def hub_cli(self, argv: list[str], stdin: str = "") -> tuple[int, str]:
        """Run `fidelio-hub ARGV` (its exit code and output); `stdin` is its standard input."""
        ...

    def ids(self, user: str) -> tuple[int, int]:
        """The uid and gid of a system user."""
        ...

    def ssh_host_keys(self, root: Path) -> None:
        """Make this device's own SSH host keys under `root`/etc/ssh (none is baked into the image)."""
        ...


def _run(argv: list[str]) -> None:
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, timeout=120)


class SystemActions:
    """The real thing, on the appliance (first boot runs as root under systemd)."""

    def set_hostname(self, name: str) -> None:
        _run(["hostnamectl", "set-hostname", name])

    def enable(self, units: list[str]) -> None:
        if units:
            _run(["systemctl", "enable", *units])

    def disable(self, units: list[str]) -> None:
        if units:
            _run(["systemctl", "disable", *units])

    def start(self, units: list[str]) -> None:
        # --no-block: they are ordered after this oneshot, so waiting here would wait for ourselves
        if units:
            _run(["systemctl", "start", "--no-block", *units])

    def hub_cli(self, argv: list[str], stdin: str = "") -> tuple[int, str]:
        done = subprocess.run(
            [sys.executable, "-m", "hub.cli", *argv],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return done.returncode, (done.stdout + done.stderr).strip()

    def ids(self, user: str) -> tuple[int, int]:
        entry = pwd.getpwnam(user)
        return entry.pw_uid, grp.getgrgid(entry.pw_gid).gr_gid

    def ssh_host_keys(self, root: Path) -> None:
        (root / "etc/ssh").mkdir(parents=True, exist_ok=True)
        _run(["ssh-keygen", "-A", "-f", str(root)])
