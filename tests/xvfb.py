"""Debian's Xvfb for the UI tests: a real X server on a display number it picks itself (-displayfd), big
enough for every kiosk size, landscape and portrait (1280×1280). Fails, never skips, when Xvfb is
missing: the screens are part of the product."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

XVFB = "/usr/bin/Xvfb"
SCREEN = "1280x1280x24"


@contextmanager
def xvfb_server(timeout: float = 20.0) -> Iterator[str]:
    """Start Xvfb, yield its DISPLAY (":N"), stop it."""
    if not shutil.which(XVFB):
        pytest.fail(f"{XVFB} is missing: run `bash scripts/setup.sh` (Debian's xvfb)", pytrace=False)
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        [XVFB, "-displayfd", str(write_fd), "-screen", "0", SCREEN, "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(write_fd)
    try:
        number = _read_display(read_fd, process, timeout)
        yield f":{number}"
    finally:
        os.close(read_fd)
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _read_display(fd: int, process: subprocess.Popen[bytes], timeout: float) -> int:
    """Xvfb writes the display number and a newline once it accepts clients."""
    data = b""
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], timeout)
        chunk = os.read(fd, 16) if ready else b""
        if not chunk:
            process.kill()
            _, err = process.communicate()
            pytest.fail(
                f"Xvfb did not start within {timeout} s: {err.decode(errors='replace')}", pytrace=False
            )
        data += chunk
    return int(data.strip())


@pytest.fixture(scope="session")
def xvfb_display() -> Iterator[str]:
    """DISPLAY of a running Xvfb, shared by the session's UI tests."""
    with xvfb_server() as display:
        yield display
